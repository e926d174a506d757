import HTTP
import MCPAuth

/// Which way an authorized request goes, by MCP revision: a 2025-11-25 request, and a 2026-07-28 one to an
/// upstream of that revision, pass through; a 2026-07-28 request to a handshake-era upstream (stdio
/// always, HTTP when its `server/discover` probe says so) is served through the gateway's own session.
extension Gateway {
    /// The authorized request as it goes upstream: without a session id when it is a 2026-07-28 request,
    /// and carrying the gateway's span when the caller sent a trace (`traced`: the upstream call's span, when tracing).
    func upstreamCall(_ request: HTTPRequest, envelope: Envelope, principal: Principal, credentials: PresentedCredentials,
                      app: String, env: String, environment: AppEnvironment, decision: AccessDecision, trace traced: TraceContext? = nil) -> UpstreamCall {
        let trace = traced ?? TraceContext.child(of: request.headers, envelope.message)
        var outbound = request
        var message = envelope.message
        // Headers are removed only when present: a removal copies them.
        if envelope.revision.isModern, outbound.headers.contains("Mcp-Session-Id") { outbound.headers.remove("Mcp-Session-Id") }
        // The caller's `traceparent` and `tracestate` headers are never forwarded: an HTTP upstream gets
        // `trace` (only a valid trace goes on, and always under the gateway's own span) from `HTTPUpstream`.
        // In `_meta` for 2026-07-28 requests, for stdio (which has no headers), and wherever the caller put it.
        if let trace, let m = message, envelope.revision.isModern || environment.command != nil || m.meta?["traceparent"] != nil {
            let stamped = trace.stamped(m.json)
            message = MCPMessage(json: stamped)
            outbound.body = stamped.bytes
        }
        return UpstreamCall(request: outbound, message: message, principal: principal, credentials: credentials, app: app, env: env,
                            environment: environment, decision: decision,
                            filter: toolListFilter(message: message, app: app, env: env, effective: decision.effective, revision: envelope.revision),
                            staleTools: staleTools, revision: envelope.revision, trace: trace)
    }

    /// Forwards `call` the way its revision and its upstream's need; a narrowed list is marked private.
    func route(_ call: UpstreamCall) throws -> UpstreamOutcome {
        let upstream = upstream(for: call.environment)
        let standsIn = call.environment.isBuiltIn || bridges(call)
        var outcome = try call.revision.isModern && !call.environment.isBuiltIn && standsIn ? bridged(call, to: upstream) : upstream.forward(call)
        if call.revision.isModern && standsIn {
            outcome = UpstreamOutcome(response: ResultTypeStamp.stamped(outcome.response), status: outcome.status, reason: outcome.reason)
        }
        return Gateway.privateIfToolList(call, outcome)
    }

    /// Whether `call` can be routed without holding a thread while its upstream works: an HTTP upstream
    /// known to serve the call's revision itself (the gateway stands in for no one). Asks nothing upstream:
    /// an upstream whose revision is not known now is probed by `route(_:)`, off the loop.
    func routesWithoutWaiting(_ call: UpstreamCall) -> Bool {
        guard !call.environment.isBuiltIn, call.environment.command == nil, let url = call.environment.upstreamURL else { return false }
        return !call.revision.isModern || eras.known(url) == true
    }

    /// `route(_:)` for a call that `routesWithoutWaiting`: `then` gets the outcome or the refusal.
    func route(_ call: UpstreamCall, then: @escaping @Sendable (Result<UpstreamOutcome, any Error>) -> Void) {
        http.forward(call) { result in then(result.map { Gateway.privateIfToolList(call, $0) }) }
    }

    /// A narrowed tool list is marked private for caching.
    static func privateIfToolList(_ call: UpstreamCall, _ outcome: UpstreamOutcome) -> UpstreamOutcome {
        guard call.listsTools, outcome.status < 300 else { return outcome }
        var response = outcome.response
        CacheHints.markPrivate(&response)
        return UpstreamOutcome(response: response, status: outcome.status, reason: outcome.reason)
    }

    /// Whether the gateway stands in for a 2026-07-28 server: the request is of that revision and the
    /// upstream (not the built-in app, which answers both) does not serve it.
    func bridges(_ call: UpstreamCall) -> Bool {
        call.revision.isModern && !call.environment.isBuiltIn && !speaksModern(call.environment)
    }

    /// Whether an environment's upstream serves 2026-07-28 requests itself (stdio upstreams: never).
    func speaksModern(_ environment: AppEnvironment) -> Bool {
        guard environment.command == nil, let url = environment.upstreamURL else { return false }
        return eras.isModern(url) { http.answersModern(url, timeout: environment.timeoutSeconds) }
    }

    /// The request a tool-list refresh is sent like: the caller's own, except that for a 2026-07-28
    /// caller of a handshake-era upstream it is the gateway's session with that upstream.
    func refreshRequest(_ request: HTTPRequest, envelope: Envelope, principal: Principal, credentials: PresentedCredentials, app: String,
                        env: String, environment: AppEnvironment, decision: AccessDecision) throws -> HTTPRequest {
        let call = upstreamCall(request, envelope: envelope, principal: principal, credentials: credentials, app: app, env: env,
                                environment: environment, decision: decision)
        guard bridges(call) else { return request }
        let session = try upstreamSession(UpstreamSessionPool.Key(user: principal.userID, app: app, env: env), call, upstream(for: environment))
        var h = HTTPHeaders()
        h["Mcp-Session-Id"] = session.id
        h["MCP-Protocol-Version"] = session.protocolVersion
        return HTTPRequest(method: "POST", target: request.target, headers: h, remoteAddress: request.remoteAddress)
    }
}
