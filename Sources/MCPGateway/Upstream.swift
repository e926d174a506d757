import HTTP
import MCPAuth

/// Where an authorized request goes: the built-in app, a stdio process or an HTTP server. Each keeps its
/// own sessions, so each says whether a presented session belongs to the caller.
protocol Upstream: Sendable {
    /// Whether `session` was opened by this user on this app/env: presented by anyone else or on another
    /// endpoint it is unknown (MCP security best practices: session hijacking).
    func owns(session: String, user: Int64, app: String, env: String) throws -> Bool

    /// Passes the call on and returns the answer; throws `GatewayRefusal` when it cannot.
    func forward(_ call: UpstreamCall) throws -> UpstreamOutcome
}

/// An authorized request on its way to an upstream, with what the upstream needs to know about it.
struct UpstreamCall {
    let request: HTTPRequest
    let message: MCPMessage?
    let principal: Principal
    let credentials: PresentedCredentials
    let app: String
    let env: String
    let environment: AppEnvironment
    let decision: AccessDecision
    /// Narrows every tool list in the answer (nil only for the gateway's own requests).
    let filter: ToolListFilter.Apply?
    let staleTools: StaleToolLists
    /// The MCP revision the request speaks (2026-07-28 requests have no session).
    var revision: ProtocolRevision = .handshake
    /// The trace context sent upstream as `traceparent` (and `tracestate`): the gateway's upstream span, under
    /// the caller's trace when it sent one; nil when tracing is off and the caller sent none.
    var trace: TraceContext?

    /// Whether the call is a tools/list request, whose answer is read whole and narrowed before any of it is sent.
    var listsTools: Bool { message?.method == "tools/list" }

    /// Called when the upstream announces `notifications/tools/list_changed`.
    var toolsChanged: @Sendable () -> Void {
        let (staleTools, app, env) = (self.staleTools, self.app, self.env)
        return { staleTools.mark(app: app, env: env) }
    }
}

/// An upstream's answer, with what its audit row should say instead of the authorization reason (nil: keep it).
struct UpstreamOutcome {
    let response: HTTPResponse
    let status: Int
    let reason: String?
}
