/// An OAuth protocol refusal, the one error every OAuth endpoint throws: a registered error code
/// (RFC 6749 §4.1.2.1, §5.2; RFC 7591 §3.2.2; RFC 8707 §2; RFC 7009 §2.2.1), a description safe to show
/// the client (never a secret), and the HTTP status of the error response.
public struct OAuthError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: String
    public let description: String
    /// RFC 6749 §5.2: 400, or 401 for `invalid_client`; RFC 7662 §2.3 and RFC 6585 §4 give others.
    public var status: Int
    /// Seconds until the client may try again (`Retry-After`, RFC 6585 §4).
    public var retryAfter: Int?
    /// RFC 6749 §5.2: a client that authenticated with HTTP Basic gets a 401 challenging Basic only.
    public var challengesBasicOnly = false

    public init(_ code: String, _ description: String, status: Int? = nil) {
        self.code = code
        self.description = description
        self.status = status ?? (code == "invalid_client" ? 401 : 400)
    }

    /// The same refusal answered with another HTTP status.
    public func with(status: Int) -> OAuthError {
        var e = self
        e.status = status
        return e
    }

    public static func invalidRequest(_ d: String) -> OAuthError { OAuthError("invalid_request", d) }
    public static func invalidClient(_ d: String) -> OAuthError { OAuthError("invalid_client", d) }
    public static func invalidGrant(_ d: String) -> OAuthError { OAuthError("invalid_grant", d) }
    public static func invalidScope(_ d: String) -> OAuthError { OAuthError("invalid_scope", d) }
    public static func invalidTarget(_ d: String) -> OAuthError { OAuthError("invalid_target", d) }
    public static func invalidToken(_ d: String) -> OAuthError { OAuthError("invalid_token", d) }
    public static func unauthorizedClient(_ d: String) -> OAuthError { OAuthError("unauthorized_client", d) }
    public static func unsupportedGrantType(_ d: String) -> OAuthError { OAuthError("unsupported_grant_type", d) }
    public static func unsupportedResponseType(_ d: String) -> OAuthError { OAuthError("unsupported_response_type", d) }
    public static func accessDenied(_ d: String) -> OAuthError { OAuthError("access_denied", d) }
    public static func invalidRedirectURI(_ d: String) -> OAuthError { OAuthError("invalid_redirect_uri", d) }
    public static func invalidClientMetadata(_ d: String) -> OAuthError { OAuthError("invalid_client_metadata", d) }
    public static func notFound(_ d: String) -> OAuthError { OAuthError("not_found", d, status: 404) }
    public static func serverError(_ d: String) -> OAuthError { OAuthError("server_error", d, status: 500) }

    /// RFC 6585 §4: 429 with the time to wait.
    public static func tooManyRequests(retryAfter: Int, what: String) -> OAuthError {
        var e = OAuthError("too_many_requests", "too many \(what); retry in \(retryAfter) s", status: 429)
        e.retryAfter = retryAfter
        return e
    }

    /// The JSON error body of RFC 6749 §5.2.
    public var json: JSON { .object([("error", .string(code)), ("error_description", .string(description))]) }
}
