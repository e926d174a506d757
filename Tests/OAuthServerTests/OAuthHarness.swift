import Foundation
import HTTP
import MCPAuth
import OAuthServer
import Synchronization
import Testing

/// One HTTP answer as a test sees it.
struct Reply {
    let status: Int
    let headers: HTTPHeaders
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: JSON { (try? JSON.parse(body)) ?? .null }
    var location: String? { headers["Location"] }
    /// Query parameters of the Location header.
    var redirectParams: [String: String] {
        guard let location, let q = location.split(separator: "?", maxSplits: 1).last, location.contains("?") else { return [:] }
        var out: [String: String] = [:]
        for (name, value) in FormURLEncoding.decode(String(q)) where out[name] == nil { out[name] = value }
        return out
    }
}

/// A fresh store and a running authorization server on a loopback port, for one test.
final class OAuthHarness: @unchecked Sendable {
    let dir: URL
    let pool: StorePool
    let http: HTTPServer
    let port: Int
    /// Where the server listens (requests go here); `issuer` is the public URL, usually the same.
    let base: String
    let issuer: String
    let oauth: OAuthServer
    let client = HTTPClient(maxIdleConnectionsPerHost: 8, idleConnectionTimeout: 5)
    static let password = "correct horse battery"

    /// Whether this harness made its directory (and removes it at the end).
    private let ownsDirectory: Bool
    /// The store: a file in `dir`, or, when `MCPCTL_TEST_DB` names a PostgreSQL database (`.ci/postgres`),
    /// a new empty schema there, so these suites run on both stores.
    let location: String

    static let postgresURL: String? = ProcessInfo.processInfo.environment["MCPCTL_TEST_DB"].flatMap { $0.isEmpty ? nil : $0 }

    static func storeLocation(_ dir: URL) throws -> String {
        guard let url = postgresURL else { return dir.appendingPathComponent("store/mcpctl.db").path }
        let schema = "o" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try Database(path: url).execute("CREATE SCHEMA \(schema)")
        return url + (url.contains("?") ? "&" : "?") + "options=-csearch_path%3D" + schema
    }

    /// A server on a fresh store, or with `reopening` on the store of another harness (a restart).
    init(reopening other: OAuthHarness? = nil, _ configure: (inout OAuthConfiguration) -> Void = { _ in }) throws {
        ownsDirectory = other == nil
        dir = other?.dir ?? FileManager.default.temporaryDirectory.appendingPathComponent("mcpctl-oauth-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        location = try other?.location ?? OAuthHarness.storeLocation(dir)
        pool = try StorePool(path: location)
        // The issuer names the port, which is only known once the server listens.
        let box = Mutex<OAuthServer?>(nil)
        http = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0)) { request in
            box.withLock { $0 }?.handle(request) ?? HTTPResponse.text("not found", status: 404)
        }
        port = try http.start()
        base = "http://127.0.0.1:\(port)"
        var configuration = OAuthConfiguration(publicURL: base)
        configure(&configuration)
        issuer = configuration.publicURL
        oauth = OAuthServer(pool: pool, configuration: configuration)
        box.withLock { $0 = oauth }
    }

    deinit {
        http.shutdown(gracePeriod: 1)
        if ownsDirectory { try? FileManager.default.removeItem(at: dir) }
    }

    @discardableResult
    func store<T>(_ body: (Store) throws -> T) throws -> T { try pool.with(body) }

    func resource(_ app: String = "notes", _ env: String = "dev") -> String { "\(issuer)/mcp/\(app)/\(env)" }

    // MARK: Fixtures

    /// A user with a password and grants (scopes per app/env); apps are created as needed.
    @discardableResult
    func user(_ email: String = "alice@example.com", grants: [(String, String, ScopeSet)] = [("notes", "dev", .all)]) throws -> User {
        try store { store in
            // A cheap hash for speed: the server verifies with the iteration count stored per user.
            let hashed = Password.hash(OAuthHarness.password, iterations: 1000)
            try store.db.run("""
                INSERT INTO users (email, password_hash, password_salt, password_iterations, created_at) VALUES (?, ?, ?, ?, ?)
                """, [.text(email), .blob(hashed.hash), .blob(hashed.salt), .integer(1000), .integer(Clock.nowMillis())])
            let user = try Users(store: store).require(email)
            for (app, env, scopes) in grants {
                if try Apps(store: store).environment(app: app, env: env) == nil {
                    try Apps(store: store).add(app: app, env: env, upstream: "http://127.0.0.1:9/mcp", command: nil)
                }
                try Grants(store: store).add(email: email, app: app, env: env, scopes: scopes)
            }
            return user
        }
    }

    func app(_ app: String, _ env: String) throws {
        try store { try Apps(store: $0).add(app: app, env: env, upstream: "http://127.0.0.1:9/mcp", command: nil) }
    }

    // MARK: HTTP

    func send(_ method: String, _ pathOrURL: String, headers: [(String, String)] = [], body: [UInt8] = []) throws -> Reply {
        let url = pathOrURL.hasPrefix("http") ? pathOrURL : base + pathOrURL
        let request = HTTPClientRequest(method: method, url: URL(string: url)!, headers: HTTPHeaders(headers), body: body, timeout: 30)
        let response = try client.send(request)
        return Reply(status: response.status, headers: response.headers, body: try response.readAll())
    }

    func get(_ path: String, headers: [(String, String)] = []) throws -> Reply { try send("GET", path, headers: headers) }

    func postForm(_ path: String, _ fields: [(String, String)], headers: [(String, String)] = []) throws -> Reply {
        try send("POST", path, headers: [("Content-Type", "application/x-www-form-urlencoded")] + headers,
                 body: Array(FormURLEncoding.encode(fields.map { (name: $0.0, value: $0.1) }).utf8))
    }

    func postJSON(_ path: String, _ json: JSON, headers: [(String, String)] = []) throws -> Reply {
        try send("POST", path, headers: [("Content-Type", "application/json")] + headers, body: json.bytes)
    }

    // MARK: Clients

    struct RegisteredClient {
        let id: String
        let secret: String?
        let redirectURI: String
    }

    /// Registers a client over RFC 7591 (public unless `confidential`).
    func registerClient(name: String = "Test Client", redirectURI: String = "http://127.0.0.1:33418/callback",
                        authMethod: String = "none", extra: [(String, JSON)] = []) throws -> RegisteredClient {
        let reply = try postJSON("/oauth/register", .object([
            ("client_name", .string(name)), ("redirect_uris", .array([.string(redirectURI)])),
            ("token_endpoint_auth_method", .string(authMethod)),
            ("grant_types", .array(["authorization_code", "refresh_token"])),
        ] + extra))
        try #require(reply.status == 201, "registration failed: \(reply.status) \(reply.text)")
        return RegisteredClient(id: reply.json["client_id"]?.stringValue ?? "", secret: reply.json["client_secret"]?.stringValue,
                                redirectURI: redirectURI)
    }

    // MARK: PKCE and authorize URLs

    static func verifier() -> String { Base62.random(count: 64) }

    func authorizeQuery(_ client: RegisteredClient, verifier: String, state: String = "st-123", scope: String? = "read write delete",
                        resource: String? = nil, redirectURI: String? = nil, omit: Set<String> = [],
                        extra: [(String, String)] = []) -> String {
        var items: [(String, String)] = [
            ("response_type", "code"), ("client_id", client.id), ("redirect_uri", redirectURI ?? client.redirectURI),
            ("state", state), ("code_challenge", PKCE.challenge(forVerifier: verifier)), ("code_challenge_method", "S256"),
            ("resource", resource ?? self.resource()),
        ]
        if let scope { items.append(("scope", scope)) }
        items = items.filter { !omit.contains($0.0) } + extra
        return "/oauth/authorize?" + FormURLEncoding.encode(items.map { (name: $0.0, value: $0.1) })
    }

    // MARK: Token endpoint

    func exchange(_ client: RegisteredClient, code: String, verifier: String, redirectURI: String? = nil, resource: String? = nil,
                  extra: [(String, String)] = []) throws -> Reply {
        var fields: [(String, String)] = [("grant_type", "authorization_code"), ("code", code), ("code_verifier", verifier),
                                          ("redirect_uri", redirectURI ?? client.redirectURI), ("resource", resource ?? self.resource())]
        var headers: [(String, String)] = []
        if let secret = client.secret {
            headers.append(("Authorization", "Basic " + Data("\(client.id):\(secret)".utf8).base64EncodedString()))
        } else {
            fields.append(("client_id", client.id))
        }
        return try postForm("/oauth/token", fields + extra, headers: headers)
    }

    func refresh(_ client: RegisteredClient, _ token: String, scope: String? = nil) throws -> Reply {
        var fields: [(String, String)] = [("grant_type", "refresh_token"), ("refresh_token", token)]
        if let scope { fields.append(("scope", scope)) }
        var headers: [(String, String)] = []
        if let secret = client.secret {
            headers.append(("Authorization", "Basic " + Data("\(client.id):\(secret)".utf8).base64EncodedString()))
        } else {
            fields.append(("client_id", client.id))
        }
        return try postForm("/oauth/token", fields, headers: headers)
    }

    /// A browser signed in as `email` that has approved `client` once (so a consent exists).
    func approvedBrowser(_ client: RegisteredClient, email: String = "alice@example.com") throws -> Browser {
        if try store({ try Users(store: $0).find(email) }) == nil { try user(email) }
        let browser = Browser(self)
        _ = try browser.authorize(authorizeQuery(client, verifier: OAuthHarness.verifier()), email: email)
        return browser
    }

    /// Drives the whole flow (login, consent with `untick` cleared) and returns the token response.
    func obtainTokens(_ client: RegisteredClient, email: String = "alice@example.com", scope: String? = "read write delete",
                      untick: Set<String> = []) throws -> Reply {
        let verifier = OAuthHarness.verifier()
        let browser = Browser(self)
        let code = try browser.authorize(authorizeQuery(client, verifier: verifier, scope: scope), email: email, untick: untick)
        return try exchange(client, code: code, verifier: verifier)
    }
}

/// A minimal browser: a cookie jar and the login/consent forms driven over HTTP.
final class Browser {
    let h: OAuthHarness
    var cookies: [String: String] = [:]

    init(_ h: OAuthHarness) { self.h = h }

    private func remember(_ reply: Reply) {
        for header in reply.headers.values(for: "Set-Cookie") {
            let pair = header.split(separator: ";").first.map(String.init) ?? ""
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if kv.count == 2 { cookies[kv[0]] = kv[1] }
        }
    }

    private var cookieHeader: [(String, String)] {
        cookies.isEmpty ? [] : [("Cookie", cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))]
    }

    func get(_ path: String, headers: [(String, String)] = []) throws -> Reply {
        let r = try h.get(path, headers: cookieHeader + headers)
        remember(r)
        return r
    }

    func post(_ fields: [(String, String)], headers: [(String, String)] = []) throws -> Reply {
        let r = try h.postForm("/oauth/authorize", fields, headers: cookieHeader + headers)
        remember(r)
        return r
    }

    /// The value of a hidden form field in a page.
    static func hidden(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        let rest = html[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    /// Posts the login form of `page`; returns the answer as it is (303, or 429 when throttled).
    func postLogin(_ page: Reply, email: String = "alice@example.com", password: String = OAuthHarness.password) throws -> Reply {
        let tx = try #require(Browser.hidden("tx", in: page.text), "no tx field in: \(page.text)")
        let csrf = try #require(Browser.hidden("csrf", in: page.text))
        return try post([("tx", tx), ("csrf", csrf), ("email", email), ("password", password)])
    }

    /// Posts the login form of `page`; returns the page after the 303.
    func login(_ page: Reply, email: String = "alice@example.com", password: String = OAuthHarness.password) throws -> Reply {
        let r = try postLogin(page, email: email, password: password)
        try #require(r.status == 303, "login answered \(r.status)")
        return try get(r.location ?? "")
    }

    /// Posts the consent form with every offered scope ticked except `untick`; returns the 303.
    func decide(_ page: Reply, decision: String = "approve", untick: Set<String> = []) throws -> Reply {
        let tx = try #require(Browser.hidden("tx", in: page.text), "no tx field in: \(page.text)")
        let csrf = try #require(Browser.hidden("csrf", in: page.text))
        var fields = [("tx", tx), ("csrf", csrf)]
        for scope in ["read", "write", "delete"] where page.text.contains("name=\"scope\" value=\"\(scope)\"") && !untick.contains(scope) {
            fields.append(("scope", scope))
        }
        fields.append(("decision", decision))
        return try post(fields)
    }

    /// The whole flow to a code: authorize, log in if asked, approve.
    func authorize(_ query: String, email: String = "alice@example.com", untick: Set<String> = []) throws -> String {
        var page = try get(query)
        try #require(page.status == 200, "authorize answered \(page.status): \(page.text)")
        if page.text.contains("name=\"password\"") { page = try login(page, email: email) }
        let r = try decide(page, untick: untick)
        try #require(r.status == 303, "consent answered \(r.status): \(r.text)")
        return try #require(r.redirectParams["code"], "no code in \(r.location ?? "nil")")
    }
}
