import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif
import HTTP
import MCPAuth
import Synchronization

/// Fetches and caches Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document-00,
/// MCP 2025-11-25 "Client ID Metadata Documents"): size and time limits, no redirects, no private-network
/// targets (MCP 2025-11-25 "Authorization Server Abuse Protection": SSRF), and a cache that honours
/// `Cache-Control`.
final class ClientMetadataFetcher: Sendable {
    private struct Entry {
        let result: Result<ClientMetadata, OAuthError>
        let expires: Double
    }

    private let cache = Mutex<[String: Entry]>([:])
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
    func metadata(for url: String, admit: () -> Bool = { true }) -> Result<ClientMetadata, OAuthError> {
        let now = Date().timeIntervalSince1970
        if let hit = cache.withLock({ $0[url] }), hit.expires > now { return hit.result }
        guard admit() else { return .failure(.invalidClient("too many client metadata documents fetched for this address; try again later")) }
        let (result, ttl) = fetch(url)
        cache.withLock { cache in
            if cache.count >= maxEntries { cache = cache.filter { $0.value.expires > now } }
            if cache.count < maxEntries, ttl > 0 { cache[url] = Entry(result: result, expires: now + ttl) } else { cache[url] = nil }
        }
        return result
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
            if components.scheme == "https" {
                (status, headers, body) = try SecureFetch.get(parsed, timeout: timeout, maxBytes: maxBytes)
            } else {
                var request = HTTPClientRequest(url: parsed, timeout: timeout)
                request.headers["Accept"] = "application/json"
                let response = try client.send(request)
                status = response.status
                headers = response.headers
                body = try response.readAll(limit: maxBytes)
            }
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
        let result = ClientMetadataDocument.validate(json, url: url)
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
struct NetworkAddress {
    let bytes: [UInt8]   // 4 (IPv4) or 16 (IPv6)

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

    /// The IPv4 address inside an IPv4-mapped or NAT64 IPv6 address, else self.
    private var normalized: [UInt8] {
        if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff { return Array(bytes[12...]) }
        return bytes
    }

    var isLoopback: Bool {
        let b = normalized
        if b.count == 4 { return b[0] == 127 }
        return b == [UInt8](repeating: 0, count: 15) + [1]
    }

    /// False for loopback, private (RFC 1918, ULA), link-local, CGNAT, documentation, multicast and
    /// reserved ranges (RFC 6890 special-purpose registries).
    var isPublic: Bool {
        let b = normalized
        if b.count == 4 {
            switch (b[0], b[1]) {
            case (0, _), (10, _), (127, _), (169, 254), (192, 168): return false
            case (100, let x) where x >= 64 && x < 128: return false
            case (172, let x) where x >= 16 && x < 32: return false
            case (192, 0) where b[2] == 0 || b[2] == 2: return false
            case (198, let x) where x == 18 || x == 19: return false
            case (198, 51) where b[2] == 100, (203, 0) where b[2] == 113: return false
            default: return b[0] < 224
            }
        }
        if b.allSatisfy({ $0 == 0 }) || isLoopback { return false }
        if b[0] & 0xfe == 0xfc { return false }                      // fc00::/7 unique local
        if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return false }      // fe80::/10 link-local
        if b[0] == 0xff { return false }                             // multicast
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8 { return false }  // 2001:db8::/32
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b { return false }  // 64:ff9b::/96 NAT64
        if b[0] == 0x01 && b[1] == 0x00 && b[2...7].allSatisfy({ $0 == 0 }) { return false } // 100::/64 discard
        return true
    }
}

/// A bounded https GET through URLSession that refuses redirects and stops reading past `maxBytes`.
enum SecureFetch {
    private final class Delegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        struct State {
            var status = 0
            var headers = HTTPHeaders()
            var body: [UInt8] = []
            var tooLarge = false
            var error: Error?
        }
        let state = Mutex(State())
        let done = DispatchSemaphore(value: 0)
        let maxBytes: Int

        init(maxBytes: Int) { self.maxBytes = maxBytes }

        func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
            // CIMD §4: the authorization server MUST NOT follow redirects.
            completionHandler(nil)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
            if let http = response as? HTTPURLResponse {
                state.withLock { s in
                    s.status = http.statusCode
                    for (name, value) in http.allHeaderFields { s.headers.add(String(describing: name), String(describing: value)) }
                }
            }
            completionHandler(.allow)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            let over = state.withLock { s -> Bool in
                s.body.append(contentsOf: data)
                if s.body.count > maxBytes { s.tooLarge = true }
                return s.tooLarge
            }
            if over { dataTask.cancel() }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
            state.withLock { $0.error = error }
            done.signal()
        }
    }

    static func get(_ url: URL, timeout: Double, maxBytes: Int) throws -> (Int, HTTPHeaders, [UInt8]) {
        let delegate = Delegate(maxBytes: maxBytes)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        let session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
        defer { session.invalidateAndCancel() }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        let task = session.dataTask(with: request)
        task.resume()
        guard delegate.done.wait(timeout: .now() + timeout) == .success else {
            task.cancel()
            throw HTTPClientError.timedOut
        }
        let s = delegate.state.withLock { $0 }
        if s.tooLarge { throw HTTPClientError.bodyTooLarge(limit: maxBytes) }
        if let error = s.error, s.status == 0 { throw HTTPClientError.connectionFailed(error.localizedDescription) }
        return (s.status, s.headers, s.body)
    }
}
