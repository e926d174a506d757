/// A request the server answered itself with an error (400, 408, 413, 414, 431, 501, 505) before any
/// handler saw it, reported so that the application can record it (the gateway audits every request
/// to its paths, these included).
public struct HTTPRejection: Sendable {
    /// The status the client is sent.
    public let status: Int
    /// What was wrong, in words (no request bytes beyond the request line).
    public let reason: String
    /// Method and request-target of the rejected request, when its request line had arrived whole.
    public let method: String?
    public let target: String?
    public let remoteAddress: String

    /// The path part of `target` (nil without a target).
    public var path: String? {
        target.map { t in t.firstIndex(of: "?").map { String(t[..<$0]) } ?? t }
    }
}
