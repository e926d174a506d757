import Foundation
import HTTP
import MCPAuth

/// Serves Streamable HTTP clients from stdio MCP servers: a process per MCP session, started on
/// `initialize`, ended on DELETE, idle timeout or crash.
final class StdioUpstream: Sendable {
    private let sessions = Guarded<[String: StdioSession]>([:])
    private let configuration: GatewayConfiguration
    private let log: RequestLog

    init(configuration: GatewayConfiguration, log: RequestLog) {
        self.configuration = configuration
        self.log = log
        let reaper = Thread { [weak self] in
            while let self {
                Thread.sleep(forTimeInterval: 5)
                self.reap()
            }
        }
        reaper.name = "stdio-reaper"
        reaper.start()
    }

    private func reap() {
        let idle = configuration.sessionIdleTimeout
        let dead = sessions.withLock { s -> [StdioSession] in
            let victims = s.values.filter { !$0.isAlive || Date().timeIntervalSince($0.lastUsed) > idle }
            for v in victims { s.removeValue(forKey: v.id) }
            return victims
        }
        for d in dead { d.terminate() }
    }

    func closeAll() {
        let all = sessions.withLock { s -> [StdioSession] in defer { s.removeAll() }; return Array(s.values) }
        for s in all { s.terminate() }
    }

    var count: Int { sessions.withLock { $0.count } }

    struct Outcome {
        let response: HTTPResponse
        let status: Int
        let reason: String?
    }

    /// `filter` narrows a tools/list answer (an answer it cannot take is refused with 502, never passed on);
    /// `toolsChanged` is called when the process announces `notifications/tools/list_changed`.
    /// `timeout` (nil: the server's) bounds the wait for the process's answer; past it the answer is 504.
    func handle(_ request: HTTPRequest, message: MCPMessage?, command: [String], timeout: Double?, principal: Principal, app: String, env: String,
                filter: ToolListFilter.Apply?, toolsChanged: () -> Void) -> Outcome {
        let sessionID = request.headers["Mcp-Session-Id"]
        switch request.method {
        case "GET":
            // No server-initiated stream for stdio sessions; clients then rely on POST responses.
            var h = HTTPHeaders(); h["Allow"] = "POST, DELETE"
            return Outcome(response: HTTPResponse(status: 405, headers: h), status: 405, reason: "no GET stream for stdio upstreams")
        case "DELETE":
            guard let sessionID, let s = session(sessionID, user: principal.userID, app: app, env: env) else {
                return Outcome(response: Gateway.jsonRPCError(status: 404, id: nil, code: -32001, message: "Session not found"), status: 404, reason: "unknown session")
            }
            sessions.withLock { _ = $0.removeValue(forKey: s.id) }
            s.terminate()
            return Outcome(response: HTTPResponse(status: 204), status: 204, reason: nil)
        default: break
        }
        guard let message else { return Outcome(response: HTTPResponse(status: 400), status: 400, reason: "no message") }
        let session: StdioSession
        var newSession = false
        if message.method == "initialize" && sessionID == nil {
            let full = sessions.withLock { $0.count >= configuration.maxStdioSessions }
            if full {
                return Outcome(response: Gateway.jsonRPCError(status: 503, id: message.id, code: -32603, message: "too many upstream sessions"),
                               status: 503, reason: "stdio session limit")
            }
            do {
                session = try StdioSession(id: "stdio-" + Base62.random(count: 24), ownerID: principal.userID, app: app, env: env,
                                           command: command,
                                           limits: .init(maxLine: configuration.maxMessageBytes, stderrPerSecond: configuration.stderrLinesPerSecond),
                                           log: log)
            } catch {
                return Outcome(response: Gateway.jsonRPCError(status: 502, id: message.id, code: -32603, message: "upstream could not be started"),
                               status: 502, reason: "cannot start \(command.first ?? ""): \(error)")
            }
            sessions.withLock { $0[session.id] = session }
            newSession = true
        } else {
            // MCP 2025-11-25 transport: a request without the session id it was given is a bad request;
            // an unknown (ended) session is 404 so the client starts a new one.
            guard let sessionID else {
                return Outcome(response: Gateway.jsonRPCError(status: 400, id: message.id, code: -32600, message: "Mcp-Session-Id header required"),
                               status: 400, reason: "missing session id")
            }
            guard let s = self.session(sessionID, user: principal.userID, app: app, env: env) else {
                return Outcome(response: Gateway.jsonRPCError(status: 404, id: message.id, code: -32001, message: "Session not found"),
                               status: 404, reason: "unknown session")
            }
            session = s
        }
        let unparseableBefore = session.unparseableCount
        do { try session.send(message.json) } catch {
            sessions.withLock { _ = $0.removeValue(forKey: session.id) }
            // A session that ends takes its process with it (one that closed its stdin may still run).
            session.terminate()
            return Outcome(response: Gateway.jsonRPCError(status: 502, id: message.id, code: -32603, message: "upstream process is gone"),
                           status: 502, reason: "stdio write failed")
        }
        var headers = HTTPHeaders()
        headers["Mcp-Session-Id"] = session.id
        if !message.isRequest {
            return Outcome(response: HTTPResponse(status: 202, headers: headers), status: 202, reason: nil)
        }
        let answer = session.awaitResponse(id: message.id ?? .null, timeout: timeout ?? configuration.upstreamTimeout,
                                           unparseableSince: filter == nil ? nil : unparseableBefore)
        var replies = answer.messages
        let failure = answer.failure
        if replies.contains(where: { $0["method"]?.stringValue == ToolListFilter.listChanged }) { toolsChanged() }
        if let refused = StdioUpstream.refusal(failure, session: session, id: message.id) {
            // A session stays usable after one slow call; one that never started, or whose process the
            // gateway ended, goes.
            if newSession || failure != Gateway.upstreamTimeout {
                sessions.withLock { _ = $0.removeValue(forKey: session.id) }
                session.terminate()
            }
            return refused
        }
        if let filter {
            // A tools/list answer that cannot be read or narrowed is refused: passed on unfiltered it could
            // show tools the caller may not call.
            let unusable = failure == StdioSession.unparseableFailure ? failure : nil
            do {
                guard unusable == nil else { throw ToolListFilter.Unusable.unparseable }
                replies = try replies.map(filter)
            } catch {
                return Outcome(response: Gateway.jsonRPCError(status: 502, id: message.id, code: -32603, message: "upstream tool list unusable"),
                               status: 502, reason: "tool list unusable: \(unusable ?? "\(error)")")
            }
        }
        if !session.isAlive {
            sessions.withLock { _ = $0.removeValue(forKey: session.id) }
        }
        let last = replies.last
        let failed = last?["error"] != nil && newSession
        if failed {
            sessions.withLock { _ = $0.removeValue(forKey: session.id) }
            session.terminate()
            headers.remove("Mcp-Session-Id")
        }
        // Tool arguments are never stored: an upstream's error message often quotes the arguments
        // (validation errors do), so the audit reason names only the error code; the client still gets it all.
        let reason = failure ?? last?["error"].map { "upstream error \($0["code"]?.intValue.map(String.init) ?? "?")" }
        if replies.count == 1 {
            headers["Content-Type"] = "application/json"
            return Outcome(response: HTTPResponse(status: 200, headers: headers, body: .bytes(replies[0].bytes)), status: 200, reason: reason)
        }
        headers["Content-Type"] = "text/event-stream"
        var body: [UInt8] = []
        for r in replies { body += SSEEvent(event: "message", data: r.encoded()).encoded() }
        return Outcome(response: HTTPResponse(status: 200, headers: headers, body: .bytes(body)), status: 200, reason: reason)
    }

    /// 504 for a process that did not answer in time (RFC 9110 §15.6.5); 502 for one the gateway ended
    /// because of what it wrote (RFC 9110 §15.6.3); nil otherwise. The JSON-RPC error is in the body.
    static func refusal(_ failure: String?, session: StdioSession, id: JSON?) -> Outcome? {
        guard let failure else { return nil }
        if failure == Gateway.upstreamTimeout {
            return Outcome(response: Gateway.jsonRPCError(status: 504, id: id, code: -32603, message: "upstream did not answer in time"),
                           status: 504, reason: failure)
        }
        guard session.endedByGateway else { return nil }
        return Outcome(response: Gateway.jsonRPCError(status: 502, id: id, code: -32603, message: failure), status: 502, reason: failure)
    }

    /// The live session `id` if `user` opened it on app/env; nil otherwise, so that a session id seen or
    /// guessed by someone else, or presented on another endpoint, is an unknown session (MCP security
    /// best practices: session hijacking).
    func session(_ id: String, user: Int64, app: String, env: String) -> StdioSession? {
        sessions.withLock { s in
            guard let found = s[id], found.belongs(to: user, app: app, env: env), found.isAlive else { return nil }
            return found
        }
    }
}
