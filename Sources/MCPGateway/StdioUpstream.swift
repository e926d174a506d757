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

    typealias Outcome = UpstreamOutcome

    /// `filter` narrows every tool list among the replies (one it cannot take is refused with 502, never passed on);
    /// `toolsChanged` is called when the process announces `notifications/tools/list_changed`.
    /// `timeout` (nil: the server's) bounds the wait for the process's answer; past it the answer is 504.
    func handle(_ request: HTTPRequest, message: MCPMessage?, command: [String], timeout: Double?, principal: Principal, app: String, env: String,
                filter: ToolListFilter.Apply?, toolsChanged: () -> Void, variables: [(name: String, value: String)] = []) -> Outcome {
        switch request.method {
        case "GET":
            // No server-initiated stream for stdio sessions; clients then rely on POST responses.
            var h = HTTPHeaders(); h["Allow"] = "POST, DELETE"
            return Outcome(response: HTTPResponse(status: 405, headers: h), status: 405, reason: "no GET stream for stdio upstreams")
        case "DELETE":
            return end(request.headers["Mcp-Session-Id"], user: principal.userID, app: app, env: env)
        default: break
        }
        guard let message else { return Outcome(response: HTTPResponse(status: 400), status: 400, reason: "no message") }
        let opened: (session: StdioSession, isNew: Bool)
        switch open(request, message: message, command: command, user: principal.userID, app: app, env: env, variables: variables) {
        case .success(let found): opened = found
        case .failure(let refusal): return refusal.outcome
        }
        return exchange(message, in: opened.session, isNew: opened.isNew, timeout: timeout, filter: filter, toolsChanged: toolsChanged)
    }

    /// A stdio answer other than the process's reply, as an error value for `Result`.
    struct Refusal: Error { let outcome: Outcome }

    /// DELETE: ends the caller's session and its process.
    private func end(_ sessionID: String?, user: Int64, app: String, env: String) -> Outcome {
        guard let sessionID, let s = session(sessionID, user: user, app: app, env: env) else {
            return Outcome(response: Gateway.jsonRPCError(status: 404, id: nil, code: -32001, message: "Session not found"), status: 404, reason: "unknown session")
        }
        discard(s)
        return Outcome(response: HTTPResponse(status: 204), status: 204, reason: nil)
    }

    /// The session a message goes to: a new process for `initialize` without a session id, else the
    /// caller's live session.
    private func open(_ request: HTTPRequest, message: MCPMessage, command: [String], user: Int64, app: String,
                      env: String, variables: [(name: String, value: String)]) -> Result<(session: StdioSession, isNew: Bool), Refusal> {
        let sessionID = request.headers["Mcp-Session-Id"]
        if message.method == "initialize" && sessionID == nil {
            return start(command, id: message.id, user: user, app: app, env: env, variables: variables).map { ($0, true) }
        }
        // MCP 2025-11-25 transport: a request without the session id it was given is a bad request;
        // an unknown (ended) session is 404 so the client starts a new one.
        guard let sessionID else {
            return .failure(Refusal(outcome: Outcome(response: Gateway.jsonRPCError(status: 400, id: message.id, code: -32600, message: "Mcp-Session-Id header required"),
                                                     status: 400, reason: "missing session id")))
        }
        guard let s = session(sessionID, user: user, app: app, env: env) else {
            return .failure(Refusal(outcome: Outcome(response: Gateway.jsonRPCError(status: 404, id: message.id, code: -32001, message: "Session not found"),
                                                     status: 404, reason: "unknown session")))
        }
        return .success((s, false))
    }

    /// Starts a process for a new session, within the limit on sessions.
    private func start(_ command: [String], id: JSON?, user: Int64, app: String, env: String,
                       variables: [(name: String, value: String)]) -> Result<StdioSession, Refusal> {
        let full = sessions.withLock { $0.count >= configuration.maxStdioSessions }
        if full {
            return .failure(Refusal(outcome: Outcome(response: Gateway.jsonRPCError(status: 503, id: id, code: -32603, message: "too many upstream sessions"),
                                                     status: 503, reason: "stdio session limit")))
        }
        do {
            let session = try StdioSession(id: "stdio-" + Base62.random(count: 24), ownerID: user, app: app, env: env, command: command,
                                           limits: .init(maxLine: configuration.maxMessageBytes, stderrPerSecond: configuration.stderrLinesPerSecond),
                                           log: log, environment: StdioSession.environment(inheriting: ProcessInfo.processInfo.environment, variables))
            sessions.withLock { $0[session.id] = session }
            return .success(session)
        } catch {
            return .failure(Refusal(outcome: Outcome(response: Gateway.jsonRPCError(status: 502, id: id, code: -32603, message: "upstream could not be started"),
                                                     status: 502, reason: "cannot start \(command.first ?? ""): \(error)")))
        }
    }

    /// Writes `message` to the process and, for a request, waits for its answer.
    private func exchange(_ message: MCPMessage, in session: StdioSession, isNew: Bool, timeout: Double?, filter: ToolListFilter.Apply?,
                          toolsChanged: () -> Void) -> Outcome {
        let unparseableBefore = session.unparseableCount
        do { try session.send(message.json) } catch {
            // A session that ends takes its process with it (one that closed its stdin may still run).
            discard(session)
            return Outcome(response: Gateway.jsonRPCError(status: 502, id: message.id, code: -32603, message: "upstream process is gone"),
                           status: 502, reason: "stdio write failed")
        }
        guard message.isRequest else {
            var headers = HTTPHeaders()
            headers["Mcp-Session-Id"] = session.id
            return Outcome(response: HTTPResponse(status: 202, headers: headers), status: 202, reason: nil)
        }
        // A line that was not JSON during a tools/list request may have been the list: refused, not dropped.
        let listsTools = message.method == "tools/list"
        let answer = session.awaitResponse(id: message.id ?? .null, timeout: timeout ?? configuration.upstreamTimeout,
                                           unparseableSince: filter == nil || !listsTools ? nil : unparseableBefore)
        if answer.messages.contains(where: { $0["method"]?.stringValue == ToolListFilter.listChanged }) { toolsChanged() }
        if let refused = StdioUpstream.refusal(answer.failure, session: session, id: message.id) {
            // A session stays usable after one slow call; one that never started, or whose process the
            // gateway ended, goes.
            if isNew || answer.failure != Gateway.upstreamTimeout { discard(session) }
            return refused
        }
        switch StdioUpstream.narrowed(answer.messages, failure: answer.failure, filter: filter, id: message.id) {
        case .failure(let refusal): return refusal.outcome
        case .success(let replies): return reply(replies, failure: answer.failure, session: session, isNew: isNew)
        }
    }

    /// Every reply is narrowed (a tool list may come as the answer to any request, or among the messages
    /// before it); one that cannot be read or narrowed is refused: passed on unfiltered it could show
    /// tools the caller may not call.
    private static func narrowed(_ replies: [JSON], failure: String?, filter: ToolListFilter.Apply?, id: JSON?) -> Result<[JSON], Refusal> {
        guard let filter else { return .success(replies) }
        let unusable = failure == StdioSession.unparseableFailure ? failure : nil
        do {
            guard unusable == nil else { throw ToolListFilter.Unusable.unparseable }
            return .success(try replies.map(filter))
        } catch {
            return .failure(Refusal(outcome: Outcome(response: Gateway.jsonRPCError(status: 502, id: id, code: -32603, message: "upstream tool list unusable"),
                                                     status: 502, reason: "tool list unusable: \(unusable ?? "\(error)")")))
        }
    }

    /// The process's replies as one JSON answer or an event stream; a new session whose first answer is
    /// an error ends with it.
    private func reply(_ replies: [JSON], failure: String?, session: StdioSession, isNew: Bool) -> Outcome {
        if !session.isAlive {
            sessions.withLock { _ = $0.removeValue(forKey: session.id) }
        }
        var headers = HTTPHeaders()
        headers["Mcp-Session-Id"] = session.id
        let last = replies.last
        if last?["error"] != nil && isNew {
            discard(session)
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

    /// Forgets a session and ends its process.
    private func discard(_ session: StdioSession) {
        sessions.withLock { _ = $0.removeValue(forKey: session.id) }
        session.terminate()
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

extension StdioUpstream: Upstream {
    func owns(session id: String, user: Int64, app: String, env: String) throws -> Bool {
        session(id, user: user, app: app, env: env) != nil
    }

    func forward(_ call: UpstreamCall) throws -> UpstreamOutcome {
        // Only a request that may start a process needs the environment's variables resolved.
        let starts = call.message?.method == "initialize" && call.request.headers["Mcp-Session-Id"] == nil
        let variables = starts ? try configuration.upstreamCredentials.require(call.environment, kind: .environmentVariable, id: call.message?.id) : []
        return handle(call.request, message: call.message, command: call.environment.command ?? [], timeout: call.environment.timeoutSeconds,
                      principal: call.principal, app: call.app, env: call.env, filter: call.filter, toolsChanged: call.toolsChanged,
                      variables: variables)
    }
}
