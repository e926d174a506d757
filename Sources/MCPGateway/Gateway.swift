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
    let owners: SessionOwners
    let unauthenticated: UnauthenticatedLimit
    let staleTools = StaleToolLists()
    let access = AccessCache()
    /// The per-store key of the tool-argument digests, with its HMAC pads compressed once.
    let argumentKey: HMACSHA256Key

    public init(pool: StorePool, configuration: GatewayConfiguration, audit: AuditWriter, verifier: TokenVerifier, log: RequestLog) throws {
        self.pool = pool
        self.configuration = configuration
        self.audit = audit
        self.verifier = verifier
        self.log = log
        owners = SessionOwners(pool: pool)
        http = HTTPUpstream(client: HTTPClient(maxIdleConnectionsPerHost: 512), timeout: configuration.upstreamTimeout,
                            budget: AnswerBudget(limit: configuration.maxBufferedBytes))
        stdio = StdioUpstream(configuration: configuration, log: log)
        unauthenticated = UnauthenticatedLimit(perMinute: configuration.unauthenticatedPerMinute)
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
            }
        }
        flusher.name = "rate-limit-summaries"
        flusher.start()
    }

    /// Ends every stdio session and writes the pending rate-limit summaries (on shutdown).
    public func close() {
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

    /// Audits a request to an MCP endpoint that the HTTP layer refused before the gateway saw it (body
    /// too large, head too large, too slow, malformed): every request to an MCP endpoint has its row.
    public func rejected(_ rejection: HTTPRejection) {
        guard let path = rejection.path, let (app, env) = Gateway.endpoint(path) else { return }
        let method = (rejection.method ?? "").prefix(16).lowercased()
        var event = AuditEvent(source: "mcp", action: "mcp.\(method)", app: String(app.prefix(128)), env: String(env.prefix(128)),
                               remoteAddr: rejection.remoteAddress)
        event.decision = "deny"
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

    /// Answers the gateway's paths; nil for anything else.
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
            ("authorization_servers", .array([.string(configuration.publicURL)])),
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
    }

    // MARK: The request pipeline

    func mcp(_ request: HTTPRequest, app: String, env: String) -> HTTPResponse {
        let client = request.clientAddress(trustedProxies: configuration.trustedProxies)
        var record = Record(event: AuditEvent(source: "mcp", action: "mcp.\(request.method.prefix(16).lowercased())", app: app, env: env,
                                              remoteAddr: client), started: Date())
        let metadataURL = configuration.resourceMetadataURL(app: app, env: env)

        // MCP 2025-11-25 transport §security: validate Origin to stop DNS rebinding.
        if let origin = request.headers["Origin"], !originAllowed(origin) {
            return finish(record, Gateway.jsonRPCError(status: 403, id: nil, code: -32600, message: "Origin not allowed"),
                          deny: "origin \(Gateway.capped(origin, 200)) not allowed")
        }
        guard ["POST", "GET", "DELETE"].contains(request.method) else {
            var h = HTTPHeaders(); h["Allow"] = "POST, GET, DELETE"
            return finish(record, HTTPResponse(status: 405, headers: h), deny: "method \(record.event.action.dropFirst(4)) not allowed")
        }
        if let name = SingleValuedHeaders.repeated(in: request.headers) {
            return finish(record, Gateway.jsonRPCError(status: 400, id: nil, code: -32600, message: "Invalid Request: \(name) header given more than once"),
                          deny: "\(name) header given more than once")
        }

        // Parsed before authentication so denied calls are audited with their method and tool; parse
        // errors are answered only to authenticated callers.
        var message: MCPMessage?
        var parseError: (HTTPResponse, String)?
        if request.method == "POST" {
            do {
                message = try MCPMessage.parse(request.body)
            } catch MCPMessage.ParseError.invalidJSON {
                parseError = (Gateway.jsonRPCError(status: 400, id: nil, code: -32700, message: "Parse error"), "invalid JSON")
            } catch MCPMessage.ParseError.batch {
                parseError = (Gateway.jsonRPCError(status: 400, id: nil, code: -32600, message: "JSON-RPC batches are not supported (MCP 2025-06-18 and later)"), "batch")
            } catch {
                parseError = (Gateway.jsonRPCError(status: 400, id: nil, code: -32600, message: "Invalid Request"), "not a JSON-RPC message")
            }
        }
        if let m = message {
            // Only capped copies of strings from the request are kept for the audit row and the log.
            record.event.method = Gateway.capped(m.method ?? "response", 128)
            record.event.action = record.event.method ?? "response"
            record.event.tool = m.toolName.map { Gateway.capped($0, 128) }
            if let args = m.arguments {
                record.event.argsDigest = Hex.encode(argumentKey.authenticationCode(for: args.encoded().utf8))
            }
            // MCP 2026-07-28: headers that mirror the body must agree with it, checked before authorization.
            if let mismatch = MirroredHeaders.mismatch(request.headers, m) {
                return finish(record, Gateway.jsonRPCError(status: 400, id: m.id, code: MirroredHeaders.headerMismatch, message: "Header mismatch: \(mismatch)"),
                              deny: mismatch)
            }
        }

        // Authentication: Authorization: Bearer, or the Email + Token pair. Never the query string.
        var secret: String?
        var email: String?
        if let auth = request.headers["Authorization"] {
            let parts = auth.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { secret = Gateway.trimmed(parts[1]) }
        }
        if secret == nil, let t = request.headers["Token"] {
            secret = Gateway.trimmed(Substring(t))
            email = request.headers["Email"] ?? ""
        }
        guard let secret, !secret.isEmpty else {
            return finish(record, AuthChallenge.unauthorized(metadataURL: metadataURL, tokenPresented: false), deny: "no credentials")
        }

        // Verification and authorization read one snapshot of the store through the access cache: the
        // policy generation always, rows only when the cache does not hold them for that generation.
        let verified: Result<Principal, VerificationFailure>
        var environment: AppEnvironment?
        var decision: AccessDecision?
        var toolKnown = true
        do {
            (verified, environment, decision, toolKnown) = try pool.with { store in
                try store.db.read { () throws -> (Result<Principal, VerificationFailure>, AppEnvironment?, AccessDecision?, Bool) in
                    let view = try access.view(store)
                    // The Email + Token pair carries a personal token of that user; Bearer also takes OAuth access tokens.
                    let kinds: Set<TokenRecord.Kind> = email == nil ? [.pat, .access] : [.pat]
                    let verified = try verifier.verify(secret: secret, email: email, accept: kinds) { try view.token(hash: $0) }
                    guard case .success(let p) = verified, Gateway.audienceMatches(p, app: app, env: env), parseError == nil else {
                        return (verified, nil, nil, true)
                    }
                    let (environment, decision, known) = try authorize(view, principal: p, message: message, app: app, env: env)
                    return (verified, environment, decision, known)
                }
            }
        } catch {
            log.error("store error during verification: \(error)")
            return finish(record, Gateway.jsonRPCError(status: 503, id: nil, code: -32603, message: "temporarily unavailable"), deny: "store unavailable")
        }
        let principal: Principal
        switch verified {
        case .failure(let reason):
            if reason == .emailMismatch || reason == .malformed || reason == .unknown { record.event.email = email.flatMap(EmailAddress.normalize) }
            return finish(record, AuthChallenge.unauthorized(metadataURL: metadataURL, tokenPresented: true), deny: reason.rawValue)
        case .success(let p): principal = p
        }
        record.event.email = principal.email
        record.event.tokenID = principal.tokenID
        record.event.clientID = principal.clientID

        // RFC 8707 / MCP 2025-11-25: an OAuth access token is only good for the resource it was issued for.
        if !Gateway.audienceMatches(principal, app: app, env: env) {
            return finish(record, AuthChallenge.unauthorized(metadataURL: metadataURL, tokenPresented: true),
                          deny: "token issued for \(principal.app ?? "?")/\(principal.env ?? "?")")
        }
        if let parseError {
            return finish(record, parseError.0, deny: parseError.1)
        }
        guard var decision else {
            return finish(record, Gateway.jsonRPCError(status: 503, id: nil, code: -32603, message: "temporarily unavailable"), deny: "no decision")
        }
        guard let found = environment, decision.hasAccess else {
            // Same answer whether the app is missing or merely not granted: existence is not leaked.
            return finish(record, Gateway.jsonRPCError(status: 404, id: message?.id, code: -32001, message: "App not found"), deny: decision.reason)
        }
        // A session belongs to the user and the app/environment that opened it; checked before anything,
        // a refresh of the tool list included, goes through it.
        if let refusal = refuseForeignSession(request, record, environment: found, principal: principal, message: message, app: app, env: env) {
            return refusal
        }
        // A tool the gateway has not seen (or whose list the upstream said changed): ask the upstream for
        // its list first, then decide; only a tool it does not list needs delete.
        if message?.toolName != nil, !found.isBuiltIn, staleTools.isStale(app: app, env: env) || (!toolKnown && !decision.allowed) {
            refreshToolList(request, environment: found, principal: principal, app: app, env: env)
            do {
                (environment, decision, _) = try pool.with { store in
                    try store.db.read { try authorize(try access.view(store), principal: principal, message: message, app: app, env: env) }
                }
            } catch {
                log.error("store error during authorization: \(error)")
                return finish(record, Gateway.jsonRPCError(status: 503, id: nil, code: -32603, message: "temporarily unavailable"), deny: "store unavailable")
            }
        }
        guard let environment, decision.hasAccess else {
            return finish(record, Gateway.jsonRPCError(status: 404, id: message?.id, code: -32001, message: "App not found"), deny: decision.reason)
        }
        guard decision.allowed else {
            let needed = decision.needed?.description ?? "read"
            return finish(record, AuthChallenge.insufficientScope(needed: needed, metadataURL: metadataURL, id: (message?.id ?? .null).encoded()),
                          deny: decision.reason)
        }
        record.event.decision = "allow"
        record.event.reason = decision.reason

        // Forward.
        let filter = toolListFilter(message: message, app: app, env: env, effective: decision.effective)
        if environment.isBuiltIn {
            return finish(record, builtIn(request, message: message, principal: principal, effective: decision.effective, filter: filter))
        }
        let staleTools = self.staleTools
        let toolsChanged: @Sendable () -> Void = { staleTools.mark(app: app, env: env) }
        if let command = environment.command {
            let outcome = stdio.handle(request, message: message, command: command, timeout: environment.timeoutSeconds, principal: principal,
                                       app: app, env: env, filter: filter, toolsChanged: toolsChanged)
            record.event.reason = outcome.reason ?? record.event.reason
            return finish(record, outcome.response)
        }
        guard let url = environment.upstreamURL else {
            return finish(record, Gateway.jsonRPCError(status: 502, id: message?.id, code: -32603, message: "app has no upstream"), deny: "no upstream")
        }
        let outcome = http.forward(request, to: url, timeout: environment.timeoutSeconds, filter: filter,
                                   stillAllowed: stillAllowed(secret: secret, email: email, principal: principal, app: app, env: env,
                                                              needed: decision.needed ?? .read), toolsChanged: toolsChanged)
        do {
            if message?.method == "initialize", let session = outcome.response.headers["Mcp-Session-Id"] {
                try owners.register(session, user: principal.userID, app: app, env: env)
            }
            if request.method == "DELETE", let session = request.headers["Mcp-Session-Id"], outcome.status < 300 {
                try owners.remove(session, app: app, env: env)
            }
        } catch {
            // Without its owner on record the session could not be used anyway (404): fail now, visibly.
            log.error("store error while recording a session: \(error)")
            return finish(record, Gateway.jsonRPCError(status: 503, id: message?.id, code: -32603, message: "temporarily unavailable"),
                          deny: "store unavailable")
        }
        if let reason = outcome.reason { record.event.reason = reason }
        return finish(record, outcome.response)
    }

    /// Authorization (effective scopes against what the method or tool needs), with whether the tool's
    /// requirement is known (an override, or a tool the upstream listed). Call inside a read transaction.
    func authorize(_ view: AccessView, principal p: Principal, message: MCPMessage?, app: String, env: String) throws
        -> (AppEnvironment?, AccessDecision, Bool) {
        var needed: ScopeSet = .read
        var known = true
        if let m = message, let method = m.method {
            if let tool = m.toolName {
                let requirement = try view.requirement(app: app, env: env, tool: tool)
                (needed, known) = (requirement.scope, requirement.known)
            } else {
                needed = ToolScopes.forMethod(method)
            }
        }
        let binding: (String?, String?) = p.kind == .pat ? (p.app, p.env) : (nil, nil)
        let (environment, decision) = try view.decide(userID: p.userID, tokenScopes: p.scopes, tokenID: p.tokenID,
                                                      binding: binding, app: app, env: env, needed: needed)
        return (environment, decision, known)
    }

    /// The 404 (audited as a denial) for a request that presents a session it does not own here; nil when
    /// it presents none, or its own.
    func refuseForeignSession(_ request: HTTPRequest, _ record: Record, environment: AppEnvironment, principal: Principal,
                              message: MCPMessage?, app: String, env: String) -> HTTPResponse? {
        guard !environment.isBuiltIn, let session = request.headers["Mcp-Session-Id"] else { return nil }
        do {
            if try sessionBelongs(session, to: principal, app: app, env: env, stdio: environment.command != nil) { return nil }
        } catch {
            log.error("store error during session check: \(error)")
            return finish(record, Gateway.jsonRPCError(status: 503, id: nil, code: -32603, message: "temporarily unavailable"), deny: "store unavailable")
        }
        return finish(record, Gateway.jsonRPCError(status: 404, id: message?.id, code: -32001, message: "Session not found"),
                      deny: "session unknown or opened by another user")
    }

    /// Whether `session` was opened by this user on this app/env: a session belongs to (user, app,
    /// environment), and presented by anyone else or on another endpoint it is unknown (MCP security best
    /// practices: session hijacking). Checked before anything reaches an upstream.
    func sessionBelongs(_ session: String, to principal: Principal, app: String, env: String, stdio isStdio: Bool) throws -> Bool {
        if isStdio { return stdio.session(session, user: principal.userID, app: app, env: env) != nil }
        return try owners.mayUse(session, user: principal.userID, app: app, env: env)
    }

    /// Whether the credential that opened a stream still reaches app/env: asked before each piece of a
    /// streamed answer, since no cache (and no open stream) may outlive a revocation.
    /// A store error counts as no (fail closed).
    func stillAllowed(secret: String, email: String?, principal: Principal, app: String, env: String,
                      needed: ScopeSet) -> @Sendable () -> Bool {
        let pool = self.pool
        let verifier = self.verifier
        let log = self.log
        return {
            let ok = (try? pool.with { store -> Bool in
                guard case .success(let p) = try verifier.verify(secret: secret, email: email, accept: [principal.kind], db: store.db),
                      p.tokenID == principal.tokenID else {
                    return false
                }
                let binding: (String?, String?) = p.kind == .pat ? (p.app, p.env) : (nil, nil)
                return try Policy.check(store: store, userID: p.userID, tokenScopes: p.scopes, tokenID: p.tokenID,
                                        binding: binding, app: app, env: env, needed: needed).allowed
            }) ?? false
            if !ok { log.write(.info, [("msg", "stream ended: credential no longer valid"), ("app", app), ("env", env), ("token", principal.tokenID)]) }
            return ok
        }
    }

    /// RFC 8707 / MCP 2025-11-25: an OAuth access token is only good for the resource it was issued for.
    static func audienceMatches(_ principal: Principal, app: String, env: String) -> Bool {
        principal.kind != .access || (principal.app == app && principal.env == env)
    }

    /// A credential without the spaces and tabs around it (header values are ASCII; no Foundation here,
    /// this runs on every request).
    static func trimmed(_ value: Substring) -> String {
        var s = value
        while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
        return String(s)
    }

    func originAllowed(_ origin: String) -> Bool {
        let o = origin.lowercased()
        if o == configuration.publicOrigin.lowercased() { return true }
        return configuration.allowedOrigins.contains { $0.lowercased() == o || $0 == "*" }
    }

    /// Narrows the answer to a tools/list request; throws (and the answer is refused) when it cannot.
    func toolListFilter(message: MCPMessage?, app: String, env: String, effective: ScopeSet) -> ToolListFilter.Apply? {
        guard let m = message, m.method == "tools/list", let requestID = m.id else { return nil }
        let cursor = !(m.json["params"]?["cursor"]?.isNull ?? true)
        let pool = self.pool
        return { json in
            guard json["id"] == requestID else { return json }
            return try pool.with { try ToolListFilter(store: $0, app: app, env: env, effective: effective).filter(json, cursor: cursor) }
        }
    }

    func builtIn(_ request: HTTPRequest, message: MCPMessage?, principal: Principal, effective: ScopeSet,
                 filter: ToolListFilter.Apply?) -> HTTPResponse {
        guard request.method == "POST", let message else {
            var h = HTTPHeaders(); h["Allow"] = "POST"
            return HTTPResponse(status: 405, headers: h)
        }
        do {
            let answer = try pool.with { BuiltInApp(store: $0, principal: principal, effective: effective).answer(message) }
            guard let answer else { return HTTPResponse(status: 202) }
            // tools/list shows only the tools the caller may call: the built-in list too
            // (an operator override may put a built-in tool out of the caller's reach).
            return .json((try filter.map { try $0(answer) } ?? answer).bytes)
        } catch {
            return Gateway.jsonRPCError(status: 500, id: message.id, code: -32603, message: "internal error")
        }
    }

    /// Writes the audit row, then releases the response; if the row cannot be written the request fails
    /// closed with 503. A request denied without a working credential counts against its address's
    /// allowance; over it, the answer is 429 and the row goes into the address's summary instead.
    func finish(_ record: Record, _ response: HTTPResponse, deny reason: String? = nil) -> HTTPResponse {
        var event = record.event
        if let reason {
            event.decision = "deny"
            event.reason = reason
            if event.tokenID == nil, let wait = overLimit(event) {
                return Gateway.tooManyRequests(retryAfter: wait)
            }
        }
        if event.decision == nil { event.decision = "allow" }
        event.status = response.status
        event.durationMs = (Date().timeIntervalSince(record.started) * 1_000_000).rounded() / 1000
        let written = audit.write(event)
        if log.level >= .info {  // the fields are not even built when the line would be dropped
            log.write(.info, [
                ("msg", "request"), ("remote", event.remoteAddr), ("app", event.app), ("env", event.env), ("method", event.method ?? event.action),
                ("tool", event.tool), ("email", event.email), ("token", event.tokenID), ("client", event.clientID),
                ("decision", event.decision), ("status", String(written ? response.status : 503)), ("duration_ms", event.durationMs.map { String($0) }),
                ("reason", event.decision == "deny" ? event.reason : nil),
            ])
        }
        guard written else {
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
            var event = AuditEvent(source: "mcp", action: "mcp.rate_limited", app: s.app, env: s.env, remoteAddr: s.address)
            event.decision = "deny"
            event.status = 429
            event.reason = "rate limited: \(s.count) requests"
            if !audit.write(event) { log.error("audit log unavailable; rate-limit summary for \(s.address) not recorded") }
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
