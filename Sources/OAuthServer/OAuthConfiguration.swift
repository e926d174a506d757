import MCPAuth

/// How `mcpctl serve` runs the authorization server: its public URL (the issuer) and its policies.
public struct OAuthConfiguration: Sendable {
    /// The issuer (RFC 8414 §2), no trailing slash, e.g. "http://127.0.0.1:8000". Every URL in metadata,
    /// every `iss` and every resource (`{publicURL}/mcp/{app}/{env}`) is built from it.
    public var publicURL: String
    /// Access token lifetime in seconds (default 1 h).
    public var accessTokenTTL: Int64 = 3600
    /// Refresh token lifetime in seconds, renewed on every rotation (default 30 d).
    public var refreshTokenTTL: Int64 = 30 * 86400
    /// Seconds after its rotation during which a refresh token presented again gets another pair of its
    /// family instead of revoking it (`serve --refresh-reuse-grace`; 0: off, every reuse revokes).
    public var refreshReuseGraceSeconds: Int64 = 0
    /// Answers introspection without caller authentication (`serve --unauthenticated-introspection`).
    public var unauthenticatedIntrospection = false
    /// A request header naming the signed-in user's email, set by an authenticating reverse proxy.
    public var trustedUserHeader: String? = nil
    /// Remote addresses allowed to set `trustedUserHeader`; from anyone else it is ignored.
    public var trustedProxies: [String] = []
    /// Test flag: Client ID Metadata Document URLs may use http and point at loopback addresses.
    public var allowLoopbackClientMetadata = false

    /// Authorization code lifetime in seconds (at most 5 minutes).
    public var authorizationCodeTTL: Int64 = AuthorizationCodes.defaultLifetimeSeconds
    /// How long a browser stays signed in: since its last request, and at most since it signed in.
    public var sessionLimits = BrowserSessions.Limits()
    /// Longest lifetime of a personal token made on the account page, in seconds (`serve --max-token-ttl`).
    public var maxTokenTTL: Int64 = Tokens.defaultLifetimeSeconds
    /// Whether users may create personal tokens on the account page (`serve --no-self-service-tokens`: no).
    public var selfServiceTokens = true
    /// Seconds an unfinished authorization (login and consent pages) stays usable.
    public var transactionTTL: Int64 = 15 * 60
    /// Told how each sign-in attempt ended — outcome "success", "failure" or "throttled"; method "password"
    /// or "sso" — on /login, inside /oauth/authorize and at single sign-on alike (e.g. to count them).
    public var onSignIn: (@Sendable (_ outcome: String, _ method: String) -> Void)? = nil
    /// Failed-login limits per account and per remote address.
    public var loginLimits = LoginThrottle.Limits()
    /// Dynamic registrations allowed per remote address: a burst, refilled at this many per minute.
    public var registrationBurst = 20
    public var registrationsPerMinute = 10
    /// Browser flows (authorizations, SSO sign-ins) one visitor may start: a burst, refilled per minute.
    /// Each writes to the store before anyone signed in, so a flood must stop before the store.
    public var flowBurst = 60
    public var flowsPerMinute = 30
    /// Self-registered clients that never obtained a token, at most; beyond it the oldest are deleted.
    public var maxUnusedClients = 1000
    /// Largest registration request body in bytes.
    public var maxRegistrationBodyBytes = 16 * 1024
    /// Introspection answers of `active: false` allowed per caller: a burst, refilled per minute
    /// (RFC 7662 §4: guard against token scanning).
    public var introspectionMissBurst = 60
    public var introspectionMissesPerMinute = 120
    /// Limits on fetching a Client ID Metadata Document.
    public var clientMetadataTimeout: Double = 5
    public var clientMetadataMaxBytes = 5 * 1024

    public init(publicURL: String) {
        var url = publicURL
        while url.hasSuffix("/") { url.removeLast() }
        self.publicURL = url
    }

    var lifetimes: OAuthTokenLifetimes {
        OAuthTokenLifetimes(accessTokenSeconds: accessTokenTTL, refreshTokenSeconds: refreshTokenTTL)
    }

    /// Cookies get `Secure` when the public URL is https (behind a TLS-terminating proxy).
    var isSecure: Bool { publicURL.lowercased().hasPrefix("https://") }

    /// The session cookie's name. RFC 6265bis §4.1.3.2: the `__Host-` prefix (on https only, where the
    /// cookie is `Secure`) pins it to this host and `Path=/`, so a sibling domain cannot plant or shadow it.
    var sessionCookieName: String { isSecure ? "__Host-mcpctl_session" : "mcpctl_session" }

    /// The sign-in form's cookie (its secret keys the form token), with the same prefix rule: a cookie a
    /// sibling domain planted cannot stand in for it, so a login CSRF cannot sign the browser in as someone else.
    var loginCookieName: String { isSecure ? "__Host-mcpctl_login" : "mcpctl_login" }

    /// The sign-in form cookie's attributes: `__Host-` requires `Path=/` and `Secure`.
    var loginCookieAttributes: String { isSecure ? "Path=/; HttpOnly; SameSite=Lax; Secure" : "Path=/login; HttpOnly; SameSite=Lax" }
}
