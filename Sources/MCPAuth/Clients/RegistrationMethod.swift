/// How a client came to be registered: by RFC 7591 dynamic registration, from a Client ID Metadata
/// Document, or by an operator on the command line.
public enum RegistrationMethod: String, Sendable, CaseIterable {
    case dcr
    case cimd
    case cli

    /// Whether the client registered itself, so that its name is not verified.
    public var isSelfRegistered: Bool { self != .cli }
}
