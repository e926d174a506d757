import HTTP

/// Headers that carry identity or routing, which an MCP request may give once only: with two values, the
/// gateway and whatever stands before or after it (a proxy, the upstream) could each act on a different
/// one (RFC 9110 §5.3: a field that is not a list may not be repeated).
enum SingleValuedHeaders {
    static let names = ["Authorization", "Email", "Token", "Cookie", "Mcp-Session-Id", "Mcp-Method", "Mcp-Name", "MCP-Protocol-Version"]

    /// The first of `names` that `headers` holds more than once, if any.
    static func repeated(in headers: HTTPHeaders) -> String? {
        names.first { headers.values(for: $0).count > 1 }
    }
}
