import MCPAuth

/// A finished request as it waits for export: its spans' times and ids, and the few facts its spans are
/// named and described by (no email, token id, client or address: those never go into a span).
/// The exporter's thread writes its spans (`OTLPJSON.request`).
struct TracedRequest: Sendable {
    let spans: RequestSpans
    /// The JSON-RPC method and tool, capped as in the audit row.
    let method: String?
    let tool: String?
    let app: String?
    let env: String?
    let allowed: Bool
    let status: Int
    let end: UInt64

    init(_ spans: RequestSpans, _ event: AuditEvent, status: Int, end: UInt64) {
        self.spans = spans
        method = event.method
        tool = event.tool
        app = event.app.map { Gateway.capped($0, 128) }
        env = event.env.map { Gateway.capped($0, 128) }
        allowed = event.decision == .allow
        self.status = status
        self.end = end
    }

    /// The server span and one child per stage.
    var spanCount: Int { 1 + spans.stageCount }
}
