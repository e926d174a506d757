import Foundation

/// The RFC 8707 resource an OAuth token is bound to: one gateway endpoint `{issuer}/mcp/{app}/{env}`
/// (that URL is the resource).
public struct ResourceIndicator: Sendable, Equatable {
    public let app: String
    public let env: String

    public init(app: String, env: String) {
        self.app = app
        self.env = env
    }

    /// The canonical resource URL under `issuer` (the public URL, no trailing slash).
    public func url(issuer: String) -> String { "\(issuer)/mcp/\(app)/\(env)" }

    /// Parses a presented `resource` value against the server's public URL. Scheme and host compare
    /// case-insensitively and a default port may be spelled out (MCP 2025-11-25 "Canonical Server URI":
    /// servers SHOULD accept upper-case scheme and host); one trailing slash is tolerated. Nil when the
    /// value is not an absolute URI of this server's `/mcp/{app}/{env}` form.
    public static func parse(_ resource: String, issuer: String) -> ResourceIndicator? {
        // RFC 8707 §2: an absolute URI without a fragment; a query SHOULD NOT be present, and no
        // gateway URL has one, so none is accepted.
        guard resource.utf8.count <= 2048, !resource.contains("#"), !resource.contains("?"),
              let r = URLComponents(string: resource), let i = URLComponents(string: issuer),
              let rs = r.scheme?.lowercased(), let ischeme = i.scheme?.lowercased(), rs == ischeme,
              let rh = r.host?.lowercased(), let ih = i.host?.lowercased(), rh == ih,
              r.user == nil, r.password == nil,
              port(r, scheme: rs) == port(i, scheme: ischeme)
        else { return nil }
        let prefix = i.percentEncodedPath.hasSuffix("/") ? String(i.percentEncodedPath.dropLast()) : i.percentEncodedPath
        var path = r.percentEncodedPath
        guard path.hasPrefix(prefix + "/mcp/") else { return nil }
        path.removeFirst(prefix.count + "/mcp/".count)
        if path.hasSuffix("/") { path.removeLast() }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let app = parts.first.map(String.init), let env = parts.last.map(String.init),
              (try? Apps.validateName(app, what: "app")) != nil, (try? Apps.validateName(env, what: "environment")) != nil
        else { return nil }
        return ResourceIndicator(app: app, env: env)
    }

    private static func port(_ c: URLComponents, scheme: String) -> Int {
        c.port ?? (scheme == "https" ? 443 : 80)
    }
}
