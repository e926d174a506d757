/// A complete HTTP/1.x request as the server hands it to a handler: head, whole body and peer address.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The request-target exactly as sent (RFC 9112 §3.2), e.g. `/mcp/app/env?x=1`.
    public var target: String
    /// The path part of the target, up to `?`; percent-decoding is not applied.
    /// For an absolute-form target (`http://host/p`) this is the path of that URI.
    public var path: String
    /// The query part of the target after `?`, nil when there is no `?`.
    public var query: String?
    /// `HTTP/1.1` or `HTTP/1.0`.
    public var version: String
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The peer's IP address only, e.g. `127.0.0.1` or `::1` (IPv4-mapped IPv6 is shown as IPv4).
    public var remoteAddress: String

    public init(method: String, target: String, version: String = "HTTP/1.1",
                headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [], remoteAddress: String = "") {
        self.method = method
        self.target = target
        (self.path, self.query) = Self.split(target: target)
        self.version = version
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
    }

    /// The query decoded as `application/x-www-form-urlencoded` (`+` is a space).
    public var queryItems: [(name: String, value: String)] {
        guard let query else { return [] }
        return FormURLEncoding.decode(query)
    }

    /// The first query value named `name`.
    public func queryValue(_ name: String) -> String? {
        queryItems.first { $0.name == name }?.value
    }

    /// The body decoded as `application/x-www-form-urlencoded` (HTML form posts).
    public func formFields() -> [(name: String, value: String)] {
        FormURLEncoding.decode(body)
    }

    /// True when the client wants the connection kept open after this request
    /// (RFC 9112 §9.3: the default for HTTP/1.1, opt-in with `keep-alive` for HTTP/1.0).
    public var wantsKeepAlive: Bool {
        let connection = headers.values(for: "Connection")
        if connection.contains(where: { HTTPSyntax.listContains($0, "close") }) { return false }
        if version == "HTTP/1.1" { return true }
        return connection.contains { HTTPSyntax.listContains($0, "keep-alive") }
    }

    static func split(target: String) -> (path: String, query: String?) {
        if target == "*" { return ("*", nil) }
        let bytes = Array(target.utf8)
        var start = 0
        // RFC 9112 §3.2.2: an absolute-form target carries scheme and authority before the path.
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon > 0,
           bytes[..<colon].allSatisfy(HTTPSyntax.isToken),
           bytes[colon...].starts(with: "://".utf8) {
            start = bytes[(colon + 3)...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? bytes.count
        }
        let question = bytes[start...].firstIndex(of: UInt8(ascii: "?"))
        let path = HTTPSyntax.string(bytes[start..<(question ?? bytes.count)])
        let query = question.map { HTTPSyntax.string(bytes[($0 + 1)...]) }
        return (path.isEmpty ? "/" : path, query)
    }
}
