/// An OAuth protocol refusal: one of the registered error codes (RFC 6749 §4.1.2.1, §5.2; RFC 7591 §3.2.2;
/// RFC 8707 §2; RFC 7009 §2.2.1) and a description safe to show the client (never a secret).
public struct OAuthError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: String
    public let description: String

    public init(_ code: String, _ description: String) {
        self.code = code
        self.description = description
    }

    public static func invalidRequest(_ d: String) -> OAuthError { OAuthError("invalid_request", d) }
    public static func invalidClient(_ d: String) -> OAuthError { OAuthError("invalid_client", d) }
    public static func invalidGrant(_ d: String) -> OAuthError { OAuthError("invalid_grant", d) }
    public static func invalidScope(_ d: String) -> OAuthError { OAuthError("invalid_scope", d) }
    public static func invalidTarget(_ d: String) -> OAuthError { OAuthError("invalid_target", d) }
    public static func unauthorizedClient(_ d: String) -> OAuthError { OAuthError("unauthorized_client", d) }
    public static func unsupportedGrantType(_ d: String) -> OAuthError { OAuthError("unsupported_grant_type", d) }
    public static func unsupportedResponseType(_ d: String) -> OAuthError { OAuthError("unsupported_response_type", d) }
    public static func accessDenied(_ d: String) -> OAuthError { OAuthError("access_denied", d) }
    public static func invalidRedirectURI(_ d: String) -> OAuthError { OAuthError("invalid_redirect_uri", d) }
    public static func invalidClientMetadata(_ d: String) -> OAuthError { OAuthError("invalid_client_metadata", d) }

    /// The JSON error body of RFC 6749 §5.2.
    public var json: JSON { .object([("error", .string(code)), ("error_description", .string(description))]) }
}
