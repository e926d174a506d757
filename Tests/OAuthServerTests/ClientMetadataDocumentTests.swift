import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTP
import MCPAuth
import OAuthServer
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
        #expect(record.registration == .cimd)
        #expect(record.name == "Example MCP Client")
        #expect(record.usage?.users == 1)
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

    @Test func documentsWithHostileClientNamesAreRefusedAndNotRecorded() throws {
        let docs = try DocumentHost()
        let h = try OAuthHarness { $0.allowLoopbackClientMetadata = true }
        for (i, name) in ["Evil\u{1b}]8;;https://x.example\u{7}", "Line\nbreak", "Bidi \u{202e}exe.fdp", "\u{2067}iso",
                          String(repeating: "n", count: 257)].enumerated() {
            docs.serve(cacheControl: "no-store") { url in
                .object([("client_id", .string(url)), ("client_name", .string(name)), ("redirect_uris", .array(["http://127.0.0.1:33418/callback"])),
                         ("token_endpoint_auth_method", "none")])
            }
            let url = docs.url("/hostile\(i).json")
            let client = OAuthHarness.RegisteredClient(id: url, secret: nil, redirectURI: "http://127.0.0.1:33418/callback")
            let r = try h.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
            #expect(r.status == 400 && r.location == nil, "\(name.debugDescription)")
            #expect(r.text.contains("client_name"), "\(r.text.prefix(400))")
            #expect(try h.store { try Clients(store: $0).find(url) } == nil)
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

    static let nonPublicIPv6 = [
        "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",   // IPv4-mapped
        "::7f00:1", "::127.0.0.1", "::a00:1", "::",                                           // IPv4-compatible, unspecified
        "::ffff:0:127.0.0.1", "::ffff:0:c0a8:101",                                            // IPv4-translated (SIIT)
        "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::192.168.1.1", "64:ff9b:1::a00:1",  // NAT64 of private v4, local-use NAT64
        "2002:7f00:1::1", "2002:c0a8:101::1",                                                 // 6to4 of private v4
        "fd00::1", "fc12:3456::1", "fe80::1", "fec0::1", "ff02::1", "::1",                    // ULA, link-local, site-local, multicast
        "2001::1", "2001:db8::1", "3fff::1", "100::1",                                        // Teredo, documentation, discard
    ]

    @Test(arguments: nonPublicIPv6)
    func metadataURLsAtNonPublicIPv6LiteralsAreRefusedBeforeAnyFetch(address: String) throws {
        // SSRF through the IPv6 forms that carry or reach a private IPv4 address, or are private themselves.
        let h = try OAuthHarness()
        let url = "https://[\(address)]/client.json"
        let client = OAuthHarness.RegisteredClient(id: url, secret: nil, redirectURI: "http://127.0.0.1:33418/callback")
        let r = try h.get(h.authorizeQuery(client, verifier: OAuthHarness.verifier()))
        #expect(r.status == 400 && r.location == nil)
        #expect(r.text.contains("private or reserved address"), "\(address): \(r.text.prefix(300))")
        #expect(NetworkAddress(address)?.isPublic == false)
    }

    @Test func publicAddressesInEveryFormStayPublic() throws {
        for address in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "::ffff:8.8.8.8",
                        "64:ff9b::808:808", "2002:808:808::1"] {
            #expect(NetworkAddress(address)?.isPublic == true, "\(address)")
        }
        for address in ["10.0.0.1", "172.16.0.1", "192.168.0.1", "100.64.0.1", "169.254.169.254", "127.0.0.1", "0.0.0.0",
                        "192.0.0.8", "192.0.2.1", "198.18.0.1", "198.51.100.1", "203.0.113.1", "192.88.99.1", "224.0.0.1", "255.255.255.255"] {
            #expect(NetworkAddress(address)?.isPublic == false, "\(address)")
        }
    }

    @Test func pinnedIPv6AddressesAreUsedForHttpsFetches() throws {
        // The fetcher connects to the address it checked (no DNS rebinding); for https that is libcurl's
        // CURLOPT_RESOLVE, which needs an IPv6 address in brackets and cannot take an IPv6 literal host
        // before libcurl 8.13. A TLS-less listener on [::1] proves each connection arrived where pinned.
        let listener = try LoopbackIPv6Listener()
        let client = HTTPClient(maxIdleConnectionsPerHost: 1, idleConnectionTimeout: 1)
        for url in ["https://cimd-pinned.invalid:\(listener.port)/client.json", "https://[::1]:\(listener.port)/client.json"] {
            var request = HTTPClientRequest(url: URL(string: url)!, timeout: 5)
            request.connectTo = "::1"
            let before = listener.accepted
            var failure = ""
            do { _ = try client.send(request) } catch { failure = "\(error)" }
            #expect(!failure.isEmpty, "no TLS server listens there")
            #expect(!failure.contains("RESOLVE") && !failure.lowercased().contains("resolve"), "\(url): \(failure)")
            #expect(listener.accepted == before + 1, "\(url) did not reach [::1]: \(failure)")
        }
    }
}

/// A TCP listener on [::1] that only counts the connections it accepts (and closes them at once).
final class LoopbackIPv6Listener: @unchecked Sendable {
    final class Counter: Sendable { let value = Atomic<Int>(0) }
    let fd: Int32
    let port: Int
    private let counter = Counter()
    var accepted: Int { counter.value.load(ordering: .relaxed) }

    init() throws {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        try #require(fd >= 0 && bound == 0 && listen(fd, 16) == 0, "cannot listen on [::1]")
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin6_port))
        let counter = self.counter
        Thread.detachNewThread {
            // Only this thread closes the listener, after accept fails (deinit shuts it down), so the
            // descriptor can never be reused under a blocked accept.
            while true {
                let c = accept(fd, nil, nil)
                if c < 0 { if errno == EINTR { continue } else { break } }
                counter.value.add(1, ordering: .relaxed)
                close(c)
            }
            close(fd)
        }
    }

    deinit { shutdown(fd, Int32(SHUT_RDWR)) }
}
