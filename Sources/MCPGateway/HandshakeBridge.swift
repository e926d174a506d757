import Foundation
import HTTP
import MCPAuth

/// A 2026-07-28 client in front of an upstream that speaks only the `initialize` handshake: the gateway
/// answers `server/discover` itself, holds an upstream session for the caller (opened with `initialize`,
/// kept in `UpstreamSessionPool`), and sends each request there without the per-request envelope.
extension Gateway {
    /// Serves a 2026-07-28 request from a handshake-era upstream.
    func bridged(_ call: UpstreamCall, to upstream: any Upstream) throws -> UpstreamOutcome {
        guard call.request.method == "POST", let message = call.message else {
            // MCP 2026-07-28 transport: a single POST per request; no GET stream, no DELETE.
            var h = HTTPHeaders(); h["Allow"] = "POST"
            return UpstreamOutcome(response: HTTPResponse(status: 405, headers: h), status: 405, reason: nil)
        }
        // MCP 2026-07-28: the core protocol defines no client-to-server notifications; accepted and dropped.
        guard message.isRequest else { return UpstreamOutcome(response: HTTPResponse(status: 202), status: 202, reason: nil) }
        let key = UpstreamSessionPool.Key(user: call.principal.userID, app: call.app, env: call.env)
        var session = try upstreamSession(key, call, upstream)
        if message.method == "server/discover" {
            return UpstreamOutcome(response: .json(DiscoverAnswer.response(id: message.id, fromInitialize: session.initializeResult).bytes),
                                   status: 200, reason: nil)
        }
        var outcome = try upstream.forward(legacyCall(call, session: session))
        if outcome.status == 404 {
            _ = ResponseBody.bytes(outcome.response)
            // MCP 2025-11-25 transport: 404 means the session ended (idle, restarted); open a new one once.
            sessions.drop(key, id: session.id)
            session = try upstreamSession(key, call, upstream)
            outcome = try upstream.forward(legacyCall(call, session: session))
        }
        var response = outcome.response
        // The upstream session is the gateway's, not the client's: 2026-07-28 has none.
        response.headers.remove("Mcp-Session-Id")
        response.headers.remove("MCP-Protocol-Version")
        return UpstreamOutcome(response: response, status: outcome.status, reason: outcome.reason)
    }

    /// The caller's session with this upstream, opened when there is none.
    func upstreamSession(_ key: UpstreamSessionPool.Key, _ call: UpstreamCall, _ upstream: any Upstream) throws -> UpstreamSessionPool.Session {
        try sessions.session(key) { try openSession(call, upstream) }
    }

    /// MCP 2025-11-25 lifecycle: `initialize`, then `notifications/initialized`, on the gateway's account.
    private func openSession(_ call: UpstreamCall, _ upstream: any Upstream) throws -> UpstreamSessionPool.Session {
        // One id is enough: each initialize opens a session of its own (JSON-RPC ids are unique per session).
        let id: JSON = "mcpctl-initialize"
        let clientInfo = call.message?.meta?[ProtocolRevision.clientInfoKey]
        let initialize: JSON = .object([("jsonrpc", "2.0"), ("id", id), ("method", "initialize"), ("params", .object([
            ("protocolVersion", .string(ProtocolRevision.latestHandshake)),
            // No client capabilities: a 2026-07-28 client has no back-channel for server-to-client requests.
            ("capabilities", .object([])),
            ("clientInfo", clientInfo?.objectValue != nil ? clientInfo! : .object([("name", "mcpctl-gateway"), ("version", "1")])),
        ]))])
        let opened = try upstream.forward(internalCall(call, initialize, headers: [:]))
        let answer = ResponseBody.answer(opened.response, id: id)
        // The upstream's own refusal (too many sessions, a timeout, unreachable) is the caller's answer.
        if opened.status >= 400 { throw GatewayRefusal(response: opened.response, reason: opened.reason ?? "upstream initialize failed") }
        guard let sessionID = opened.response.headers["Mcp-Session-Id"], (200..<300).contains(opened.status),
              let result = answer?["result"], result.objectValue != nil else {
            throw GatewayRefusal.jsonRPC(502, id: call.message?.id, code: -32603, "upstream session could not be opened",
                                         reason: "upstream initialize failed (HTTP \(opened.status))")
        }
        let version = result["protocolVersion"]?.stringValue ?? ProtocolRevision.latestHandshake
        let headers = ["Mcp-Session-Id": sessionID, "MCP-Protocol-Version": version]
        let initialized: JSON = .object([("jsonrpc", "2.0"), ("method", "notifications/initialized")])
        if let sent = try? upstream.forward(internalCall(call, initialized, headers: headers)) { _ = ResponseBody.bytes(sent.response) }
        let close = sessionCloser(call, upstream: upstream, headers: headers)
        return UpstreamSessionPool.Session(id: sessionID, initializeResult: result, close: close)
    }

    /// Ends a pooled session: DELETE on HTTP (MCP 2025-11-25 transport, session management), or the process.
    private func sessionCloser(_ call: UpstreamCall, upstream: any Upstream, headers: [String: String]) -> @Sendable () -> Void {
        let (environment, principal, app, env) = (call.environment, call.principal, call.app, call.env)
        let http = self.http, stdio = self.stdio, credentials = configuration.upstreamCredentials
        var h = HTTPHeaders()
        for (name, value) in headers { h[name] = value }
        let delete = HTTPRequest(method: "DELETE", target: "/", headers: h)
        let sessionID = headers["Mcp-Session-Id"] ?? ""
        return {
            if let command = environment.command {
                _ = stdio.handle(delete, message: nil, command: command, timeout: environment.timeoutSeconds, principal: principal,
                                 app: app, env: env, filter: nil, toolsChanged: {})
            } else if let url = environment.upstreamURL {
                // The environment's own credentials (`--upstream-header`) go along: an upstream that
                // requires them would refuse the DELETE and keep the session open.
                let upstreamHeaders = (try? credentials.resolved(environment, kind: .header)) ?? []
                _ = ResponseBody.bytes(http.forward(delete, to: url, timeout: environment.timeoutSeconds, filter: nil,
                                                   upstreamHeaders: upstreamHeaders).response)
                try? http.owners.remove(sessionID, app: app, env: env)
            }
        }
    }

    /// A message of the gateway's own, sent like `call` (same caller and upstream, no trace) with `headers`.
    private func internalCall(_ call: UpstreamCall, _ message: JSON, headers: [String: String]) -> UpstreamCall {
        var h = HTTPHeaders()
        h["Content-Type"] = "application/json"
        h["Accept"] = "application/json, text/event-stream"
        h["Mcp-Method"] = message["method"]?.stringValue
        for (name, value) in headers { h[name] = value }
        let request = HTTPRequest(method: "POST", target: call.request.target, headers: h, body: message.bytes,
                                  remoteAddress: call.request.remoteAddress)
        return UpstreamCall(request: request, message: MCPMessage(json: message), principal: call.principal, credentials: call.credentials,
                            app: call.app, env: call.env, environment: call.environment, decision: call.decision, filter: nil,
                            staleTools: call.staleTools, revision: .handshake, trace: nil)  // the session's own messages carry no trace
    }

    /// `call` as a request within the handshake-era session: the session's headers replace the 2026-07-28
    /// ones; the body goes as sent (MCP 2025-11-25 basic: `_meta` keys a receiver does not know are
    /// ignored, so the envelope's keys do no harm, and the bytes need not be encoded again).
    private func legacyCall(_ call: UpstreamCall, session: UpstreamSessionPool.Session) -> UpstreamCall {
        var h = HTTPHeaders()
        h["Content-Type"] = "application/json"
        h["Accept"] = "application/json, text/event-stream"
        h["Mcp-Session-Id"] = session.id
        h["MCP-Protocol-Version"] = session.protocolVersion
        // The trace goes along as the call's own (`UpstreamCall.trace`), never from the caller's headers.
        if let value = call.request.headers["Last-Event-ID"] { h["Last-Event-ID"] = value }
        let request = HTTPRequest(method: "POST", target: call.request.target, headers: h, body: call.request.body,
                                  remoteAddress: call.request.remoteAddress)
        return UpstreamCall(request: request, message: call.message, principal: call.principal, credentials: call.credentials,
                            app: call.app, env: call.env, environment: call.environment, decision: call.decision, filter: call.filter,
                            staleTools: call.staleTools, revision: .handshake, trace: call.trace)
    }
}
