import MCPAuth

/// A finished request as it waits for export: its spans' times and ids, and the few facts its spans are
/// named and described by (no email, token id, client or address: those never go into a span).
/// The exporter's thread turns it into spans.
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
    var spanCount: Int { 1 + spans.intervals.count }

    /// The server span, then its children; `serverAddress` is the public URL's host.
    func traceSpans(serverAddress: String?) -> [TraceSpan] {
        let s = spans
        let name = SpanAttributes.name(self)
        var out = [TraceSpan(trace: s.trace, spanID: s.serverSpanID, parentSpanID: s.parentSpanID, traceState: s.traceState, name: name,
                             kind: .server, start: s.start, end: end,
                             attributes: SpanAttributes.server(self, serverAddress: serverAddress), status: status >= 500 ? .error : .unset)]
        for i in s.intervals {
            let upstream = i.stage == .upstream
            out.append(TraceSpan(trace: s.trace, spanID: upstream ? s.upstreamSpanID : SpanClock.id(), parentSpanID: s.serverSpanID,
                                 traceState: s.traceState, name: upstream ? name : i.stage.name, kind: upstream ? .client : .internal,
                                 start: i.start, end: max(i.start, i.end == 0 ? end : i.end),
                                 attributes: upstream ? SpanAttributes.upstream(self) : [],
                                 status: i.failed || (upstream && status >= 500) ? .error : .unset))
        }
        return out
    }
}
