import Foundation
import HTTP
import MCPAuth
#if canImport(Glibc)
import Glibc
#endif

/// Several real `mcpctl serve` processes on one PostgreSQL store (a new schema in `MCPCTL_TEST_DB`), each
/// in front of the same fake upstream, sharing one public URL as replicas behind a load balancer do; the
/// CLI runs as the operator would run it, against the same store. With `relay`, the replicas reach the
/// database through a `TCPRelay` that a test can cut and restore.
final class ReplicaHarness: @unchecked Sendable {
    /// The binary under test: `$MCPCTL_BIN`, else the one next to the test bundle, else .build/release.
    static let binary: String = {
        let fm = FileManager.default
        if let b = ProcessInfo.processInfo.environment["MCPCTL_BIN"], fm.isExecutableFile(atPath: b) { return b }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("mcpctl").path
            if fm.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/release/mcpctl").path
    }()
    static let password = "correct horse battery"

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    let dir: URL
    /// The store as the operator's CLI reaches it (directly).
    let location: String
    /// The store as the replicas reach it (through the relay, if any).
    let serverLocation: String
    let admin: Store
    let upstream: FakeUpstream
    let relay: TCPRelay?
    let app = "notes"
    let ports: [Int]
    let publicURL: String
    private(set) var processes: [Process] = []
    private(set) var logs: [URL] = []
    let client = HTTPClient(maxIdleConnectionsPerHost: 16, idleConnectionTimeout: 5)

    /// `nameConnections` sets the replicas' PostgreSQL `application_name`, so a test can find their connections.
    init(replicas: Int = 2, relay useRelay: Bool = false, nameConnections: String? = nil, extra: [String] = []) throws {
        guard let url = GatewayHarness.postgresURL else { throw Failure("needs MCPCTL_TEST_DB") }
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mcpctl-replicas-" + UUID().uuidString)
        location = try GatewayHarness.storeLocation(dir.path)
        if useRelay {
            let relay = try TCPRelay(to: try ReplicaHarness.port(of: url))
            self.relay = relay
            serverLocation = location.replacingOccurrences(of: ":\(try ReplicaHarness.port(of: url))/", with: ":\(relay.port)/")
        } else {
            relay = nil
            serverLocation = location + (nameConnections.map { "&application_name=" + $0 } ?? "")
        }
        admin = try Store(path: location)
        upstream = try FakeUpstream()
        try Apps(store: admin).add(app: app, env: "json", upstream: "http://127.0.0.1:\(upstream.port)/json", command: nil)
        for email in ["alice@example.com", "bob@example.com"] {
            // A cheap hash for speed: the server verifies with the iteration count stored per user.
            let hashed = Password.hash(ReplicaHarness.password, iterations: 1000)
            try admin.db.run("INSERT INTO users (email, password_hash, password_salt, password_iterations, created_at) VALUES (?, ?, ?, ?, ?)",
                             [.text(email), .blob(hashed.hash), .blob(hashed.salt), .integer(1000), .integer(Clock.nowMillis())])
            try Grants(store: admin).add(email: email, app: app, env: "*", scopes: .all)
        }
        ports = (0..<replicas).map { _ in ReplicaHarness.freePort() }
        publicURL = "http://127.0.0.1:\(ports[0])"
        for port in ports { try startReplica(port: port, extra: extra) }
    }

    deinit { close() }

    func close() {
        for p in processes where p.isRunning { p.terminate() }
        for p in processes { p.waitUntilExit() }
        processes.removeAll()
        relay?.cut()
        upstream.close()
        try? FileManager.default.removeItem(at: dir)
    }

    static func port(of url: String) throws -> Int {
        guard let components = URLComponents(string: url), let port = components.port else { throw Failure("no port in MCPCTL_TEST_DB") }
        return port
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    // MARK: Processes

    private var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for key in ["MCPCTL_PUBLIC_URL", "MCPCTL_LISTEN", "MCPCTL_UNAUTHENTICATED_RATE"] { env.removeValue(forKey: key) }
        return env
    }

    private func startReplica(port: Int, extra: [String]) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ReplicaHarness.binary)
        p.arguments = ["serve", "--listen", "127.0.0.1:\(port)", "--public-url", publicURL, "--log-level", "error"] + extra
        var env = environment
        env["MCPCTL_DB"] = serverLocation
        p.environment = env
        let log = dir.appendingPathComponent("replica-\(port).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = try FileHandle(forWritingTo: log)
        p.standardInput = FileHandle.nullDevice
        try p.run()
        processes.append(p)
        logs.append(log)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let r = try? send(processes.count - 1, "GET", "/healthz"), r.status == 200 { return }
            if !p.isRunning { break }
            usleep(50_000)
        }
        throw Failure("replica on port \(port) did not start: \(self.log(processes.count - 1))")
    }

    /// What replica `i` wrote to its standard error.
    func log(_ i: Int) -> String { (try? String(contentsOf: logs[i], encoding: .utf8)) ?? "" }

    /// Runs the CLI against the store, as the operator would; returns once it has exited.
    @discardableResult
    func mcpctl(_ args: [String], stdin: String? = nil) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ReplicaHarness.binary)
        p.arguments = args
        var env = environment
        env["MCPCTL_DB"] = location
        p.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = input
        try p.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let o = Output(status: p.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
        if o.status != 0 { throw Failure("mcpctl \(args.joined(separator: " ")) exited \(o.status): \(o.stderr)") }
        return o
    }

    // MARK: Requests

    func send(_ replica: Int, _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = [],
              timeout: Double = 15) throws -> Reply {
        var h = HTTPHeaders()
        for (n, v) in headers { h.add(n, v) }
        let request = HTTPClientRequest(method: method, url: "http://127.0.0.1:\(ports[replica])\(path)", headers: h, body: body, timeout: timeout)!
        let response = try client.send(request)
        let bytes = try response.readAll()
        return Reply(status: response.status, headers: response.headers, body: bytes)
    }

    /// A tools/call of read_notes on notes/json through replica `replica` (token nil: no credentials).
    func call(_ replica: Int, token: String?, id: Int = 7, headers: [(String, String)] = [], timeout: Double = 15) throws -> Reply {
        var h: [(String, String)] = [("Content-Type", "application/json"), ("Accept", "application/json, text/event-stream")]
        if let token { h.append(("Authorization", "Bearer \(token)")) }
        let body = #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"read_notes","arguments":{"n":\#(id)}}}"#
        return try send(replica, "POST", "/mcp/\(app)/json", headers: h + headers, body: Array(body.utf8), timeout: timeout)
    }

    func postForm(_ replica: Int, _ path: String, _ fields: [(String, String)], headers: [(String, String)] = []) throws -> Reply {
        try send(replica, "POST", path, headers: [("Content-Type", "application/x-www-form-urlencoded")] + headers,
                 body: Array(FormURLEncoding.encode(fields.map { (name: $0.0, value: $0.1) }).utf8))
    }

    /// A personal token of `email` (through the CLI): its secret and id.
    func token(_ email: String = "alice@example.com") throws -> (secret: String, id: String) {
        let secret = try mcpctl(["token", "create", "--email", email]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let id = try Tokens(store: admin).find(secret: secret)?.id else { throw Failure("token not found") }
        return (secret, id)
    }

    /// Every gateway audit row, oldest first.
    func mcpRows() throws -> [AuditRecord] {
        var f = AuditFilter()
        f.source = .mcp
        var rows: [AuditRecord] = []
        try AuditQuery.stream(f, db: admin.db) { rows.append($0) }
        return rows
    }
}

/// A cookie jar for the sign-in and account pages, shared by every replica (one browser, a load balancer
/// that sends each request wherever it likes).
final class ReplicaBrowser {
    let h: ReplicaHarness
    var cookies: [String: String] = [:]

    init(_ h: ReplicaHarness) { self.h = h }

    private func remember(_ reply: Reply) {
        // One jar for every path: a cookie cleared at another path (the pages clear a legacy one at /oauth)
        // does not clear the site-wide cookie of the same name.
        for header in reply.headers.values(for: "Set-Cookie") where !(header.contains("Path=/oauth;") && header.contains("Max-Age=0")) {
            let pair = header.split(separator: ";").first.map(String.init) ?? ""
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard kv.count == 2 else { continue }
            if kv[1].isEmpty || header.contains("Max-Age=0") { cookies[kv[0]] = nil } else { cookies[kv[0]] = kv[1] }
        }
    }

    var cookieHeader: [(String, String)] {
        cookies.isEmpty ? [] : [("Cookie", cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))]
    }

    /// A path on the replicas' site, from an absolute Location on the shared public URL or a path.
    static func path(_ location: String) -> String {
        guard location.hasPrefix("http"), let c = URLComponents(string: location) else { return location }
        return c.percentEncodedPath + (c.percentEncodedQuery.map { "?" + $0 } ?? "")
    }

    func get(_ replica: Int, _ path: String) throws -> Reply {
        let r = try h.send(replica, "GET", ReplicaBrowser.path(path), headers: cookieHeader)
        remember(r)
        return r
    }

    func post(_ replica: Int, _ path: String, _ fields: [(String, String)]) throws -> Reply {
        let r = try h.postForm(replica, ReplicaBrowser.path(path), fields, headers: cookieHeader)
        remember(r)
        return r
    }

    /// The value of a hidden form field in a page.
    static func hidden(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        let rest = html[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    /// GET /login on `replica`: the form's csrf field (the form's cookie is kept).
    func loginForm(_ replica: Int) throws -> String {
        let form = try get(replica, "/login")
        guard form.status == 200, let csrf = ReplicaBrowser.hidden("csrf", in: form.text) else { throw ReplicaHarness.Failure("GET /login: \(form.status)") }
        return csrf
    }

    /// Posts the sign-in form to `replica`; returns the answer (303 signed in or back to the form, 429 throttled).
    func signIn(_ replica: Int, csrf: String, email: String = "alice@example.com", password: String = ReplicaHarness.password) throws -> Reply {
        try post(replica, "/login", [("csrf", csrf), ("next", "/account"), ("email", email), ("password", password)])
    }
}
