import Foundation
import HTTP
import MCPAuth
import MCPGateway
import OAuthServer
#if canImport(Glibc)
import Glibc
#endif

/// `mcpctl serve`: the OAuth 2.1 authorization server and MCP gateway on one listener.
enum ServeCommand {
    /// Each client connection holds a socket and, while its request is forwarded, one to the upstream; the
    /// usual soft limit of 1024 open files would refuse connections long before `--max-connections`. Raises
    /// the soft limit towards what that needs (never above the hard limit) and says so if it cannot.
    /// mallopt(3): glibc raises its mmap threshold after each large free (up to 32 MiB), after which
    /// buffers of big upstream answers live in heap arenas that are never given back, so a burst of large
    /// answers kept the server's memory at its peak. A fixed threshold (which also turns that adjustment
    /// off) keeps every buffer over 128 KiB in a mapping of its own, returned to the system when freed.
    /// (`mallopt` is looked up at run time: Glibc's module map leaves out malloc.h.)
    static func returnLargeBuffersToTheSystem() {
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD in malloc.h
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        _ = unsafeBitCast(symbol, to: Mallopt.self)(mmapThreshold, 128 * 1024)
    }

    static func raiseOpenFileLimit(for maxConnections: Int, log: RequestLog) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let wanted = rlim_t(2 * maxConnections + 256)
        guard limit.rlim_cur < wanted else { return }
        let raised = min(wanted, limit.rlim_max)
        var updated = limit
        updated.rlim_cur = raised
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &updated) != 0 || raised < wanted {
            log.warn("open-file limit \(raised < wanted ? raised : limit.rlim_cur) is below the \(wanted) that --max-connections \(maxConnections) can need; raise it (ulimit -n) or lower --max-connections")
        }
    }

    /// Settings from options, else `MCPCTL_<NAME>` environment variables, else defaults.
    struct Settings {
        var host = "127.0.0.1"
        var port = 8000
        var publicURL: String
        var accessTokenTTL: Int64 = 3600
        var refreshReuseGrace: Int64 = 0
        var allowedOrigins: [String] = []
        var maxBody = 4 * 1024 * 1024
        var maxBufferedBytes = 256 * 1024 * 1024
        var upstreamTimeout: Int64 = 60
        var maxConnections = 1024
        var maxConnectionsPerAddress = 64
        var keepAliveTimeout: Int64 = 10
        var logLevel = RequestLog.Level.info
        var insecureHTTP = false
        var unauthenticatedIntrospection = false
        var trustedUserHeader: String?
        var trustedProxies: [String] = []
        var unauthenticatedRate = 120
        var quickstartEmail: String?
        var auditSync = AuditSync.full
        var sessionLimits = BrowserSessions.Limits()
        var maxTokenTTL: Int64 = Tokens.defaultLifetimeSeconds
        var selfServiceTokens = true
        var toolApproval = ToolApproval.changed
        var auditForward: AuditForwarder.Configuration?
        var otlp: OTLPExporter.Configuration?
        var metricsListen: (host: String, port: Int)?
    }

    static func value(_ c: Context, _ name: String) -> String? {
        if let v = c.option(name) { return v }
        let key = "MCPCTL_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
        return c.environment[key].flatMap { $0.isEmpty ? nil : $0 }
    }

    static func flag(_ c: Context, _ name: String) -> Bool {
        if c.flag(name) { return true }
        let v = (value(c, name) ?? "").lowercased()
        return v == "1" || v == "true" || v == "yes"
    }

    static func list(_ c: Context, _ name: String) -> [String] {
        let given = c.parsed.values(name)
        if !given.isEmpty { return given }
        return (value(c, name) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func settings(_ c: Context) throws -> Settings {
        let listen = value(c, "listen") ?? "127.0.0.1:8000"
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw CommandUsageError(message: "Invalid '--listen' value '\(listen)': use HOST:PORT, e.g. 127.0.0.1:8000 or [::1]:8000")
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty || host == "localhost" { host = "127.0.0.1" }
        let display = host.contains(":") ? "[\(host)]" : host
        var s = Settings(host: host, port: port, publicURL: value(c, "public-url") ?? "http://\(display):\(port)")
        guard let url = URLComponents(string: s.publicURL), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil,
              url.query == nil, url.fragment == nil else {
            throw CommandUsageError(message: "Invalid '--public-url' '\(s.publicURL)': use an http(s) URL without query or fragment")
        }
        while s.publicURL.hasSuffix("/") { s.publicURL.removeLast() }
        if let ttl = value(c, "access-token-ttl") {
            guard let secs = DurationText.seconds(ttl) else { throw CommandUsageError(message: "Invalid duration '\(ttl)' for '--access-token-ttl'") }
            s.accessTokenTTL = secs
        }
        if let grace = value(c, "refresh-reuse-grace") {
            guard let secs = DurationText.seconds(grace), secs <= 300 else {
                throw CommandUsageError(message: "Invalid '--refresh-reuse-grace' '\(grace)': use a duration from 0s to 5m, e.g. 30s")
            }
            s.refreshReuseGrace = secs
        }
        s.allowedOrigins = list(c, "allowed-origin")
        if let v = value(c, "max-body") {
            guard let n = Int(v), n >= 1024, n <= 256 * 1024 * 1024 else { throw CommandUsageError(message: "Invalid '--max-body' '\(v)': use a byte count from 1024 to 268435456") }
            s.maxBody = n
        }
        if let v = value(c, "max-buffered-bytes") {
            guard let n = Int(v), n >= 1024, n <= 1 << 40 else {
                throw CommandUsageError(message: "Invalid '--max-buffered-bytes' '\(v)': use a byte count from 1024 to 1099511627776")
            }
            s.maxBufferedBytes = n
        }
        if let v = value(c, "upstream-timeout") {
            guard let secs = DurationText.seconds(v), secs >= 1, secs <= 86_400 else {
                throw CommandUsageError(message: "Invalid '--upstream-timeout' '\(v)': use a duration from 1s to 24h, e.g. 30s or 2m")
            }
            s.upstreamTimeout = secs
        }
        if let v = value(c, "max-connections") {
            guard let n = Int(v), n >= 1, n <= 100_000 else { throw CommandUsageError(message: "Invalid '--max-connections' '\(v)'") }
            s.maxConnections = n
        }
        if let v = value(c, "max-connections-per-address") {
            guard let n = Int(v), n >= 1, n <= 100_000 else { throw CommandUsageError(message: "Invalid '--max-connections-per-address' '\(v)'") }
            s.maxConnectionsPerAddress = n
        }
        if let v = value(c, "keep-alive-timeout") {
            guard let secs = DurationText.seconds(v), secs <= 3600 else { throw CommandUsageError(message: "Invalid '--keep-alive-timeout' '\(v)': use a duration from 1s to 1h, e.g. 10s") }
            s.keepAliveTimeout = secs
        }
        if let v = value(c, "log-level") {
            guard let l = RequestLog.Level(name: v) else { throw CommandUsageError(message: "Invalid '--log-level' '\(v)': use error, warn, info or debug") }
            s.logLevel = l
        }
        s.insecureHTTP = flag(c, "insecure-http")
        s.unauthenticatedIntrospection = flag(c, "unauthenticated-introspection")
        s.trustedUserHeader = value(c, "trusted-user-header")
        s.trustedProxies = list(c, "trusted-proxy")
        if let v = value(c, "unauthenticated-rate") {
            guard let n = Int(v), n >= 1, n <= 1_000_000 else {
                throw CommandUsageError(message: "Invalid '--unauthenticated-rate' '\(v)': use a number of requests per minute from 1 to 1000000")
            }
            s.unauthenticatedRate = n
        }
        if s.trustedUserHeader != nil && s.trustedProxies.isEmpty {
            throw CommandUsageError(message: "'--trusted-user-header' needs '--trusted-proxy ADDR' (the proxy allowed to set it)")
        }
        let loopback = host == "127.0.0.1" || host == "::1" || host.hasPrefix("127.")
        if !loopback && scheme != "https" && !s.insecureHTTP {
            throw CommandFailure(message: "refusing to listen on \(display) without an https public URL: tokens would cross the network in clear text. " +
                                 "Put a TLS proxy in front and pass --public-url https://…, or pass --insecure-http", code: ExitCode.failure)
        }
        if let v = value(c, "audit-sync") {
            guard let mode = AuditSync(rawValue: v) else { throw CommandUsageError(message: "Invalid '--audit-sync' '\(v)': use full or normal") }
            s.auditSync = mode
        }
        if let v = value(c, "tool-approval") {
            guard let mode = ToolApproval(rawValue: v) else { throw CommandUsageError(message: "Invalid '--tool-approval' '\(v)': use changed, new or off") }
            s.toolApproval = mode
        }
        if flag(c, "quickstart") { s.quickstartEmail = value(c, "email") ?? "admin@localhost" }
        try accountSettings(c, &s)
        s.auditForward = try auditForwardSettings(c)
        s.otlp = try otlpSettings(c)
        if let v = value(c, "metrics-listen") {
            guard let colon = v.lastIndex(of: ":"), let port = Int(v[v.index(after: colon)...]), (0...65535).contains(port) else {
                throw CommandUsageError(message: "Invalid '--metrics-listen' value '\(v)': use HOST:PORT, e.g. 127.0.0.1:9464")
            }
            var host = String(v[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            s.metricsListen = (host.isEmpty || host == "localhost" ? "127.0.0.1" : host, port)
        }
        return s
    }

    /// `--audit-forward URL` with its `--audit-forward-header NAME=env:VAR` fields. Header values come only from
    /// the environment (a command line is visible to every local user) and are never printed.
    static func auditForwardSettings(_ c: Context) throws -> AuditForwarder.Configuration? {
        let specs = list(c, "audit-forward-header")
        guard let text = value(c, "audit-forward") else {
            if !specs.isEmpty { throw CommandUsageError(message: "'--audit-forward-header' needs '--audit-forward URL'") }
            return nil
        }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
            throw CommandUsageError(message: "Invalid '--audit-forward' '\(text)': use the http(s) URL of the SIEM's collector")
        }
        // The rows and the collector's credential header must not cross a network in clear text.
        if scheme == "http", let host = url.host, !RedirectURI.isLoopback(host), !RedirectURI.isLoopback("[\(host)]") {
            throw CommandUsageError(message: "Invalid '--audit-forward' '\(text)': use https (plain http is allowed only on a loopback host)")
        }
        return AuditForwarder.Configuration(url: url, headers: try headerFields(c, specs, option: "audit-forward-header"))
    }

    /// `NAME=env:VAR` header specs, each value read from the environment (never from the command line,
    /// which every local user can read).
    static func headerFields(_ c: Context, _ specs: [String], option: String) throws -> HTTPHeaders {
        var headers = HTTPHeaders()
        for spec in specs {
            guard let eq = spec.firstIndex(of: "="), spec[spec.index(after: eq)...].hasPrefix("env:") else {
                throw CommandUsageError(message: "Invalid '--\(option)': use NAME=env:VAR, naming the environment variable that holds the value")
            }
            let name = String(spec[..<eq])
            let variable = String(spec[spec.index(eq, offsetBy: 5)...])
            guard HTTPHeaders.isValidName(name) else { throw CommandUsageError(message: "Invalid header name '\(name)' in '--\(option)'") }
            guard let v = c.environment[variable], !v.isEmpty else {
                throw CommandFailure(message: "'--\(option) \(name)': the environment variable \(variable.isEmpty ? "(none)" : variable) is not set", code: ExitCode.failure)
            }
            guard HTTPHeaders.isValidValue(v) else {
                throw CommandFailure(message: "'--\(option) \(name)': the value of \(variable) holds control characters", code: ExitCode.failure)
            }
            headers.add(name, v)
        }
        return headers
    }

    /// Where traces go: `--otlp-endpoint` (a base URL, `/v1/traces` appended), else the OpenTelemetry
    /// exporter variables (OTLP exporter configuration: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is the full
    /// URL, `OTEL_EXPORTER_OTLP_ENDPOINT` a base); nil when none is set.
    static func otlpSettings(_ c: Context) throws -> OTLPExporter.Configuration? {
        let specs = list(c, "otlp-header")
        let given = value(c, "otlp-endpoint")
        let env = { (name: String) in c.environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard let (text, appends) = given.map({ ($0, true) }) ?? env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").map({ ($0, false) })
                ?? env("OTEL_EXPORTER_OTLP_ENDPOINT").map({ ($0, true) }) else {
            if !specs.isEmpty { throw CommandUsageError(message: "'--otlp-header' needs '--otlp-endpoint URL'") }
            return nil
        }
        guard var url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil,
              url.query == nil, url.fragment == nil else {
            throw CommandUsageError(message: "Invalid OTLP endpoint '\(text)': use the http(s) URL of the collector, e.g. http://127.0.0.1:4318")
        }
        // Spans carry no secret, so a collector in the same cluster may take plain http; the collector's
        // credential may not cross a network in clear text.
        if scheme == "http", !specs.isEmpty, let host = url.host, !RedirectURI.isLoopback(host), !RedirectURI.isLoopback("[\(host)]") {
            throw CommandUsageError(message: "Invalid OTLP endpoint '\(text)' with '--otlp-header': use https (headers go over plain http only to a loopback host)")
        }
        if appends && !url.path.hasSuffix("/v1/traces") {
            while url.path.hasSuffix("/") { url.path.removeLast() }
            url.path += "/v1/traces"
        }
        guard let full = url.url else { throw CommandUsageError(message: "Invalid OTLP endpoint '\(text)'") }
        var configuration = OTLPExporter.Configuration(url: full, headers: try headerFields(c, specs, option: "otlp-header"))
        configuration.serviceVersion = CommandTable.version
        if let name = env("OTEL_SERVICE_NAME") { configuration.serviceName = name }
        configuration.sampleRatio = try sampleRatio(sampler: env("OTEL_TRACES_SAMPLER"), argument: env("OTEL_TRACES_SAMPLER_ARG"))
        return configuration
    }

    /// OpenTelemetry's sampler variables (SDK environment variables): `always_on`, `parentbased_always_on`
    /// (the default), or `parentbased_traceidratio` / `traceidratio` with a ratio from 0 to 1. A caller's
    /// sampling decision is always kept.
    static func sampleRatio(sampler: String?, argument: String?) throws -> Double {
        switch sampler ?? "parentbased_always_on" {
        case "always_on", "parentbased_always_on": return 1
        case "traceidratio", "parentbased_traceidratio":
            guard let ratio = Double(argument ?? "1"), (0...1).contains(ratio) else {
                throw CommandUsageError(message: "Invalid OTEL_TRACES_SAMPLER_ARG '\(argument ?? "")': use a ratio from 0 to 1, e.g. 0.1")
            }
            return ratio
        case let other:
            throw CommandUsageError(message: "Unsupported OTEL_TRACES_SAMPLER '\(other)': use parentbased_always_on or parentbased_traceidratio")
        }
    }

    /// The account pages' options: browser session limits and self-service tokens.
    static func accountSettings(_ c: Context, _ s: inout Settings) throws {
        func duration(_ name: String, from low: Int64, to high: Int64, example: String) throws -> Int64? {
            guard let v = value(c, name) else { return nil }
            guard let secs = DurationText.seconds(v), secs >= low, secs <= high else {
                throw CommandUsageError(message: "Invalid '--\(name)' '\(v)': use a duration from \(DurationText.format(low)) to \(DurationText.format(high)), e.g. \(example)")
            }
            return secs
        }
        if let idle = try duration("session-idle", from: 300, to: 30 * 86_400, example: "12h") { s.sessionLimits.idleSeconds = idle }
        if let age = try duration("session-max-age", from: 300, to: 90 * 86_400, example: "7d") { s.sessionLimits.maxAgeSeconds = age }
        guard s.sessionLimits.maxAgeSeconds >= s.sessionLimits.idleSeconds else {
            throw CommandUsageError(message: "'--session-max-age' (\(DurationText.format(s.sessionLimits.maxAgeSeconds))) is shorter than '--session-idle' (\(DurationText.format(s.sessionLimits.idleSeconds)))")
        }
        if let ttl = try duration("max-token-ttl", from: 3600, to: 10 * 31_536_000, example: "30d") { s.maxTokenTTL = ttl }
        s.selfServiceTokens = !flag(c, "no-self-service-tokens")
    }

    static func run(_ c: Context) throws -> Int32 {
        let s = try settings(c)
        let log = RequestLog(level: s.logLevel)
        if s.insecureHTTP { log.warn("serving plain http on a non-loopback address (--insecure-http): use TLS in production") }
        let store = try c.store()
        guard let lock = try StoreLock.acquire(.shared, storePath: store.path) else {
            throw CommandFailure(message: "a 'mcpctl store restore' is replacing store \(store.displayPath); start the server when it is done", code: ExitCode.failure)
        }
        try store.setSetting("public_url", .text(s.publicURL))
        if let email = s.quickstartEmail { try quickstart(store: store, email: email, settings: s) }

        let pool = try StorePool(path: store.path, create: false) { state in
            log.write(.error, [("msg", "store lost"), ("store", store.displayPath), ("state", state.rawValue),
                               ("detail", "the store file was \(state.rawValue) while the server had it open; every request is refused (503) until the server is restarted on a restored store")])
        }
        pool.identity.watch()
        let lastUsed = LastUsedRecorder()
        let audit = try AuditWriter(path: store.path, lastUsed: lastUsed, sync: s.auditSync, identity: pool.identity)
        var gc = GatewayConfiguration(publicURL: s.publicURL)
        gc.allowedOrigins = s.allowedOrigins
        gc.trustedProxies = s.trustedProxies
        gc.unauthenticatedPerMinute = s.unauthenticatedRate
        gc.maxBufferedBytes = s.maxBufferedBytes
        gc.upstreamTimeout = Double(s.upstreamTimeout)
        gc.maxMessageBytes = s.maxBody
        gc.toolApproval = s.toolApproval
        gc.upstreamCredentials = try upstreamCredentials(store: store, environment: c.environment, log: log)
        let gateway = try Gateway(pool: pool, configuration: gc, audit: audit, verifier: TokenVerifier(lastUsed: lastUsed), log: log)
        let oauth = OAuthWiring.make(pool: pool, settings: s, metrics: gateway.metrics)
        if let otlp = s.otlp { gateway.tracer.start(OTLPExporter(configuration: otlp, metrics: gateway.metrics, log: log), publicURL: s.publicURL) }
        let forwarder = s.auditForward.map { AuditForwarder(storePath: store.path, configuration: $0, log: log) }
        forwarder?.start()

        var hc = HTTPServerConfiguration(host: s.host, port: s.port)
        hc.maxBodyBytes = s.maxBody
        hc.maxConnections = s.maxConnections
        hc.maxConnectionsPerAddress = s.maxConnectionsPerAddress
        hc.idleTimeout = Double(s.keepAliveTimeout)
        ServeCommand.raiseOpenFileLimit(for: s.maxConnections, log: log)
        ServeCommand.returnLargeBuffersToTheSystem()
        let identity = pool.identity
        let reachability = StoreReachability(pool: pool, log: log)
        let server = HTTPServer(configuration: hc, onRejection: { gateway.metrics.rejected($0); gateway.rejected($0) },
                                answersOnLoop: { gateway.answersOnLoop($0) }) { request in
            // Fail closed: with its store deleted or replaced the server can record nothing (every request
            // writes at least an audit row), and the file at the path is not the one whose revocations it knows.
            if let refusal = storeLostResponse(identity.state) { return refusal }
            if request.path == "/healthz" {
                if let refusal = reachability?.refusal() { return refusal }
                var r = HTTPResponse.json(Array(#"{"status":"ok"}"#.utf8))
                r.headers["Cache-Control"] = "no-store"
                return r
            }
            if let r = gateway.handle(request) { return r }
            if let r = oauth?(request) {
                // A page or endpoint that failed on a database gone away says so (503), not "server error".
                if r.status == 500, let refusal = reachability?.refusal() { return refusal }
                return r
            }
            return HTTPResponse.json(Array(#"{"error":"not_found"}"#.utf8), status: 404)
        }
        let port: Int
        do { port = try server.start() } catch {
            throw CommandFailure(message: "cannot listen on \(s.host):\(s.port): \(error)", code: ExitCode.failure)
        }
        let metricsServer = try s.metricsListen.map { try startMetrics(on: $0, gateway.metrics, pool: pool, log: log) }
        SignalWatcher.onTermination { signal in
            log.info("signal \(signal): finishing in-flight requests")
            metricsServer?.shutdown(gracePeriod: 1)
            server.shutdown(gracePeriod: 10)
        }
        log.write(.info, [("msg", "listening"), ("address", "\(s.host):\(port)"), ("public_url", s.publicURL), ("store", store.displayPath)])
        server.waitUntilStopped()
        forwarder?.stop()
        gateway.tracer.stop()
        gateway.close()
        if pool.identity.check() != .intact {
            // Closing the connections would checkpoint and delete "-wal"/"-shm" files by name, and those names
            // may now belong to the store that replaced ours: leave without touching them.
            log.error("stopped; the store file was \(pool.identity.state.rawValue), audit rows after that were refused")
            exit(ExitCode.failure)
        }
        audit.close()
        log.info("stopped; audit log flushed")
        withExtendedLifetime(lock) {}
        return ExitCode.success
    }

    /// Reads the value behind every upstream credential reference now, so that a missing variable or an
    /// unreadable file stops the server at start (naming the app/env and the reference, never a value),
    /// and again on SIGHUP (a rotated key file is picked up; if a reference fails then, the values read
    /// before stay in use and the failure is logged).
    static func upstreamCredentials(store: Store, environment: [String: String], log: RequestLog) throws -> UpstreamCredentials {
        let credentials = UpstreamCredentials(environment: environment)
        do { try credentials.resolveAll(try Apps(store: store).list()) } catch let e as UpstreamCredential.ResolutionError {
            throw CommandFailure(message: e.description, code: ExitCode.failure)
        }
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        let path = store.path
        source.setEventHandler {
            do {
                try credentials.resolveAll(try Apps(store: try Store(path: path, create: false)).list())
                log.info("SIGHUP: upstream credentials read again")
            } catch {
                log.error("SIGHUP: \(error); the values read before stay in use")
            }
        }
        source.resume()
        hangupSource.withLock { $0 = source }
        return credentials
    }

    /// Keeps the SIGHUP source alive for the life of the process.
    private static let hangupSource = Guarded<(any DispatchSourceSignal)?>(nil)

    /// A second listener that answers only `GET /metrics` (Prometheus text format 0.0.4), so the gateway's
    /// public address never exposes it. The names the store knows are re-read every 2 seconds for labels.
    static func startMetrics(on address: (host: String, port: Int), _ metrics: Metrics, pool: StorePool, log: RequestLog) throws -> HTTPServer {
        metrics.enable()
        let refresh: @Sendable () -> Void = { do { try pool.with { try metrics.refreshKnownEnvironments($0) } } catch { log.warn("metrics: cannot read app names: \(error)") } }
        refresh()
        let refresher = Thread { while true { Thread.sleep(forTimeInterval: 2); refresh() } }
        refresher.name = "metrics-names"
        refresher.start()
        let server = HTTPServer(configuration: HTTPServerConfiguration(host: address.host, port: address.port)) { request in
            guard request.path == "/metrics" else { return HTTPResponse.json(Array(#"{"error":"not_found"}"#.utf8), status: 404) }
            guard request.method == "GET" || request.method == "HEAD" else { return HTTPResponse(status: 405) }
            var h = HTTPHeaders()
            h["Content-Type"] = "text/plain; version=0.0.4; charset=utf-8"
            h["Cache-Control"] = "no-store"
            return HTTPResponse(status: 200, headers: h, body: .bytes(Array(metrics.render().utf8)))
        }
        let port: Int
        do { port = try server.start() } catch {
            throw CommandFailure(message: "cannot listen on \(address.host):\(address.port) for --metrics-listen: \(error)", code: ExitCode.failure)
        }
        log.write(.info, [("msg", "metrics listening"), ("address", "\(address.host):\(port)")])
        return server
    }

    /// Whether a PostgreSQL store answers (nil for a SQLite file, which is always at hand): checked when asked,
    /// on a pooled connection that reconnects by itself, so the server reports an outage while it lasts and
    /// serves again as soon as the database is back, without a restart. Changes are logged once each.
    final class StoreReachability: Sendable {
        private let pool: StorePool
        private let log: RequestLog
        private let reachable = Guarded(true)

        init?(pool: StorePool, log: RequestLog) {
            guard StoreLocation(pool.path).isPostgres else { return nil }
            self.pool = pool
            self.log = log
        }

        /// 503 while the database does not answer; nil when it does.
        func refusal() -> HTTPResponse? {
            var problem: String?
            do { _ = try pool.with { try $0.db.first("SELECT 1") } } catch { problem = "\(error)" }
            let changed = reachable.withLock { up -> Bool in
                defer { up = problem == nil }
                return up != (problem == nil)
            }
            if changed, let problem {
                log.write(.error, [("msg", "store unreachable"), ("store", StoreLocation(pool.path).display), ("error", problem),
                                   ("detail", "requests are refused (503) until the database answers again")])
            } else if changed {
                log.write(.info, [("msg", "store reachable again"), ("store", StoreLocation(pool.path).display)])
            }
            guard problem != nil else { return nil }
            let body = #"{"status":"unavailable","error":"store_unreachable","error_description":"the database does not answer; requests are refused until it does"}"#
            var r = HTTPResponse.json(Array(body.utf8), status: 503)
            r.headers["Cache-Control"] = "no-store"
            r.headers["Retry-After"] = "1"
            return r
        }
    }

    /// 503 for every request once the store is lost, /healthz included (so a load balancer takes the server out).
    static func storeLostResponse(_ state: StoreIdentity.State) -> HTTPResponse? {
        guard state != .intact else { return nil }
        let body = #"{"status":"unavailable","error":"store_\#(state.rawValue)","error_description":"the store file was \#(state.rawValue) while the server had it open; restart the server"}"#
        var r = HTTPResponse.json(Array(body.utf8), status: 503)
        r.headers["Cache-Control"] = "no-store"
        return r
    }

    /// Creates (or reuses) a user, a viewer grant on the built-in app and a fresh token, and prints the
    /// client configuration: an authenticated MCP endpoint in one command.
    static func quickstart(store: Store, email: String, settings s: Settings) throws {
        let users = Users(store: store)
        if try users.find(email) == nil { try users.add(email: email, name: "quickstart", password: nil) }
        let grants = Grants(store: store)
        if try !grants.list(email: email, app: Apps.builtInApp).contains(where: { $0.env == "*" || $0.env == Apps.builtInEnv }) {
            try grants.add(email: email, app: Apps.builtInApp, env: Apps.builtInEnv, scopes: .read)
        }
        let tokens = Tokens(store: store)
        let old = try tokens.list(email: email, includeInactive: false, kinds: [.pat]).filter { $0.name == "quickstart" }.map(\.id)
        if !old.isEmpty { _ = try tokens.revoke(old) }
        let issued = try tokens.create(email: email, name: "quickstart", scopes: .read, app: nil, env: nil, lifetimeSeconds: 7 * 86_400)
        let url = "\(s.publicURL)/mcp/\(Apps.builtInApp)/\(Apps.builtInEnv)"
        let config: JSON = .object([("mcpServers", .object([("mcpctl", .object([
            ("type", "http"), ("url", .string(url)),
            ("headers", .object([("Authorization", .string("Bearer \(issued.secret)"))])),
        ]))]))])
        Output.write("""
        mcpctl quickstart: store \(store.displayPath)
        user \(email) has viewer on mcpctl/local; new token \(issued.record.id) (read, 7 days; earlier quickstart tokens revoked).
        Paste this into your MCP client's configuration (the token is shown only once):

        \(config.encoded(pretty: true))

        Try it:
          curl -s \(url) -H 'Authorization: Bearer \(issued.secret)' -H 'Content-Type: application/json' \\
               -H 'Accept: application/json, text/event-stream' \\
               -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}'


        """)
    }
}

/// Hooks the OAuth authorization server into `serve` (nil until it is built).
enum OAuthWiring {
    static func make(pool: StorePool, settings s: ServeCommand.Settings, metrics: Metrics) -> (@Sendable (HTTPRequest) -> HTTPResponse?)? {
        var c = OAuthConfiguration(publicURL: s.publicURL)
        c.onSignIn = { outcome, method in metrics.signIn(outcome, method: method) }
        c.accessTokenTTL = s.accessTokenTTL
        c.refreshReuseGraceSeconds = s.refreshReuseGrace
        c.unauthenticatedIntrospection = s.unauthenticatedIntrospection
        c.trustedUserHeader = s.trustedUserHeader
        c.trustedProxies = s.trustedProxies
        c.sessionLimits = s.sessionLimits
        c.maxTokenTTL = s.maxTokenTTL
        c.selfServiceTokens = s.selfServiceTokens
        let server = OAuthServer(pool: pool, configuration: c)
        return { server.handle($0) }
    }
}
