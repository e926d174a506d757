import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTP
import MCPAuth

/// Fetches and caches Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document-00,
/// MCP 2025-11-25 "Client ID Metadata Documents"): size and time limits, no redirects, no private-network
/// targets (MCP 2025-11-25 "Authorization Server Abuse Protection": SSRF), and a cache that honours
/// `Cache-Control`.
final class ClientMetadataFetcher: Sendable {
    /// A cached outcome: a document, or the refusal to repeat until the entry expires.
    private struct Entry {
        let result: Result<ClientMetadata, OAuthError>
        let expires: Double
    }

    private let cache = Guarded<[String: Entry]>([:])
    private let allowInsecure: Bool
    private let timeout: Double
    private let maxBytes: Int
    private let client = HTTPClient(maxIdleConnectionsPerHost: 2, idleConnectionTimeout: 5)
    /// How long a document without cache headers, and a failure, are remembered.
    static let defaultTTL: Double = 300
    static let failureTTL: Double = 30
    static let maxTTL: Double = 86_400
    private let maxEntries = 10_000

    init(allowInsecure: Bool, timeout: Double, maxBytes: Int) {
        self.allowInsecure = allowInsecure
        self.timeout = timeout
        self.maxBytes = maxBytes
    }

    /// The validated metadata of client id `url`, from the cache or freshly fetched. `admit` is asked before
    /// a fetch (not for a cache hit), so that fetches can be rate-limited per caller.
    func metadata(for url: String, admit: () -> Bool = { true }) throws(OAuthError) -> ClientMetadata {
        let now = Date().timeIntervalSince1970
        if let hit = cache.withLock({ $0[url] }), hit.expires > now { return try hit.result.get() }
        guard admit() else { throw .invalidClient("too many client metadata documents fetched for this address; try again later") }
        let (result, ttl) = fetch(url)
        cache.withLock { cache in
            if cache.count >= maxEntries { cache = cache.filter { $0.value.expires > now } }
            if cache.count < maxEntries, ttl > 0 { cache[url] = Entry(result: result, expires: now + ttl) } else { cache[url] = nil }
        }
        return try result.get()
    }

    private func fail(_ message: String) -> (Result<ClientMetadata, OAuthError>, Double) {
        (.failure(.invalidClient("client metadata document: " + message)), ClientMetadataFetcher.failureTTL)
    }

    private func fetch(_ url: String) -> (Result<ClientMetadata, OAuthError>, Double) {
        if let problem = ClientMetadataDocument.urlProblem(url, allowInsecure: allowInsecure) { return fail(problem) }
        guard let components = URLComponents(string: url), var host = components.host, let parsed = URL(string: url) else {
            return fail("the client_id is not a URL")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        // SSRF: every address the name resolves to must be public (loopback only with the test flag).
        let addresses = NetworkAddress.resolve(host)
        guard !addresses.isEmpty else { return fail("cannot resolve \(host)") }
        for address in addresses where !address.isPublic && !(allowInsecure && address.isLoopback) {
            return fail("\(host) resolves to a private or reserved address; refused")
        }
        let status: Int
        let headers: HTTPHeaders
        let body: [UInt8]
        do {
            // Connect to the address just checked, not to whatever the name resolves to a moment later
            // (DNS rebinding); TLS still verifies the certificate for the host name.
            var request = HTTPClientRequest(url: parsed, timeout: timeout)
            request.headers["Accept"] = "application/json"
            request.responseLimit = maxBytes
            request.connectTo = addresses[0].text
            let response = try client.send(request)
            status = response.status
            headers = response.headers
            body = try response.readAll(limit: maxBytes)
        } catch HTTPClientError.bodyTooLarge {
            return fail("larger than \(maxBytes) bytes")
        } catch {
            return fail("fetch failed: \(error)")
        }
        // CIMD §4: only 200 with a JSON content type is a document; redirects are not followed.
        guard status == 200 else { return fail("the server answered HTTP \(status)") }
        let type = headers["Content-Type"]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        guard type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json")) else {
            return fail("content type '\(type)' is not application/json")
        }
        guard let json = try? JSON.parse(body, maxDepth: 16) else { return fail("the body is not valid JSON") }
        let result = Result { () throws(OAuthError) in try ClientMetadataDocument.validate(json, url: url) }
        return (result, ClientMetadataFetcher.ttl(cacheControl: headers["Cache-Control"]))
    }

    /// CIMD §4.4 (caching): honour `no-store` / `no-cache` / `max-age`, bounded to a day.
    static func ttl(cacheControl: String?) -> Double {
        guard let cacheControl else { return defaultTTL }
        var ttl = defaultTTL
        for directive in cacheControl.lowercased().split(separator: ",") {
            let d = directive.trimmingCharacters(in: .whitespaces)
            if d == "no-store" || d == "no-cache" { return 0 }
            if d.hasPrefix("max-age="), let n = Double(d.dropFirst("max-age=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))) {
                ttl = max(0, min(n, maxTTL))
            }
        }
        return ttl
    }
}

/// One resolved IP address and how public it is.
public struct NetworkAddress: Sendable {
    let bytes: [UInt8]   // 4 (IPv4) or 16 (IPv6)

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// An IP literal (`192.0.2.1`, `::ffff:127.0.0.1`), or nil for anything else.
    public init?(_ text: String) {
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
        } else {
            return nil
        }
    }

    static func resolve(_ host: String) -> [NetworkAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var out: [NetworkAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let sa = info.pointee.ai_addr {
                if info.pointee.ai_family == AF_INET {
                    sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                        var a = sin.pointee.sin_addr
                        out.append(NetworkAddress(bytes: withUnsafeBytes(of: &a) { Array($0) }))
                    }
                } else if info.pointee.ai_family == AF_INET6 {
                    sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                        var a = sin6.pointee.sin6_addr
                        out.append(NetworkAddress(bytes: withUnsafeBytes(of: &a) { Array($0) }))
                    }
                }
            }
            cursor = info.pointee.ai_next
        }
        return out
    }

    /// The address in its usual text form (`192.0.2.1`, `2001:db8::1`).
    var text: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The IPv4 address an IPv6 address carries, for the forms that deliver to it: IPv4-mapped
    /// `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2), IPv4-translated `::ffff:0:a.b.c.d` (RFC 6052 §2.1 / SIIT),
    /// the NAT64 well-known prefix `64:ff9b::/96` (RFC 6052 §2.1) and 6to4 `2002:AABB:CCDD::/48`
    /// (RFC 3056 §2). Nil for everything else.
    private var embeddedIPv4: [UInt8]? {
        guard bytes.count == 16 else { return nil }
        let zeros = { (r: Range<Int>) in self.bytes[r].allSatisfy { $0 == 0 } }
        if zeros(0..<10), bytes[10] == 0xff, bytes[11] == 0xff { return Array(bytes[12...]) }
        if zeros(0..<8), bytes[8] == 0xff, bytes[9] == 0xff, zeros(10..<12) { return Array(bytes[12...]) }
        if bytes[0..<4] == [0x00, 0x64, 0xff, 0x9b], zeros(4..<12) { return Array(bytes[12...]) }
        if bytes[0] == 0x20, bytes[1] == 0x02 { return Array(bytes[2..<6]) }
        return nil
    }

    /// The address itself, or the IPv4 address it carries.
    private var normalized: [UInt8] { embeddedIPv4 ?? bytes }

    public var isLoopback: Bool {
        let b = normalized
        if b.count == 4 { return b[0] == 127 }
        return b == [UInt8](repeating: 0, count: 15) + [1]
    }

    /// Whether the address is globally reachable: false for loopback, private (RFC 1918, ULA),
    /// link-local, CGNAT, documentation, benchmarking, multicast and reserved ranges (RFC 6890
    /// special-purpose registries), judged on the IPv4 address an IPv6 form carries. For IPv6 only
    /// global unicast `2000::/3` (RFC 4291 §2.4) can be public; that excludes `::/8` with the deprecated
    /// IPv4-compatible `::a.b.c.d` (RFC 4291 §2.5.5.1), unique-local, link-local, site-local and multicast.
    public var isPublic: Bool {
        let b = normalized
        if b.count == 4 { return NetworkAddress.isPublicIPv4(b) }
        guard b[0] & 0xe0 == 0x20 else { return false }                              // outside 2000::/3
        if b[0] == 0x20, b[1] == 0x01, b[2] & 0xfe == 0x00 { return false }          // 2001::/23 IETF protocols, Teredo
        if b[0] == 0x20, b[1] == 0x01, b[2] == 0x0d, b[3] == 0xb8 { return false }   // 2001:db8::/32 documentation
        if b[0] == 0x3f, b[1] == 0xff, b[2] & 0xf0 == 0x00 { return false }          // 3fff::/20 documentation (RFC 9637)
        return true
    }

    private static func isPublicIPv4(_ b: [UInt8]) -> Bool {
        switch (b[0], b[1]) {
        case (0, _), (10, _), (127, _), (169, 254), (192, 168): return false
        case (100, let x) where x >= 64 && x < 128: return false
        case (172, let x) where x >= 16 && x < 32: return false
        case (192, 0) where b[2] == 0 || b[2] == 2: return false
        case (192, 88) where b[2] == 99: return false
        case (198, let x) where x == 18 || x == 19: return false
        case (198, 51) where b[2] == 100, (203, 0) where b[2] == 113: return false
        default: return b[0] < 224
        }
    }
}
