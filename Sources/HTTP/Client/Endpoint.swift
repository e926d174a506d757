import Foundation

/// Where a client request goes: scheme, host, port, the request-target and the `Host` value.
struct Endpoint {
    let isSecure: Bool
    let host: String
    let port: Int
    /// origin-form request-target (RFC 9112 §3.2.1): path and query, still percent-encoded.
    let target: String
    let hostHeader: String

    var key: String { "\(host):\(port)" }

    init(_ url: URL) throws(HTTPClientError) {
        guard let components = URLComponents(url: url, resolvingAgainstBaseURL: false),
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
              var host = components.host, !host.isEmpty else {
            throw .invalidURL(url.absoluteString)
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        isSecure = scheme == "https"
        let defaultPort = isSecure ? 443 : 80
        port = components.port ?? defaultPort
        self.host = host
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        target = path + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
        let bracketed = host.contains(":") ? "[\(host)]" : host
        hostHeader = port == defaultPort ? bracketed : "\(bracketed):\(port)"
        guard target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw .invalidURL(url.absoluteString) }
    }
}
