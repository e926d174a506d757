import Foundation
import HTTP
import MCPAuth
import MCPGateway
#if canImport(Glibc)
import Glibc
#endif

/// `mcpctl doctor`: checks the store, the public URL, the upstreams and the clock, one line each with
/// what to do about a problem. Warnings do not fail it; any failed check exits 1.
enum DoctorCommand {
    enum Status: String { case ok, warn, fail, skip }

    struct Check {
        let name: String
        let status: Status
        let detail: String
        var fix: String?

        var json: JSON {
            .object([("check", .string(name)), ("status", .string(status.rawValue)), ("detail", .string(detail)), ("fix", fix.map(JSON.string) ?? .null)])
        }
    }

    static func run(_ c: Context) throws -> Int32 {
        let path = c.storePath
        var checks = [permissions(path)]
        if checks[0].status != .fail, Store.exists(at: path) {
            let db = try Database(path: path, create: false, readOnly: true)
            checks += [migrations(db), integrity(db), chain(db)]
            let credentials = UpstreamCredentials(environment: ProcessInfo.processInfo.environment)
            let environments = Result { try Apps.list(db: db) }
            checks += upstreams(environments, credentials)
            checks.append(credentialReferences(environments, credentials))
            checks.append(secretFiles(db))
        }
        if let url = ServeCommand.value(c, "public-url") {
            checks += publicURL(url)
        } else {
            checks.append(Check(name: "public url", status: .skip, detail: "no --public-url or MCPCTL_PUBLIC_URL given",
                                fix: "pass --public-url https://… (the URL clients use) to check the proxy and the clock"))
        }
        report(checks, c)
        return checks.contains { $0.status == .fail } ? ExitCode.failure : ExitCode.success
    }

    static func report(_ checks: [Check], _ c: Context) {
        if c.json { c.out.emit(.array(checks.map(\.json))); return }
        for check in checks {
            var line = "\(check.status.rawValue.uppercased().padding(toLength: 5, withPad: " ", startingAt: 0)) \(check.name): \(check.detail)"
            if let fix = check.fix, check.status != .ok { line += " — \(fix)" }
            c.out.line(line)
        }
    }

    // MARK: The store

    static func permissions(_ path: String) -> Check {
        let name = "store permissions"
        let location = StoreLocation(path)
        if location.isPostgres {
            // Who may read a PostgreSQL store is the server's roles and pg_hba.conf; here: can mcpctl log in.
            do { _ = try Database(path: path) } catch {
                return Check(name: name, status: .fail, detail: "cannot connect to \(location.display): \(error)", fix: "check the URL, the server and the password (PGPASSWORD, ~/.pgpass)")
            }
            guard Store.exists(at: path) else {
                return Check(name: name, status: .fail, detail: "no store at \(location.display)", fix: "create it with 'mcpctl init', or point --db / MCPCTL_DB at it")
            }
            return Check(name: name, status: .ok, detail: "PostgreSQL store \(location.display); access is the server's roles")
        }
        var st = stat()
        guard stat(path, &st) == 0 else {
            return Check(name: name, status: .fail, detail: "no store at \(path)", fix: "create it with 'mcpctl init', or point --db / MCPCTL_DB at it")
        }
        let dir = (path as NSString).deletingLastPathComponent
        var ds = stat()
        if stat(dir, &ds) == 0, ds.st_mode & 0o022 != 0 {
            return Check(name: name, status: .fail, detail: "directory \(dir) is writable by other users (mode \(octal(ds.st_mode)))", fix: "chmod 700 '\(dir)'")
        }
        for file in [path, path + "-wal", path + "-shm"] {
            var fs = stat()
            if stat(file, &fs) == 0, fs.st_mode & 0o077 != 0 {
                return Check(name: name, status: .fail, detail: "\(file) is readable by other users (mode \(octal(fs.st_mode)))", fix: "chmod 600 '\(file)'")
            }
        }
        if st.st_uid != getuid() {
            return Check(name: name, status: .warn, detail: "\(path) belongs to uid \(st.st_uid), not to this user", fix: "run doctor as the user that runs 'mcpctl serve'")
        }
        return Check(name: name, status: .ok, detail: "\(path) mode \(octal(st.st_mode)), directory \(octal(ds.st_mode))")
    }

    static func octal(_ mode: mode_t) -> String { "0" + String(mode & 0o777, radix: 8) }

    static func migrations(_ db: Database) -> Check {
        let name = "migrations"
        guard let rows = try? db.query("SELECT name FROM schema_migrations") else {
            return Check(name: name, status: .fail, detail: "no schema_migrations table", fix: "this file is not an mcpctl store; check --db")
        }
        let applied = Set(rows.compactMap { $0.string("name") })
        let known = Migrations.steps.map(\.name)
        if let newer = applied.subtracting(known).sorted().first {
            return Check(name: name, status: .fail, detail: "the store has migration \(newer), unknown to this mcpctl", fix: "upgrade mcpctl to the version that wrote the store")
        }
        let missing = known.filter { !applied.contains($0) }
        if !missing.isEmpty {
            return Check(name: name, status: .warn, detail: "\(missing.count) pending (\(missing.joined(separator: ", ")))", fix: "they are applied when 'mcpctl serve' or any command opens the store")
        }
        return Check(name: name, status: .ok, detail: "all \(known.count) applied")
    }

    static func integrity(_ db: Database) -> Check {
        let name = "integrity"
        if db.dialect == .postgres {
            return Check(name: name, status: .ok, detail: "PostgreSQL keeps its own pages consistent (check them with pg_amcheck)")
        }
        do {
            let lines = try db.query("PRAGMA quick_check").compactMap { $0.values.first?.string }
            if lines == ["ok"] { return Check(name: name, status: .ok, detail: "PRAGMA quick_check: ok") }
            return Check(name: name, status: .fail, detail: "PRAGMA quick_check: \(lines.prefix(3).joined(separator: "; "))",
                         fix: "stop the server and restore the latest backup with 'mcpctl store restore FILE'")
        } catch {
            return Check(name: name, status: .fail, detail: "cannot read the store: \(error)", fix: "stop the server and restore the latest backup with 'mcpctl store restore FILE'")
        }
    }

    static func chain(_ db: Database) -> Check {
        let name = "audit chain"
        do {
            let r = try AuditVerifier.verify(db: db)
            if r.ok { return Check(name: name, status: .ok, detail: "\(r.rows) rows verified (seq \(r.firstSeq)…\(r.lastSeq))") }
            return Check(name: name, status: .fail, detail: "broken at seq \(r.badSeq ?? 0): \(r.problem ?? "")",
                         fix: "treat the log as tampered with: keep a copy ('mcpctl store backup'), find who changed the store, compare with a backup")
        } catch {
            return Check(name: name, status: .fail, detail: "cannot read the audit log: \(error)", fix: "run 'mcpctl audit verify' for details")
        }
    }

    // MARK: Upstreams

    /// Each upstream, asked as `serve` would ask it: an HTTP one with its credential headers.
    static func upstreams(_ environments: Result<[AppEnvironment], any Error>, _ credentials: UpstreamCredentials) -> [Check] {
        let list: [AppEnvironment]
        do { list = try environments.get() } catch {
            return [Check(name: "upstreams", status: .fail, detail: "cannot read the environments: \(error)",
                          fix: "set the broken environment again with 'mcpctl app update'")]
        }
        return list.compactMap { e in
            let where_ = "\(e.app)/\(e.env)"
            if let url = e.upstreamURL {
                return httpUpstream(where_, url, headers: (try? credentials.resolved(e, kind: .header)) ?? [])
            }
            if let command = e.command {
                // Started exactly as serve starts it: a clean environment plus its own --env-var values.
                return stdioUpstream(where_, command, environment: (try? StdioEnvironment.of(e, credentials: credentials))
                                     ?? StdioEnvironment.bare())
            }
            return nil  // the built-in app
        }
    }

    static func httpUpstream(_ where_: String, _ url: String, headers extra: [(name: String, value: String)] = []) -> Check {
        let name = "upstream \(where_)"
        let fix = "check that \(url) is up and reachable from this host ('mcpctl app show' names it)"
        do {
            let client = HTTPClient(maxIdleConnectionsPerHost: 1)
            var session: String?
            _ = try mcpCall(client, url, session: &session, extra: extra, #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"mcpctl-doctor","version":"1"}}}"#)
            _ = try? mcpCall(client, url, session: &session, extra: extra, #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            let listed = try mcpCall(client, url, session: &session, extra: extra, #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#)
            guard let tools = listed?["result"]?["tools"]?.arrayValue else {
                return Check(name: name, status: .fail, detail: "answered tools/list without a tool list", fix: fix)
            }
            return Check(name: name, status: .ok, detail: "reachable, \(tools.count) tools listed")
        } catch {
            return Check(name: name, status: .fail, detail: "\(url): \(error)", fix: fix)
        }
    }

    struct UpstreamProblem: Error, CustomStringConvertible { let description: String }

    /// One JSON-RPC message to a Streamable HTTP MCP server; the answer as JSON (or from its first SSE data line).
    static func mcpCall(_ client: HTTPClient, _ url: String, session: inout String?, extra: [(name: String, value: String)] = [],
                        _ body: String) throws -> JSON? {
        var h = HTTPHeaders()
        for (name, value) in extra { h[name] = value }
        h["Content-Type"] = "application/json"
        h["Accept"] = "application/json, text/event-stream"
        h["MCP-Protocol-Version"] = "2025-06-18"
        if let session { h["Mcp-Session-Id"] = session }
        guard let request = HTTPClientRequest(method: "POST", url: url, headers: h, body: Array(body.utf8), timeout: 10) else {
            throw UpstreamProblem(description: "not a valid URL")
        }
        let response = try client.send(request)
        let bytes = try response.readAll(limit: 8 << 20)
        guard (200...299).contains(response.status) else { throw UpstreamProblem(description: "HTTP \(response.status)") }
        if let s = response.headers["Mcp-Session-Id"] { session = s }
        guard response.headers["Content-Type"]?.hasPrefix("text/event-stream") == true else {
            return try? JSON.parse(String(decoding: bytes, as: UTF8.self))
        }
        // Server-Sent Events: the answer is the event holding a result or an error (a priming event is empty).
        var events = SSEParser()
        return events.feed(bytes).lazy.compactMap { try? JSON.parse($0.data) }.first { $0["result"] != nil || $0["error"] != nil }
    }

    static func stdioUpstream(_ where_: String, _ argv: [String], environment: [String: String]) -> Check {
        let name = "upstream \(where_)"
        guard let program = argv.first else {
            return Check(name: name, status: .fail, detail: "stored command is empty", fix: "set it again with 'mcpctl app update … --command'")
        }
        let paths = program.contains("/") ? [program] : (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map { "\($0)/\(program)" }
        guard paths.contains(where: { access($0, X_OK) == 0 }) else {
            return Check(name: name, status: .fail, detail: "command \(program) not found or not executable", fix: "install it, or give its full path with 'mcpctl app add … --command'")
        }
        do {
            let count = try stdioToolCount(argv, environment: environment)
            return Check(name: name, status: .ok, detail: "command \(program) started, \(count) tools listed")
        } catch {
            return Check(name: name, status: .fail, detail: "command \(program): \(error)", fix: "run the command by hand and read what it prints on stderr")
        }
    }

    /// Starts a stdio MCP server as the gateway does (through env(1), with `environment`: never the
    /// operator's own), asks for its tools after the handshake, and stops it; at most 15 seconds.
    static func stdioToolCount(_ argv: [String], environment: [String: String]) throws -> Int {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        p.environment = environment
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { stop(p, input: input) }
        let messages = [
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"mcpctl-doctor","version":"1"}}}"#,
            #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
        ]
        input.fileHandleForWriting.write(Data((messages.joined(separator: "\n") + "\n").utf8))
        final class Answer: @unchecked Sendable { var tools: Int? }
        let answer = Answer()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            var buffer = Data()
            while case let chunk = output.fileHandleForReading.availableData, !chunk.isEmpty {
                buffer.append(chunk)
                while let nl = buffer.firstIndex(of: 10) {
                    let line = buffer[buffer.startIndex..<nl]
                    buffer.removeSubrange(buffer.startIndex...nl)
                    if let m = try? JSON.parse(Array(line)), m["id"] == .int(2) {
                        answer.tools = m["result"]?["tools"]?.arrayValue?.count ?? -1
                        done.signal()
                        return
                    }
                }
            }
            done.signal()
        }
        guard done.wait(timeout: .now() + 15) == .success else { throw UpstreamProblem(description: "no answer to tools/list within 15 s") }
        guard let tools = answer.tools else { throw UpstreamProblem(description: "exited before answering tools/list") }
        guard tools >= 0 else { throw UpstreamProblem(description: "answered tools/list without a tool list") }
        return tools
    }

    /// Closes the server's input (the MCP stdio transport's way to end it), then SIGTERM, then SIGKILL.
    static func stop(_ p: Process, input: Pipe) {
        try? input.fileHandleForWriting.close()
        for (signal, wait) in [(Int32(0), 2.0), (SIGTERM, 2.0), (SIGKILL, 5.0)] {
            if signal != 0, p.isRunning { kill(p.processIdentifier, signal) }
            let deadline = Date().addingTimeInterval(wait)
            while p.isRunning && Date() < deadline { usleep(20_000) }
        }
        if !p.isRunning { p.waitUntilExit() }
    }

    /// Every upstream credential reference resolves as `serve` would resolve it at start (the message names
    /// the app/env and the reference, never a value).
    static func credentialReferences(_ list: Result<[AppEnvironment], any Error>, _ credentials: UpstreamCredentials) -> Check {
        let name = "upstream credentials"
        do {
            let environments = try list.get()
            let count = environments.reduce(0) { $0 + $1.upstreamHeaders.count + $1.environmentVariables.count }
            guard count > 0 else { return Check(name: name, status: .ok, detail: "no references to resolve") }
            try credentials.resolveAll(environments)
            return Check(name: name, status: .ok, detail: "\(count) reference\(count == 1 ? "" : "s") resolve")
        } catch {
            return Check(name: name, status: .fail, detail: String(describing: error),
                         fix: "set the variable or make the file readable (mode 0600) for the user that runs serve, or change the reference with 'mcpctl app update'")
        }
    }

    /// The client-secret files of identity providers and outside issuers: regular files only their owner
    /// may read (as `serve` requires when it reads them).
    static func secretFiles(_ db: Database) -> Check {
        let name = "client secret files"
        let rows: [Row]
        do {
            rows = try db.query("SELECT 'idp ' || name AS what, client_secret_file AS file FROM identity_providers UNION ALL "
                                + "SELECT 'issuer ' || name, client_secret_file FROM outside_issuers WHERE client_secret_file IS NOT NULL")
        } catch {
            return Check(name: name, status: .skip, detail: "no identity providers or issuers in this store")
        }
        let problems = rows.compactMap { row -> String? in
            guard let what = row.string("what"), let file = row.string("file") else { return nil }
            return SecretFile.problem(file).map { "\(what): \($0)" }
        }
        guard problems.isEmpty else {
            return Check(name: name, status: .fail, detail: problems.joined(separator: "; "),
                         fix: "chmod 600 the file (owned by the user that runs serve), or add the provider or issuer again with another file")
        }
        return Check(name: name, status: .ok, detail: rows.isEmpty ? "none configured" : "\(rows.count) file\(rows.count == 1 ? "" : "s") readable by their owner only")
    }

    // MARK: The public URL

    static func publicURL(_ raw: String) -> [Check] {
        var url = raw
        while url.hasSuffix("/") { url.removeLast() }
        let metadataURL = url + "/.well-known/oauth-authorization-server"
        let fix = "check the reverse proxy forwards \(metadataURL) to mcpctl and that serve runs with --public-url \(url)"
        let client = HTTPClient(maxIdleConnectionsPerHost: 1)
        let sent = Date()
        guard let request = HTTPClientRequest(url: metadataURL, timeout: 10) else {
            return [Check(name: "public url", status: .fail, detail: "\(raw) is not a URL", fix: "pass the https URL clients use")]
        }
        let response: HTTPClientResponse, body: [UInt8]
        do {
            response = try client.send(request)
            body = try response.readAll(limit: 1 << 20)
        } catch {
            return [Check(name: "public url", status: .fail, detail: "\(metadataURL): \(error)", fix: fix)]
        }
        let received = Date()
        var checks: [Check] = []
        let issuer = response.status == 200 ? (try? JSON.parse(String(decoding: body, as: UTF8.self)))?["issuer"]?.stringValue : nil
        if let issuer, issuer == url {
            checks.append(Check(name: "public url", status: .ok, detail: "metadata reachable, issuer \(issuer)"))
        } else if let issuer {
            checks.append(Check(name: "public url", status: .fail, detail: "issuer is \(issuer), not \(url) (clients reject the mismatch, RFC 8414 §3.3)",
                                fix: "restart serve with --public-url \(url), and make the proxy pass the Host unchanged"))
        } else {
            checks.append(Check(name: "public url", status: .fail, detail: "\(metadataURL) answered HTTP \(response.status) without an issuer", fix: fix))
        }
        checks.append(clock(response.headers["Date"], sent: sent, received: received))
        return checks
    }

    /// RFC 9110 §5.6.7: `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func imfFixdate(_ text: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return f.date(from: text)
    }

    static func clock(_ dateHeader: String?, sent: Date, received: Date) -> Check {
        let name = "clock skew"
        guard let dateHeader, let date = imfFixdate(dateHeader) else {
            return Check(name: name, status: .warn, detail: "the public URL sent no Date header", fix: "compare this host's clock with NTP (timedatectl)")
        }
        // The server's clock read some time between sending and receiving; a Date header has whole seconds.
        let mid = sent.addingTimeInterval(received.timeIntervalSince(sent) / 2)
        let skew = abs(date.timeIntervalSince(mid)) - received.timeIntervalSince(sent) / 2 - 1
        let shown = String(format: "%.1f", max(0, skew))
        if skew > 60 { return Check(name: name, status: .fail, detail: "\(shown)s between this host and the server", fix: "sync both clocks with NTP: tokens expire by the clock") }
        if skew > 5 { return Check(name: name, status: .warn, detail: "\(shown)s between this host and the server", fix: "sync both clocks with NTP") }
        return Check(name: name, status: .ok, detail: "within 5s of the server")
    }
}
