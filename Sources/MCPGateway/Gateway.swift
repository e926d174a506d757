import Foundation
import HTTP
import MCPAuth

/// The MCP gateway: `/mcp/{app}/{env}` behind token authentication, grants and an audit row for every
/// request (allowed or denied), written before the response is released.
public final class Gateway: Sendable {
    let pool: StorePool
    let configuration: GatewayConfiguration
    let audit: AuditWriter
    let verifier: TokenVerifier
    let log: RequestLog
    let http: HTTPUpstream
    let stdio: StdioUpstream
    /// The three upstreams, boxed once here rather than on every request.
    let builtInRoute: any Upstream
    let stdioRoute: any Upstream
    let httpRoute: any Upstream
    let check: AccessCheck
    let unauthenticated: UnauthenticatedLimit
    let staleTools = StaleToolLists()
    /// Upstream sessions held for 2026-07-28 clients in front of handshake-era upstreams.
    let sessions: UpstreamSessionPool
    /// Which HTTP upstreams serve 2026-07-28 requests themselves.
    let eras = UpstreamEras()
    let access = AccessCache()
    let heldTools = HeldTools()
    /// The per-store key of the tool-argument digests, with its HMAC pads compressed once.
    let argumentKey: HMACSHA256Key
    public let metrics = Metrics()
    public let tracer = Tracer()
    /// Whether the store is an embedded (SQLite) file, whose reads never wait on a network.
    let embeddedStore: Bool

    public init(pool: StorePool, configuration: GatewayConfiguration, audit: AuditWriter, verifier: TokenVerifier, log: RequestLog) throws {
        self.pool = pool
        self.configuration = configuration
        self.audit = audit
        self.verifier = verifier
        self.log = log
        embeddedStore = !StoreLocation(pool.path).isPostgres
        check = AccessCheck(pool: pool, verifier: verifier, cache: access, log: log, outside: OutsideTokens(pool: pool, publicURL: configuration.publicURL, log: log))
        http = HTTPUpstream(client: HTTPClient(maxIdleConnectionsPerHost: 512), timeout: configuration.upstreamTimeout,
                            budget: AnswerBudget(limit: configuration.maxBufferedBytes), owners: SessionOwners(pool: pool),
                            check: check, log: log, credentials: configuration.upstreamCredentials)
        builtInRoute = BuiltInUpstream(pool: pool)
        httpRoute = http
        stdio = StdioUpstream(configuration: configuration, log: log)
        stdioRoute = stdio
        unauthenticated = UnauthenticatedLimit(perMinute: configuration.unauthenticatedPerMinute, pool: pool)
        sessions = UpstreamSessionPool(idleTimeout: configuration.sessionIdleTimeout)
        argumentKey = HMACSHA256Key(try pool.with { try $0.setting("audit_key")?.bytes } ?? SecureRandom.bytes(32))
        // The built-in tools are known up front, so `mcpctl tool list mcpctl` and scope checks see them.
        // Compared with the store, not a per-process cache, so every store this process serves gets them.
        try pool.with {
            try ToolListFilter.remember(store: $0, app: Apps.builtInApp, env: Apps.builtInEnv, tools: BuiltInApp.tools.map {
                ($0["name"]?.stringValue ?? "", $0["annotations"], $0["description"]?.stringValue)
            }, replacing: true)
        }
        let flusher = Thread { [weak self] in
            while let self {
                Thread.sleep(forTimeInterval: 5)
                self.writeSummaries(self.unauthenticated.due(all: false))
                self.sessions.closeIdle()
            }
        }
        flusher.name = "rate-limit-summaries"
        flusher.start()
    }

    /// Ends every stdio session and writes the pending rate-limit summaries (on shutdown).
    public func close() {
        sessions.closeAll()
        stdio.closeAll()
        writeSummaries(unauthenticated.due(all: true))
    }

    /// The app and environment of an MCP endpoint path, "/mcp/{app}/{env}" (a trailing slash allowed).
    static func endpoint(_ path: String) -> (app: String, env: String)? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 4 || (parts.count == 5 && parts[4].isEmpty), parts[0].isEmpty, parts[1] == "mcp",
              !parts[2].isEmpty, !parts[3].isEmpty else { return nil }
        return (String(parts[2]), String(parts[3]))
    }

    /// Whether `path` is an MCP endpoint path, as `endpoint` reads it, without taking it apart.
    static func isEndpoint(_ path: String) -> Bool {
        let bytes = path.utf8
        guard bytes.starts(with: "/mcp/".utf8) else { return false }
        // After "/mcp/": the app (segment 0), the environment (1), and at most an empty one (a trailing slash).
        var segment = 0, length = 0
        for byte in bytes.dropFirst(5) {
            if byte == UInt8(ascii: "/") {
                guard length > 0, segment < 2 else { return false }
                segment += 1
                length = 0
            } else {
                guard segment < 2 else { return false }
                length += 1
            }
        }
        return segment == 1 ? length > 0 : segment == 2
    }

    /// Audits a request to an MCP endpoint that the HTTP layer refused before the gateway saw it (body
    /// too large, head too large, too slow, malformed): every request to an MCP endpoint has its row.
    public func rejected(_ rejection: HTTPRejection) {
        guard let path = rejection.path, let (app, env) = Gateway.endpoint(path) else { return }
        let method = (rejection.method ?? "").prefix(16).lowercased()
        var event = AuditEvent(source: .mcp, action: "mcp.\(method)", app: String(app.prefix(128)), env: String(env.prefix(128)),
                               remoteAddr: rejection.remoteAddress)
        event.decision = .deny
        event.reason = "refused by the HTTP layer: \(rejection.reason)"
        event.status = rejection.status
        var due: [UnauthenticatedLimit.Summary] = []
        let limited = unauthenticated.admit(rejection.remoteAddress, app: event.app ?? "", env: event.env ?? "", due: &due) != nil
        writeSummaries(due)
        if limited { return }
        if !audit.write(event) { log.error("audit log unavailable; rejected request to \(app)/\(env) not recorded") }
        log.write(.info, [("msg", "request"), ("remote", rejection.remoteAddress), ("app", event.app), ("env", event.env),
                          ("decision", "deny"), ("status", String(rejection.status)), ("reason", event.reason)])
    }

    /// Answers the gateway's paths; nil for anything else. The answer to an MCP request is usually deferred
    /// until its audit row is committed: a server sends it then, other callers take `resolved`.
    public func handle(_ request: HTTPRequest) -> HTTPResponse? {
        if let (app, env) = Gateway.endpoint(request.path) {
            return mcp(request, app: app, env: env)
        }
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        // RFC 9728 §3.1: the metadata of resource /mcp/{app}/{env} lives at /.well-known/oauth-protected-resource/mcp/{app}/{env}.
        if parts.count == 6, parts[1] == ".well-known", parts[2] == "oauth-protected-resource", parts[3] == "mcp", request.method == "GET" || request.method == "HEAD" {
            return protectedResourceMetadata(app: parts[4], env: parts[5])
        }
        return nil
    }

    /// RFC 9728 metadata, served for any app/env name so it reveals nothing about which exist.
    func protectedResourceMetadata(app: String, env: String) -> HTTPResponse {
        let doc: JSON = .object([
            ("resource", .string(configuration.resource(app: app, env: env))),
            ("authorization_servers", .array(([configuration.publicURL] + (check.outside?.issuerURLs() ?? [])).map { .string($0) })),
            ("scopes_supported", .array(["read", "write", "delete"])),
            ("bearer_methods_supported", .array(["header"])),
            ("resource_name", .string("\(app)/\(env) via mcpctl")),
        ])
        var r = HTTPResponse.json(doc.bytes)
        r.headers["Cache-Control"] = "public, max-age=300"
        r.headers["Access-Control-Allow-Origin"] = "*"
        return r
    }

    /// The audit reason of a call the upstream did not answer within its timeout.
    static let upstreamTimeout = "upstream_timeout"

    /// Bytes of upstream answers the gateway holds in memory right now.
    public var bufferedBytes: Int { http.budget.bytes.usedBytes }

    /// stdio upstream processes alive now.
    public var stdioProcessCount: Int { stdio.count }

    static func jsonRPCError(status: Int, id: JSON?, code: Int, message: String, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var h = headers
        h["Content-Type"] = "application/json"
        return HTTPResponse(status: status, headers: h, body: .bytes(MCPMessage.error(id: id, code: code, message: message).bytes))
    }

    /// What the audit row of one request will say.
    struct Record {
        var event: AuditEvent
        let started: Date
        var upstreamSeconds: Double?
        /// Its spans, only while tracing is on.
        var spans: RequestSpans?
    }

    // MARK: The request pipeline

    /// One request to `/mcp/{app}/{env}`: read → authenticate → authorize → forward, each stage throwing a
    /// `GatewayRefusal` that is answered and audited here, in one place.
    func mcp(_ request: HTTPRequest, app: String, env: String) -> HTTPResponse {
        var record = Record(event: AuditEvent(source: .mcp, action: "mcp.\(request.method.prefix(16).lowercased())", app: app, env: env,
                                              remoteAddr: request.clientAddress(trustedProxies: configuration.trustedProxies)), started: Date(),
                            spans: tracer.begin(request))
        let metadataURL = configuration.resourceMetadataURL(app: app, env: env)
        do {
            try checkRouting(request, &record)
            let envelope = try readEnvelope(request, &record)
            record.spans?.begin(.authentication, envelope.message)
            guard let credentials = PresentedCredentials(request.headers) else {
                throw GatewayRefusal.unauthorized(metadataURL: metadataURL, tokenPresented: false, reason: "no credentials")
            }
            try refuseOutsideTokenOverLimit(credentials, record, metadataURL: metadataURL)
            let verdict = try verify(credentials, envelope: envelope, app: app, env: env)
            let principal = try authenticate(verdict, credentials: credentials, envelope: envelope, app: app, env: env,
                                             metadataURL: metadataURL, &record)
            record.spans?.begin(.policy)
            return proceed(Authenticated(request: request, envelope: envelope, credentials: credentials, principal: principal,
                                         app: app, env: env, metadataURL: metadataURL), verdict, record)
        } catch {
            return refused(error, record)
        }
    }

    /// A request whose sender is known, on its way to authorization.
    struct Authenticated: Sendable {
        let request: HTTPRequest
        let envelope: Envelope
        let credentials: PresentedCredentials
        let principal: Principal
        let app: String
        let env: String
        let metadataURL: String
    }

    /// Authorize → forward → audit, for an authenticated request. On the loop thread the upstream's answer is
    /// waited for without holding it; whatever would wait there is decided where it arises and moves to a
    /// worker: a tool list to refresh (`OffTheLoop`), a route other than an HTTP upstream known to serve the
    /// request's revision, and (in `HTTPUpstream`) an answer to narrow or a session to record.
    func proceed(_ a: Authenticated, _ verdict: AccessCheck.Verdict, _ record: Record) -> HTTPResponse {
        var verdict = verdict, record = record
        do {
            let (environment, decision) = try authorize(&verdict, request: a.request, envelope: a.envelope, principal: a.principal,
                                                         credentials: a.credentials, app: a.app, env: a.env, metadataURL: a.metadataURL)
            try refuseHeldTool(a.envelope.message, environment: environment, app: a.app, env: a.env)
            record.event.decision = .allow
            record.event.reason = decision.reason
            let call = upstreamCall(a.request, envelope: a.envelope, principal: a.principal, credentials: a.credentials, app: a.app, env: a.env,
                                    environment: environment, decision: decision, trace: record.spans?.upstreamContext)
            record.spans?.beginUpstream(environment)
            if LoopThread.isCurrent {
                guard routesWithoutWaiting(call) else {
                    let record = record
                    return LoopThread.offload { [self] in forward(call, record) }
                }
                return forwardWithoutWaiting(call, record)
            }
            return forward(call, record)
        } catch is OffTheLoop {
            let (verdict, record) = (verdict, record)
            return LoopThread.offload { [self] in proceed(a, verdict, record) }
        } catch {
            return refused(error, record)
        }
    }

    /// Thrown on the loop thread where the request must wait for something: it goes on on a worker.
    struct OffTheLoop: Error {}

    /// Forwards `call`, waiting for its upstream here.
    func forward(_ call: UpstreamCall, _ record: Record) -> HTTPResponse {
        var record = record
        do {
            let outcome = try metrics.upstream(app: call.app, env: call.env, seconds: &record.upstreamSeconds, status: { $0.response.status }) { try route(call) }
            return answered(outcome, record)
        } catch {
            return refused(error, record)
        }
    }

    /// Forwards `call` and returns at once: the answer is sent once the upstream's has arrived and its audit
    /// row is committed, and no thread waits meanwhile.
    func forwardWithoutWaiting(_ call: UpstreamCall, _ record: Record) -> HTTPResponse {
        let deferred = HTTPDeferredResponse()
        let started = ContinuousClock.now
        route(call) { [self] result in
            var record = record
            var timed: Double?  // the wait is timed from `started`, not by this call
            let response: HTTPResponse
            do {
                let outcome = try metrics.upstream(app: call.app, env: call.env, seconds: &timed, status: { $0.response.status }) { try result.get() }
                record.upstreamSeconds = Metrics.seconds(since: started)
                response = answered(outcome, record)
            } catch {
                record.upstreamSeconds = Metrics.seconds(since: started)
                response = refused(error, record)
            }
            // Usually itself deferred until the audit commit: the server waits for that one in turn.
            deferred.complete(response)
        }
        return .deferred(deferred)
    }

    /// The upstream answered: audited, then released.
    func answered(_ outcome: UpstreamOutcome, _ record: Record) -> HTTPResponse {
        var record = record
        record.spans?.end()
        if let reason = outcome.reason { record.event.reason = reason }
        return finish(record, outcome.response)
    }

    /// A stage refused the request (or the store failed): audited as denied, and answered.
    func refused(_ error: any Error, _ record: Record) -> HTTPResponse {
        if let refusal = error as? GatewayRefusal { return finish(record, refusal.response, deny: refusal.reason) }
        log.error("store error in the gateway: \(error)")
        return finish(record, GatewayRefusal.unavailable().response, deny: "store unavailable")
    }

    /// Whether the server may answer `request` on its loop thread (see `LoopThread`): a POST of at most 16 KiB
    /// to an MCP endpoint, with one of mcpctl's own tokens (no outside issuer is asked), on an embedded store
    /// (whose reads wait on no network). What may wait later moves to a worker (see `proceed`).
    public func answersOnLoop(_ request: HTTPRequest) -> Bool {
        guard embeddedStore, request.method == "POST", request.body.count <= 16 * 1024, Gateway.isEndpoint(request.path),
              let credentials = PresentedCredentials(request.headers) else { return false }
        return TokenSecret.kind(of: credentials.secret) != nil
    }

    /// A tool the gateway has not seen (or whose list the upstream said changed): the upstream is asked for its
    /// list before the call is decided; only a tool it does not list needs delete.
    func refreshesToolList(_ message: MCPMessage?, environment: AppEnvironment, verdict: AccessCheck.Verdict, decision: AccessDecision,
                           app: String, env: String) -> Bool {
        message?.toolName != nil && !environment.isBuiltIn && (staleTools.isStale(app: app, env: env) || (!verdict.toolKnown && !decision.allowed))
    }

    /// A token that is not mcpctl's own may be sent to an outside issuer (its keys fetched, or the token
    /// introspected). From an address that has used up its allowance of failed requests it is refused before
    /// any of that (answered 429 by `finish`), so random strings cannot make the gateway call out.
    func refuseOutsideTokenOverLimit(_ credentials: PresentedCredentials, _ record: Record, metadataURL: String) throws {
        guard check.outside != nil, credentials.email == nil, TokenSecret.kind(of: credentials.secret) == nil,
              unauthenticated.isExhausted(record.event.remoteAddr ?? "") else { return }
        throw GatewayRefusal.unauthorized(metadataURL: metadataURL, tokenPresented: true, reason: "over the limit of failed requests")
    }

    /// Read, before anything else: the Origin (MCP 2025-11-25 transport §security: validate Origin to
    /// stop DNS rebinding), the HTTP method, and headers that may be given only once.
    func checkRouting(_ request: HTTPRequest, _ record: inout Record) throws {
        if let origin = request.headers["Origin"], !originAllowed(origin) {
            throw GatewayRefusal.jsonRPC(403, code: -32600, "Origin not allowed", reason: "origin \(Gateway.capped(origin, 200)) not allowed")
        }
        guard ["POST", "GET", "DELETE"].contains(request.method) else {
            var h = HTTPHeaders(); h["Allow"] = "POST, GET, DELETE"
            throw GatewayRefusal(response: HTTPResponse(status: 405, headers: h), reason: "method \(record.event.action.dropFirst(4)) not allowed")
        }
        if let name = SingleValuedHeaders.repeated(in: request.headers) {
            throw GatewayRefusal.jsonRPC(400, code: -32600, "Invalid Request: \(name) header given more than once",
                                         reason: "\(name) header given more than once")
        }
    }

    /// A POST body read as one JSON-RPC message, or the refusal its parse error earns.
    struct Envelope {
        var message: MCPMessage?
        var parseError: GatewayRefusal?
        var revision: ProtocolRevision = .handshake
    }

    /// Parsed before authentication so denied calls are audited with their method and tool; parse
    /// errors are answered only to authenticated callers.
    func readEnvelope(_ request: HTTPRequest, _ record: inout Record) throws -> Envelope {
        guard request.method == "POST" else { return Envelope(revision: ProtocolRevision.of(request.headers, nil)) }
        let m: MCPMessage
        do {
            m = try MCPMessage.parse(request.body)
        } catch MCPMessage.ParseError.invalidJSON {
            return Envelope(parseError: .jsonRPC(400, code: -32700, "Parse error", reason: "invalid JSON"))
        } catch MCPMessage.ParseError.ambiguousKey {
            return Envelope(parseError: .jsonRPC(400, code: -32600, "Invalid Request: a member name repeats another (names are compared without regard to case)",
                                                 reason: "repeated member name"))
        } catch MCPMessage.ParseError.batch {
            return Envelope(parseError: .jsonRPC(400, code: -32600, "JSON-RPC batches are not supported (MCP 2025-06-18 and later)", reason: "batch"))
        } catch {
            return Envelope(parseError: .jsonRPC(400, code: -32600, "Invalid Request", reason: "not a JSON-RPC message"))
        }
        // Only capped copies of strings from the request are kept for the audit row and the log.
        record.event.method = Gateway.capped(m.method ?? "response", 128)
        record.event.action = record.event.method ?? "response"
        record.event.tool = m.toolName.map { Gateway.capped($0, 128) }
        if let args = m.arguments {
            record.event.argsDigest = Hex.encode(argumentKey.authenticationCode(for: args.encoded().utf8))
        }
        // MCP 2026-07-28: headers that mirror the body must agree with it, checked before authorization.
        let revision = ProtocolRevision.of(request.headers, m)
        if let problem = MirroredHeaders.problem(request.headers, m, revision: revision) {
            throw MirroredHeaders.refusal(problem, id: m.id, requested: m.envelopeVersion)
        }
        return Envelope(message: m, revision: revision)
    }

    /// Verification and authorization from one snapshot of the store (a body that could not be read is
    /// not authorized: it is refused once its sender is known).
    func verify(_ credentials: PresentedCredentials, envelope: Envelope, app: String, env: String) throws -> AccessCheck.Verdict {
        do {
            let verdict = try check.verdict(credentials, app: app, env: env, need: envelope.parseError == nil ? .message(envelope.message) : .none)
            metrics.tokenCheck(verdict.verified)
            return verdict
        } catch {
            log.error("store error during verification: \(error)")
            throw GatewayRefusal.unavailable()
        }
    }

    /// Authenticate: the credential works, for this resource, and the request could be read; the
    /// audit row then names who sent it.
    func authenticate(_ verdict: AccessCheck.Verdict, credentials: PresentedCredentials, envelope: Envelope, app: String, env: String,
                      metadataURL: String, _ record: inout Record) throws -> Principal {
        let principal: Principal
        switch verdict.verified {
        case .failure(let reason):
            if reason == .emailMismatch || reason == .malformed || reason == .unknown { record.event.email = credentials.email.flatMap(EmailAddress.normalize) }
            throw GatewayRefusal.unauthorized(metadataURL: metadataURL, tokenPresented: true, reason: verdict.detail ?? reason.rawValue)
        case .success(let p): principal = p
        }
        record.event.email = principal.email
        record.event.tokenID = principal.tokenID
        record.event.clientID = principal.clientID
        // RFC 8707 / MCP 2025-11-25: an OAuth access token is only good for the resource it was issued for.
        if !AccessCheck.audienceMatches(principal, app: app, env: env) {
            throw GatewayRefusal.unauthorized(metadataURL: metadataURL, tokenPresented: true,
                                              reason: "token issued for \(principal.app ?? "?")/\(principal.env ?? "?")")
        }
        if let parseError = envelope.parseError { throw parseError }
        return principal
    }

    /// Authorize: the caller holds a grant here, owns the session it presents, and has the scope the call
    /// needs (decided again after a refresh of the upstream's tool list, when the tool is not known).
    func authorize(_ verdict: inout AccessCheck.Verdict, request: HTTPRequest, envelope: Envelope, principal: Principal,
                   credentials: PresentedCredentials, app: String, env: String, metadataURL: String) throws -> (AppEnvironment, AccessDecision) {
        let message = envelope.message
        guard let decision = verdict.decision else { throw GatewayRefusal.unavailable() }
        guard let found = verdict.environment, decision.hasAccess else { throw GatewayRefusal.appNotFound(id: message?.id, reason: decision.reason) }
        // A session belongs to the user and the app/environment that opened it; checked before anything,
        // a refresh of the tool list included, goes through it. MCP 2026-07-28 has no sessions: a
        // session id on such a request is ignored (neither checked nor forwarded).
        if !envelope.revision.isModern {
            try checkSession(request, upstream: upstream(for: found), principal: principal, message: message, app: app, env: env)
        }
        if refreshesToolList(message, environment: found, verdict: verdict, decision: decision, app: app, env: env) {
            // Decided here, not before: the list may have gone stale since. Nothing was changed so far.
            if LoopThread.isCurrent { throw OffTheLoop() }
            let asking = try refreshRequest(request, envelope: envelope, principal: principal, credentials: credentials, app: app, env: env,
                                            environment: found, decision: decision)
            refreshToolList(asking, environment: found, principal: principal, app: app, env: env)
            do {
                (verdict.environment, verdict.decision, _) = try pool.with { store in
                    try store.db.read { try check.authorize(try access.view(store), principal, message: message, app: app, env: env) }
                }
            } catch {
                log.error("store error during authorization: \(error)")
                throw GatewayRefusal.unavailable()
            }
        }
        guard let environment = verdict.environment, let decision = verdict.decision, decision.hasAccess else {
            throw GatewayRefusal.appNotFound(id: message?.id, reason: verdict.decision?.reason ?? "")
        }
        guard decision.allowed else {
            let needed = decision.needed?.description ?? "read"
            throw GatewayRefusal(response: AuthChallenge.insufficientScope(needed: needed, metadataURL: metadataURL, id: (message?.id ?? .null).encoded()),
                                 reason: decision.reason)
        }
        return (environment, decision)
    }

    /// Refuses (404) a request that presents a session it does not own here (MCP security best
    /// practices: session hijacking).
    func checkSession(_ request: HTTPRequest, upstream: any Upstream, principal: Principal, message: MCPMessage?, app: String, env: String) throws {
        guard let session = request.headers["Mcp-Session-Id"] else { return }
        let owned: Bool
        do {
            owned = try upstream.owns(session: session, user: principal.userID, app: app, env: env)
        } catch {
            log.error("store error during session check: \(error)")
            throw GatewayRefusal.unavailable()
        }
        guard owned else {
            throw GatewayRefusal.jsonRPC(404, id: message?.id, code: -32001, "Session not found", reason: "session unknown or opened by another user")
        }
    }

    /// The upstream that serves an environment: the built-in app, its command, or its URL.
    func upstream(for environment: AppEnvironment) -> any Upstream {
        if environment.isBuiltIn { return builtInRoute }
        if environment.command != nil { return stdioRoute }
        return httpRoute
    }

    func originAllowed(_ origin: String) -> Bool {
        let o = origin.lowercased()
        if o == configuration.publicOrigin.lowercased() { return true }
        return configuration.allowedOrigins.contains { $0.lowercased() == o || $0 == "*" }
    }

    /// Narrows every tool list the upstream sends this caller, whatever request, stream or id it comes
    /// with: any JSON-RPC response carrying `result.tools` is pinned, narrowed to the caller's scope and
    /// marked private for caching (MCP 2026-07-28, caching). A client may take a list from a GET stream or
    /// a resumed one (MCP 2025-11-25 transport, resumability), so keying on the request id would let an
    /// upstream slip an unfiltered list past. Throws (and the answer is refused) when it cannot narrow.
    func toolListFilter(message: MCPMessage?, app: String, env: String, effective: ScopeSet, revision: ProtocolRevision) -> ToolListFilter.Apply {
        let asked = message?.method == "tools/list" ? message?.id : nil
        let cursor = !(message?.params?["cursor"]?.isNull ?? true)
        let (pool, approval) = (self.pool, configuration.toolApproval)
        let modern = revision.isModern
        @Sendable func narrow(_ json: JSON) throws -> JSON {
            if let batch = json.arrayValue { return .array(try batch.map(narrow)) }
            guard json["result"]?["tools"]?.arrayValue != nil else { return json }
            // Only the answer to this tools/list request can be the complete list; any other is a page.
            let page = cursor || asked == nil || json["id"] != asked
            let narrowed = try pool.with { try ToolListFilter(store: $0, app: app, env: env, effective: effective, approval: approval).filter(json, cursor: page) }
            return CacheHints.narrowed(narrowed, modern: modern)
        }
        return narrow
    }

    /// Writes the audit row, then releases the response; if the row cannot be written the request fails
    /// closed with 503. A request denied without a working credential counts against its address's
    /// allowance; over it, the answer is 429 and the row goes into the address's summary instead.
    /// A whole answer waits for its row without a thread: it is released by the audit writer after the commit.
    func finish(_ record: Record, _ response: HTTPResponse, deny reason: String? = nil) -> HTTPResponse {
        var event = record.event
        if let reason {
            event.decision = .deny
            event.reason = reason
            if event.tokenID == nil, let wait = overLimit(event) {
                metrics.rateLimited()
                return Gateway.tooManyRequests(retryAfter: wait)
            }
        }
        if event.decision == nil { event.decision = .allow }
        event.status = response.status
        event.durationMs = (Date().timeIntervalSince(record.started) * 1_000_000).rounded() / 1000
        var spans = record.spans
        spans?.begin(.audit, failedBefore: reason != nil)
        let upstreamSeconds = record.upstreamSeconds
        switch response.body {
        case .bytes, .held:
            let deferred = HTTPDeferredResponse()
            let commit = metrics.auditCommitBegun()
            audit.write(event) { [self, spans, event] outcome in
                metrics.auditCommitEnded(commit, ok: outcome.written, at: outcome.at)
                deferred.complete(released(response, event, spans: spans, upstreamSeconds: upstreamSeconds, written: outcome.written))
            }
            return .deferred(deferred)
        case .stream, .events, .deferred:
            // A stream's head goes out only after its row is committed, from this thread (a worker's: the
            // loop thread does not wait for the commit).
            if LoopThread.isCurrent {
                return LoopThread.offload { [self, event, spans] in
                    released(response, event, spans: spans, upstreamSeconds: upstreamSeconds, written: metrics.auditCommit { audit.write(event) })
                }
            }
            let written = metrics.auditCommit { audit.write(event) }
            return released(response, event, spans: spans, upstreamSeconds: upstreamSeconds, written: written)
        }
    }

    /// Once the audit row is committed (or could not be): the request's spans, metrics and log line, and
    /// the response to send, 503 if the row was not written.
    func released(_ response: HTTPResponse, _ event: AuditEvent, spans: RequestSpans?, upstreamSeconds: Double?, written: Bool) -> HTTPResponse {
        if let spans { tracer.finish(spans, event, status: written ? response.status : 503) }
        metrics.request(event, status: written ? response.status : 503, upstreamSeconds: upstreamSeconds)
        if log.level >= .info {  // the fields are not even built when the line would be dropped
            log.write(.info, [
                ("msg", "request"), ("remote", event.remoteAddr), ("app", event.app), ("env", event.env), ("method", event.method ?? event.action),
                ("tool", event.tool), ("email", event.email), ("token", event.tokenID), ("client", event.clientID),
                ("decision", event.decision?.rawValue), ("status", String(written ? response.status : 503)), ("duration_ms", event.durationMs.map { String($0) }),
                ("reason", event.decision == .deny ? event.reason : nil),
            ])
        }
        guard written else {
            if case .held(let held) = response.body { held.release() }
            return Gateway.jsonRPCError(status: 503, id: nil, code: -32603, message: "audit log unavailable; request refused")
        }
        return response
    }

    /// Seconds to wait when `event`'s address is over its allowance of unauthenticated requests (and the
    /// request was counted into its summary); nil when it may be audited and answered as usual.
    func overLimit(_ event: AuditEvent) -> Int? {
        var due: [UnauthenticatedLimit.Summary] = []
        let wait = unauthenticated.admit(event.remoteAddr ?? "", app: event.app ?? "", env: event.env ?? "", due: &due)
        writeSummaries(due)
        return wait
    }

    /// One audit row per address and minute for the requests refused over the limit.
    func writeSummaries(_ summaries: [UnauthenticatedLimit.Summary]) {
        for s in summaries {
            var event = AuditEvent(source: .mcp, action: "mcp.rate_limited", app: s.app, env: s.env, remoteAddr: s.address)
            event.decision = .deny
            event.status = 429
            event.reason = "rate limited: \(s.count) requests"
            let (log, address) = (log, s.address)
            if LoopThread.isCurrent {
                // The loop thread does not wait for the commit.
                audit.write(event) { commit in
                    if !commit.written { log.error("audit log unavailable; rate-limit summary for \(address) not recorded") }
                }
            } else if !audit.write(event) {
                log.error("audit log unavailable; rate-limit summary for \(address) not recorded")
            }
            log.write(.info, [("msg", "rate limited"), ("remote", s.address), ("count", String(s.count))])
        }
    }

    /// RFC 6585 §4: 429 with `Retry-After` (RFC 9110 §10.2.3, in seconds).
    static func tooManyRequests(retryAfter: Int) -> HTTPResponse {
        var h = HTTPHeaders()
        h["Retry-After"] = String(retryAfter)
        return jsonRPCError(status: 429, id: nil, code: -32000, message: "too many requests without a valid credential; retry later", headers: h)
    }

    /// `value` cut to at most `bytes` UTF-8 bytes on a character boundary.
    static func capped(_ value: String, _ bytes: Int) -> String {
        guard value.utf8.count > bytes else { return value }
        var out = ""
        var used = 0
        for ch in value {
            let n = ch.utf8.count
            if used + n > bytes { break }
            out.append(ch)
            used += n
        }
        return out
    }
}
