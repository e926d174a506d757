import Foundation
import HTTP
import MCPAuth
import MCPGateway
#if canImport(Glibc)
import Glibc
#endif

/// One HTTP answer, read to its end.
struct Reply: Sendable {
    let status: Int
    let headers: HTTPHeaders
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    func header(_ name: String) -> String? { headers[name] }

    /// The JSON-RPC messages of the body: the body itself for JSON, each event's data for an event stream.
    var messages: [JSON] {
        if (headers["Content-Type"] ?? "").lowercased().hasPrefix("text/event-stream") {
            var parser = SSEParser()
            return parser.feed(body).compactMap { try? JSON.parse($0.data) }
        }
        return (try? JSON.parse(body)).map { [$0] } ?? []
    }

    /// The last JSON-RPC message (the response, after any notifications).
    var message: JSON? { messages.last }

    /// Names of the tools in a tools/list answer.
    var toolNames: [String] {
        message?["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
    }
}

/// A gateway in this process: a temporary store (seeded through the MCPAuth API), an audit writer, the
/// gateway behind an `HTTPServer` on an ephemeral port, and a fake upstream MCP server with environments
/// `json`, `sse`, `plain` and `paged` of one app, plus `stdio` when a stdio script is wanted.
final class GatewayHarness: @unchecked Sendable {
    static let publicURL = "https://gw.example.com"

    let dir: String
    let dbPath: String
    /// A second connection, as the CLI in another process would have.
    let admin: Store
    let pool: StorePool
    let audit: AuditWriter
    let gateway: Gateway
    let server: HTTPServer
    let port: Int
    let upstream: FakeUpstream
    let configuration: GatewayConfiguration
    /// A unique app name per harness.
    let app: String
    let client = HTTPClient()
    private var closed = false

    /// The store: a file in `dir`, or, when `MCPCTL_TEST_DB` names a PostgreSQL database (`.ci/postgres`),
    /// a new empty schema there, so the gateway suites run on both stores.
    static let postgresURL: String? = ProcessInfo.processInfo.environment["MCPCTL_TEST_DB"].flatMap { $0.isEmpty ? nil : $0 }
    static var isSQLite: Bool { postgresURL == nil }

    static func storeLocation(_ dir: String) throws -> String {
        guard let url = postgresURL else { return dir + "/mcpctl.db" }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let schema = "g" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try Database(path: url).execute("CREATE SCHEMA \(schema)")
        return url + (url.contains("?") ? "&" : "?") + "options=-csearch_path%3D" + schema
    }

    init(stdio: Bool = false, gatewayConfig: (inout GatewayConfiguration) -> Void = { _ in },
         serverConfig: (inout HTTPServerConfiguration) -> Void = { _ in }) throws {
        dir = NSTemporaryDirectory() + "mcpctl-gw-" + UUID().uuidString
        dbPath = try GatewayHarness.storeLocation(dir)
        admin = try Store(path: dbPath)
        pool = try StorePool(path: dbPath)
        audit = try AuditWriter(path: dbPath)
        var gc = GatewayConfiguration(publicURL: GatewayHarness.publicURL)
        gc.upstreamTimeout = 10
        gatewayConfig(&gc)
        configuration = gc
        gateway = try Gateway(pool: pool, configuration: gc, audit: audit, verifier: TokenVerifier(), log: RequestLog(level: .error))
        upstream = try FakeUpstream()
        app = "notes-" + String(UUID().uuidString.prefix(8)).lowercased()

        let apps = Apps(store: admin)
        for env in ["json", "sse", "plain", "paged"] {
            try apps.add(app: app, env: env, upstream: "http://127.0.0.1:\(upstream.port)/\(env)", command: nil)
        }
        if stdio {
            let script = dir + "/stdio_server.py"
            try StdioScript.source.write(toFile: script, atomically: true, encoding: .utf8)
            try apps.add(app: app, env: "stdio", upstream: nil, command: [StdioScript.python, "-u", script])
        }
        let users = Users(store: admin)
        for email in ["alice@example.com", "bob@example.com", "carol@example.com"] {
            _ = try users.add(email: email, name: nil, password: nil)
        }
        // alice and bob: admin on every environment of the app; carol: nothing.
        try Grants(store: admin).add(email: "alice@example.com", app: app, env: "*", scopes: .all)
        try Grants(store: admin).add(email: "bob@example.com", app: app, env: "*", scopes: .all)

        var hc = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
        hc.threadStackSize = 1024 * 1024
        serverConfig(&hc)
        let gateway = self.gateway
        // Wired as `mcpctl serve` wires it (Sources/Commands/ServeCommand.swift).
        server = HTTPServer(configuration: hc, onRejection: { gateway.rejected($0) }, answersOnLoop: { gateway.answersOnLoop($0) }) { request in
            gateway.handle(request) ?? HTTPResponse.json(Array(#"{"error":"not_found"}"#.utf8), status: 404)
        }
        port = try server.start()
    }

    deinit { close() }

    func close() {
        guard !closed else { return }
        closed = true
        server.shutdown(gracePeriod: 1)
        upstream.close()
        gateway.close()
        audit.close()
        try? FileManager.default.removeItem(atPath: dir)
    }

    // MARK: Seeding (the MCPAuth API, as the CLI uses it)

    /// A personal token's secret.
    func token(_ email: String = "alice@example.com", scopes: ScopeSet = .all, app: String? = nil, env: String? = nil,
               lifetime: Int64? = 3600) throws -> String {
        try Tokens(store: admin).create(email: email, name: nil, scopes: scopes, app: app, env: env, lifetimeSeconds: lifetime).secret
    }

    func tokenID(_ secret: String) throws -> String {
        try Tokens(store: admin).find(secret: secret)!.id
    }

    // MARK: Requests

    func path(_ env: String) -> String { "/mcp/\(app)/\(env)" }

    func send(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = [], timeout: Double = 15) throws -> Reply {
        var h = HTTPHeaders()
        for (n, v) in headers { h.add(n, v) }
        let request = HTTPClientRequest(method: method, url: "http://127.0.0.1:\(port)\(path)", headers: h, body: body, timeout: timeout)!
        let response = try client.send(request)
        let bytes = try response.readAll()
        return Reply(status: response.status, headers: response.headers, body: bytes)
    }

    /// POSTs one JSON-RPC message with a bearer token (nil: no credentials).
    func rpc(_ env: String, token: String?, _ json: String, headers: [(String, String)] = []) throws -> Reply {
        var h: [(String, String)] = [("Content-Type", "application/json"), ("Accept", "application/json, text/event-stream")]
        if let token { h.append(("Authorization", "Bearer \(token)")) }
        return try send("POST", path(env), headers: h + headers, body: Array(json.utf8))
    }

    func listTools(_ env: String, token: String, headers: [(String, String)] = [], cursor: String? = nil) throws -> Reply {
        let params = cursor.map { #"{"cursor":"\#($0)"}"# } ?? "{}"
        return try rpc(env, token: token, #"{"jsonrpc":"2.0","id":"list","method":"tools/list","params":\#(params)}"#, headers: headers)
    }

    func call(_ env: String, token: String, _ tool: String, arguments: String = "{}", headers: [(String, String)] = []) throws -> Reply {
        try rpc(env, token: token, #"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"\#(tool)","arguments":\#(arguments)}}"#,
                headers: headers)
    }

    func initialize(_ env: String, token: String, headers: [(String, String)] = []) throws -> Reply {
        try rpc(env, token: token, #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}"#,
                headers: headers)
    }

    // MARK: Audit

    /// Every gateway audit row, oldest first.
    func mcpRows() throws -> [AuditRecord] {
        var f = AuditFilter()
        f.source = .mcp
        var rows: [AuditRecord] = []
        try AuditQuery.stream(f, db: admin.db) { rows.append($0) }
        return rows
    }

    func lastRow() throws -> AuditRecord? { try mcpRows().last }
}

extension AuditRecord {
    func string(_ column: String) -> String? { value(column).string }
    func int(_ column: String) -> Int64? { value(column).int }
}

/// Polls `condition` every 20 ms for at most `seconds`; a bound against hangs, not a timing assertion.
func eventually(within seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(20_000)
    }
    return try condition()
}

/// A value shared between test threads, behind a pthread mutex that ThreadSanitizer sees (a contended
/// `Synchronization.Mutex` is handed over inside the kernel, where it cannot).
final class Locked<Value: Sendable>: Sendable {
    private let guarded: Guarded<Value>
    init(_ value: Value) { guarded = Guarded(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { guarded.withLock { body(&$0) } }
    var value: Value { guarded.withLock { $0 } }
}
