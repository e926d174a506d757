import Foundation
import HTTP
import MCPAuth
import Testing

@Suite struct RegistrationTests {
    @Test func publicRegistrationAnswers201NoStoreAndAuthMethodNone() throws {
        let h = try OAuthHarness()
        let r = try h.postJSON("/oauth/register", .object([
            ("client_name", "VS Code"), ("redirect_uris", .array(["http://127.0.0.1:33418/callback"])),
            ("token_endpoint_auth_method", "none"), ("grant_types", .array(["authorization_code", "refresh_token"])),
        ]))
        #expect(r.status == 201)
        #expect(r.headers["Cache-Control"] == "no-store")
        #expect(r.json["token_endpoint_auth_method"]?.stringValue == "none")
        #expect(r.json["client_secret"] == nil)
        let id = try #require(r.json["client_id"]?.stringValue)
        let record = try h.store { try Clients(store: $0).require(id) }
        #expect(record.registration == .dcr)
        #expect(record.redirectURIs == ["http://127.0.0.1:33418/callback"])
    }

    @Test func omittedAuthMethodMeansConfidentialWithASecretShownOnce() throws {
        // RFC 7591 §2: token_endpoint_auth_method defaults to client_secret_basic.
        let h = try OAuthHarness()
        let r = try h.postJSON("/oauth/register", .object([("client_name", "Agent"), ("redirect_uris", .array(["https://agent.example.com/cb"]))]))
        #expect(r.status == 201)
        #expect(r.json["token_endpoint_auth_method"]?.stringValue == "client_secret_basic")
        let secret = try #require(r.json["client_secret"]?.stringValue)
        #expect(TokenSecret.kind(of: secret) == "cs")
        #expect(r.json["client_secret_expires_at"]?.intValue == 0)
        let stored = try h.store { try $0.db.first("SELECT secret_hash FROM clients WHERE client_id = ?", [.text(r.json["client_id"]?.stringValue ?? "")]) }
        #expect(stored?["secret_hash"].bytes == TokenSecret.hash(secret))
    }

    @Test(arguments: [
        "http://evil.example.com/cb",          // http off loopback
        "https://app.example.com/cb#frag",     // fragment
        "https://user:pw@app.example.com/cb",  // userinfo
        "myapp:/callback",                     // private-use scheme without a dot
        "javascript:alert(1)",
        "/relative/path",
    ])
    func registrationRefusesUnsafeRedirectURIs(uri: String) throws {
        let h = try OAuthHarness()
        let r = try h.postJSON("/oauth/register", .object([("client_name", "x"), ("redirect_uris", .array([.string(uri)])),
                                                          ("token_endpoint_auth_method", "none")]))
        #expect(r.status == 400)
        #expect(r.json["error"]?.stringValue == "invalid_redirect_uri", "\(uri): \(r.text)")
    }

    @Test func registrationAcceptsLoopbackHttpsAndReverseDomainSchemes() throws {
        let h = try OAuthHarness()
        for uri in ["http://localhost:8080/cb", "http://[::1]/cb", "https://app.example.com/cb", "com.example.app:/oauth2redirect"] {
            let r = try h.postJSON("/oauth/register", .object([("redirect_uris", .array([.string(uri)])), ("token_endpoint_auth_method", "none")]))
            #expect(r.status == 201, "\(uri): \(r.text)")
        }
    }

    @Test func registrationRejectsBadMetadataWithInvalidClientMetadata() throws {
        let h = try OAuthHarness()
        let cases: [JSON] = [
            .object([("client_name", "no redirect")]),
            .object([("redirect_uris", .array(["https://a.example/cb"])), ("token_endpoint_auth_method", "private_key_jwt")]),
            .object([("redirect_uris", .array(["https://a.example/cb"])), ("grant_types", .array(["client_credentials"]))]),
            .object([("redirect_uris", .array(["https://a.example/cb"])), ("response_types", .array(["token"]))]),
            .object([("redirect_uris", "https://a.example/cb")]),
            .array([]),
        ]
        for body in cases {
            let r = try h.postJSON("/oauth/register", body)
            #expect(r.status == 400, "\(body.encoded()): \(r.text)")
            #expect(["invalid_client_metadata", "invalid_redirect_uri"].contains(r.json["error"]?.stringValue ?? ""), "\(r.text)")
        }
        let notJSON = try h.send("POST", "/oauth/register", headers: [("Content-Type", "application/json")], body: Array("{nope".utf8))
        #expect(notJSON.json["error"]?.stringValue == "invalid_client_metadata")
        let form = try h.postForm("/oauth/register", [("redirect_uris", "https://a.example/cb")])
        #expect(form.json["error"]?.stringValue == "invalid_client_metadata")
    }

    @Test func registrationIgnoresUnknownFields() throws {
        let h = try OAuthHarness()
        let r = try h.postJSON("/oauth/register", .object([
            ("client_name", "Cursor"), ("redirect_uris", .array(["http://127.0.0.1:9/cb"])), ("token_endpoint_auth_method", "none"),
            ("x_vendor_extension", .object([("deep", .array([1, 2, 3].map { JSON.int($0) }))])), ("logo_uri", "https://evil.example/logo.png"),
        ]))
        #expect(r.status == 201)
        #expect(r.json["x_vendor_extension"] == nil)
        #expect(r.json["client_name"]?.stringValue == "Cursor")
    }

    @Test func identicalPublicRegistrationsAreDeduplicated() throws {
        let h = try OAuthHarness()
        let a = try h.registerClient(name: "Claude", redirectURI: "http://localhost:6274/cb")
        let b = try h.registerClient(name: "Claude", redirectURI: "http://localhost:6274/cb")
        let c = try h.registerClient(name: "Claude", redirectURI: "http://localhost:6275/other")
        #expect(a.id == b.id)
        #expect(a.id != c.id)
        let count = try h.store { try $0.db.first("SELECT COUNT(*) AS n FROM clients")?.int("n") }
        #expect(count == 2)
        // Confidential registrations never share: each gets its own secret.
        let d = try h.registerClient(name: "Claude", redirectURI: "http://localhost:6274/cb", authMethod: "client_secret_post")
        let e = try h.registerClient(name: "Claude", redirectURI: "http://localhost:6274/cb", authMethod: "client_secret_post")
        #expect(d.id != e.id && d.secret != nil && e.secret != nil)
    }

    @Test func registrationRateLimitAnswers429WithRetryAfter() throws {
        let h = try OAuthHarness { $0.registrationBurst = 3; $0.registrationsPerMinute = 1 }
        for i in 0..<3 { _ = try h.registerClient(name: "c\(i)") }
        let r = try h.postJSON("/oauth/register", .object([("redirect_uris", .array(["http://127.0.0.1/cb"])), ("token_endpoint_auth_method", "none")]))
        #expect(r.status == 429)
        let retry = try #require(Int(r.headers["Retry-After"] ?? ""))
        #expect(retry >= 1 && retry <= 60)
    }

    @Test func registrationBodyAndListSizesAreCapped() throws {
        let h = try OAuthHarness()
        let big = String(repeating: "x", count: 20_000)
        let r1 = try h.postJSON("/oauth/register", .object([("client_name", .string(big)), ("redirect_uris", .array(["https://a.example/cb"]))]))
        #expect(r1.status == 413)
        let many = (0..<11).map { JSON.string("https://a.example/cb\($0)") }
        let r2 = try h.postJSON("/oauth/register", .object([("redirect_uris", .array(many))]))
        #expect(r2.status == 400)
        #expect(r2.json["error"]?.stringValue == "invalid_client_metadata")
        let longName = String(repeating: "n", count: 257)
        let r3 = try h.postJSON("/oauth/register", .object([("client_name", .string(longName)), ("redirect_uris", .array(["https://a.example/cb"]))]))
        #expect(r3.json["error"]?.stringValue == "invalid_client_metadata")
    }

    @Test func neverUsedClientsAreReclaimedOldestFirst() throws {
        let h = try OAuthHarness { $0.maxUnusedClients = 3 }
        try h.user()
        let used = try h.registerClient(name: "used")
        #expect(try h.obtainTokens(used).status == 200)
        var ids: [String] = []
        for i in 0..<5 {
            ids.append(try h.registerClient(name: "unused \(i)", redirectURI: "http://127.0.0.1:\(4000 + i)/cb").id)
            Thread.sleep(forTimeInterval: 0.002)
        }
        let remaining = try h.store { store in try Set(store.db.query("SELECT client_id FROM clients").compactMap { $0.string("client_id") }) }
        #expect(remaining.contains(used.id), "a client with tokens is never reclaimed")
        #expect(!remaining.contains(ids[0]) && !remaining.contains(ids[1]), "the oldest never-used clients go first")
        #expect(remaining.isSuperset(of: ids[2...]))
        let audit = try h.store { try $0.db.first("SELECT COUNT(*) AS n FROM audit WHERE action = 'client.reclaim' AND source = 'oauth'")?.int("n") }
        #expect(audit == 2)
    }

    @Test func rateLimitsSeeTheClientBehindATrustedProxyAndIgnoreForwardedForOtherwise() throws {
        func register(_ h: OAuthHarness, from address: String) throws -> Int {
            try h.postJSON("/oauth/register", .object([("redirect_uris", .array(["http://127.0.0.1/cb"])), ("token_endpoint_auth_method", "none")]),
                           headers: [("X-Forwarded-For", address)]).status
        }
        let proxied = try OAuthHarness { $0.registrationBurst = 2; $0.registrationsPerMinute = 1; $0.trustedProxies = ["127.0.0.1"] }
        #expect(try register(proxied, from: "203.0.113.5") == 201)
        #expect(try register(proxied, from: "203.0.113.5") == 201)
        #expect(try register(proxied, from: "203.0.113.5") == 429)
        #expect(try register(proxied, from: "203.0.113.6") == 201, "another client behind the same proxy has its own budget")
        let direct = try OAuthHarness { $0.registrationBurst = 2; $0.registrationsPerMinute = 1 }
        #expect(try register(direct, from: "198.51.100.1") == 201)
        #expect(try register(direct, from: "198.51.100.2") == 201)
        #expect(try register(direct, from: "198.51.100.3") == 429, "a spoofed X-Forwarded-For from an untrusted peer changes nothing")
    }

    static let hostileNames: [String] = [
        "Evil\u{1b}[2J\u{1b}[31mClient",          // ANSI escape: clears a terminal, recolours text
        "Good Client\nclient_x  Admin Tool",       // a forged second table row
        "Tab\there", "Bell\u{7}", "Null\u{0}byte", "C1\u{9b}31m", "Del\u{7f}",
        "Invoice \u{202e}fdp.exe",                  // RIGHT-TO-LEFT OVERRIDE
        "\u{202a}embedded", "\u{202b}x", "\u{202c}x", "\u{202d}x",
        "\u{2066}isolate", "\u{2067}x", "\u{2068}x", "\u{2069}x",
        String(repeating: "n", count: 257),
    ]

    @Test func registrationRefusesClientNamesWithControlOrBidiCharactersOrOverLong() throws {
        let h = try OAuthHarness()
        for name in RegistrationTests.hostileNames {
            let r = try h.postJSON("/oauth/register", .object([("client_name", .string(name)), ("redirect_uris", .array(["https://a.example/cb"])),
                                                              ("token_endpoint_auth_method", "none")]))
            #expect(r.status == 400, "\(name.debugDescription): \(r.text)")
            // RFC 7591 §3.2.2
            #expect(r.json["error"]?.stringValue == "invalid_client_metadata")
            #expect(r.json["error_description"]?.stringValue?.contains("client_name") == true)
        }
        #expect(try h.store { try $0.db.first("SELECT COUNT(*) AS n FROM clients")?.int("n") } == 0)
        let longest = try h.postJSON("/oauth/register", .object([("client_name", .string(String(repeating: "n", count: 256))),
                                                                 ("redirect_uris", .array(["https://a.example/cb"])), ("token_endpoint_auth_method", "none")]))
        #expect(longest.status == 201)
        let unicode = try h.postJSON("/oauth/register", .object([("client_name", "Zürich Notes — 日本語 ✓"),
                                                                 ("redirect_uris", .array(["https://a.example/cb"])), ("token_endpoint_auth_method", "none")]))
        #expect(unicode.status == 201 && unicode.json["client_name"]?.stringValue == "Zürich Notes — 日本語 ✓")
    }

    @Test func theDomainRuleThatTheCLIUsesRefusesTheSameNames() throws {
        let h = try OAuthHarness()
        for name in RegistrationTests.hostileNames {
            #expect(ClientName.problem(name) != nil, "\(name.debugDescription)")
            #expect(throws: DomainError.self) {
                try h.store { try Clients(store: $0).register(name: name, redirectURIs: ["https://a.example/cb"], confidential: false, registration: .cli) }
            }
        }
        #expect(ClientName.problem("Claude Desktop") == nil)
        #expect(ClientName.problem("   ") != nil)
    }
}
