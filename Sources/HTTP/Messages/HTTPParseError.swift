/// Why a request could not be parsed, each case mapping to the status the server answers with.
public enum HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Malformed syntax or framing (400); the text says what was wrong.
    case badRequest(String)
    /// The client was too slow to send a head or body (408). Raised by the server, not the parser.
    case requestTimeout
    /// The body is larger than the configured limit (413).
    case contentTooLarge
    /// The request line alone is larger than the head limit (414).
    case uriTooLong
    /// The head is larger than the limit or has too many fields (431).
    case headerFieldsTooLarge
    /// A transfer coding other than chunked (501).
    case notImplemented(String)
    /// An HTTP major version other than 1 (505); 1.x minors above 1 are served as 1.1.
    case versionNotSupported

    public var status: Int {
        switch self {
        case .badRequest: 400
        case .requestTimeout: 408
        case .contentTooLarge: 413
        case .uriTooLong: 414
        case .headerFieldsTooLarge: 431
        case .notImplemented: 501
        case .versionNotSupported: 505
        }
    }

    public var description: String {
        switch self {
        case .badRequest(let reason): "Bad Request: \(reason)"
        case .notImplemented(let reason): "Not Implemented: \(reason)"
        default: HTTPStatus.reasonPhrase(status)
        }
    }
}
