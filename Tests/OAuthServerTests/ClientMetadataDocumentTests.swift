import Foundation
import HTTP
import MCPAuth
import Synchronization
import Testing

/// A loopback web server publishing Client ID Metadata Documents, counting fetches.
final class DocumentHost: @unchecked Sendable {
    let server: HTTPServer
    let port: Int
    let fetches = Atomic<Int>(0)
    /// What to answer: status, headers, body, given the document URL.
    let answer: Mutex<@Sendable (String) -> (Int, [(String, String)], [UInt8])>

    init() throws {
        let box = Mutex<DocumentHost?>(nil)
        answer = Mutex({ _ in (404, [], []) })
        server = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0)) { request in
            guard let host = box.withLock({ $0 }) else { return HTTPResponse.text("starting", status: 503) }
            host.fetches.add(1, ordering: .relaxed)
            let (status, headers, body) = host.answer.withLock { $0 }(host.url(request.path))
            return HTTPResponse(status: status, headers: HTTPHeaders(headers), body: .bytes(body))
        }
        port = try server.start()
        box.withLock { $0 = self }
    }

    deinit { server.shutdown(gracePeriod: 1) }

    func url(_ path: String = "/client.json") -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Serves `document(url)` as JSON with the given Cache-Control.
    func serve(cacheControl: String? = nil, contentType: String = "application/json", status: Int = 200,
               _ document: @escaping @Sendable (String) -> JSON) {
        answer.withLock {
            $0 = { url in
                var headers = [("Content-Type", contentType)]
                if let cacheControl { headers.append(("Cache-Control", cacheControl)) }
                return (status, headers, document(url).bytes)
            }
        }
    }

    static func document(_ url: String, redirect: String = "http://127.0.0.1:33418/callback", extra: [(String, JSON)] = []) -> JSON {
        .object([("client_id", .string(url)), ("client_name", "Example MCP Client"), ("redirect_uris", .array([.string(redirect)])),
                 ("grant_types", .array(["authorization_code", "refresh_token"])), ("token_endpoint_auth_method", "none")] + extra)
    }
}

@Suite struct ClientMetadataDocumentTests {
    @Test func documentIsFetchedValidatedAndTheClientRecordedAsCIMD() throws {
        let docs = try DocumentHost()
        docs.serve { DocumentHost.document($0) }
        let h = try OAuthHarness { $0.allowLoopbackClientMetadata = true }
        try h.user()
        let client = OAuthHarness.RegisteredClient(id: docs.url(), secret: nil, redirectURI: "http://127.0.0.1:33418/callback")
        let verifier = OAuthHarness.verifier()
        let browser = Browser(h)
        let page = try browser.login(try browser.get(h.authorizeQuery(client, verifier: verifier)))
        #expect(page.text.contains("Example MCP Client"))
        #expect(page.text.contains("unverified"))
        #expect(page.text.contains("127.0.0.1"))
        let code = try #require(try browser.decide(page).redirectParams["code"])
        let t = try h.exchange(client, code: code, verifier: verifier)
        #expect(t.status == 200, "\(t.text)")
        let record = try h.store { try Clients(store: $0).require(docs.url()) }
        #expect(record.registration == "cimd")
        #expect(record.name == "Example MCP Client")
        #expect(record.users == 1)
    }

    @Test func documentWhoseClientIDIsNotItsURLIsRefused() throws {
        let docs = try DocumentHost()
        docs.serve { _ in DocumentHost.document("https://impostor.example.com/client.json") }
        let h = try OAuthHarness { $0.allowLoopbackClientMetadata = true }
        let client = OAuthHarness.RegisteredClient(id: docs.url(), secret: nil, redirectURI: "http://127.0.0.1:33418/callback")
        let r = try h.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
        #expect(r.status == 400 && r.location == nil)
        #expect(r.text.contains("client_id does not equal its URL"))
        #expect(try h.store { try Clients(store: $0).find(docs.url()) } == nil)
    }

    @Test func redirectURINotListedInTheDocumentIsRefused() throws {
        let docs = try DocumentHost()
        docs.serve { DocumentHost.document($0) }
        let h = try OAuthHarness { $0.allowLoopbackClientMetadata = true }
        let client = OAuthHarness.RegisteredClient(id: docs.url(), secret: nil, redirectURI: "https://attacker.example.com/cb")
        let r = try h.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
        #expect(r.status == 400 && r.location == nil)
        #expect(r.text.contains("Invalid redirect URI"))
    }

    @Test func documentsWithSecretsOrWrongShapesAreRefused() throws {
        let docs = try DocumentHost()
        let h = try OAuthHarness { $0.allowLoopbackClientMetadata = true }
        let cases: [(@Sendable (String) -> JSON, String, Int)] = [
            ({ DocumentHost.document($0, extra: [("client_secret", "s3cret")]) }, "application/json", 200),
            ({ DocumentHost.document($0, extra: [("token_endpoint_auth_method", "client_secret_basic")]) }, "application/json", 200),
            ({ DocumentHost.document($0) }, "text/html", 200),
            ({ DocumentHost.document($0) }, "application/json", 302),
            ({ DocumentHost.document($0, extra: [("padding", .string(String(repeating: "x", count: 6000)))]) }, "application/json", 200),
        ]
        for (i, (document, type, status)) in cases.enumerated() {
            docs.serve(cacheControl: "no-store", contentType: type, status: status, document)
            let url = docs.url("/client\(i).json")
            let client = OAuthHarness.RegisteredClient(id: url, secret: nil, redirectURI: "http://127.0.0.1:33418/callback")
            let r = try h.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
            #expect(r.status == 400 && r.location == nil, "case \(i): \(r.status)")
            #expect(try h.store { try Clients(store: $0).find(url) } == nil, "case \(i)")
        }
    }

    @Test func privateNetworkAndPlainHttpDocumentsAreRefusedWithoutTheTestFlag() throws {
        let docs = try DocumentHost()
        docs.serve { DocumentHost.document($0) }
        let h = try OAuthHarness()
        for url in [docs.url(), "https://127.0.0.1:\(docs.port)/client.json", "https://localhost:\(docs.port)/client.json",
                    "https://10.1.2.3/client.json", "https://169.254.169.254/latest/meta-data", "https://[::1]/client.json",
                    "https://192.168.1.1/c.json", "https://100.64.0.1/c.json"] {
            let client = OAuthHarness.RegisteredClient(id: url, secret: nil, redirectURI: "http://127.0.0.1:33418/callback")
            let r = try h.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
            #expect(r.status == 400 && r.location == nil, "\(url)")
        }
        #expect(docs.fetches.load(ordering: .relaxed) == 0, "nothing was fetched")
    }

    @Test func clientIDURLsMustHaveAPathAndNoDotSegmentsFragmentsOrUserinfo() {
        for bad in ["https://example.com", "https://example.com/", "https://example.com/a/../b.json", "https://example.com/./c.json",
                    "https://u:p@example.com/c.json", "https://example.com/c.json#x", "http://example.com/c.json"] {
            #expect(ClientMetadataDocument.urlProblem(bad, allowInsecure: false) != nil, "\(bad)")
        }
        #expect(ClientMetadataDocument.urlProblem("https://app.example.com/oauth/client.json", allowInsecure: false) == nil)
    }

    @Test func documentIsCachedAsItsCacheHeadersSay() throws {
        let docs = try DocumentHost()
        let h = try OAuthHarness { $0.allowLoopbackClientMetadata = true }
        docs.serve(cacheControl: "max-age=600") { DocumentHost.document($0) }
        let cached = OAuthHarness.RegisteredClient(id: docs.url("/cached.json"), secret: nil, redirectURI: "http://127.0.0.1:33418/callback")
        for _ in 0..<3 { #expect(try h.get(h.authorizeQuery(cached, verifier: OAuthHarness.verifier())).status == 200) }
        #expect(docs.fetches.load(ordering: .relaxed) == 1)
        docs.serve(cacheControl: "no-store") { DocumentHost.document($0) }
        let uncached = OAuthHarness.RegisteredClient(id: docs.url("/uncached.json"), secret: nil, redirectURI: "http://127.0.0.1:33418/callback")
        for _ in 0..<3 { #expect(try h.get(h.authorizeQuery(uncached, verifier: OAuthHarness.verifier())).status == 200) }
        #expect(docs.fetches.load(ordering: .relaxed) == 4)
    }

    @Test func documentFetchesAreRateLimitedPerAddress() throws {
        let docs = try DocumentHost()
        docs.serve(cacheControl: "no-store") { DocumentHost.document($0) }
        let h = try OAuthHarness { $0.allowLoopbackClientMetadata = true; $0.registrationBurst = 2; $0.registrationsPerMinute = 1 }
        var statuses: [Int] = []
        for i in 0..<3 {
            let client = OAuthHarness.RegisteredClient(id: docs.url("/c\(i).json"), secret: nil, redirectURI: "http://127.0.0.1:33418/callback")
            statuses.append(try h.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier())).status)
        }
        #expect(statuses == [200, 200, 400])
        #expect(docs.fetches.load(ordering: .relaxed) == 2)
    }
}
