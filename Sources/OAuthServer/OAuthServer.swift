import Foundation
import HTTP
import MCPAuth

/// The OAuth 2.1 authorization server of `mcpctl serve`: discovery (RFC 8414), dynamic registration
/// (RFC 7591) and Client ID Metadata Documents, the authorization endpoint with its login and consent
/// pages, the token endpoint, introspection (RFC 7662) and revocation (RFC 7009).
public final class OAuthServer: Sendable {
    let pool: StorePool
    let configuration: OAuthConfiguration
    let browser: BrowserState
    let metadataFetcher: ClientMetadataFetcher
    let registrationLimiter: RateLimiter
    let introspectionLimiter: RateLimiter
    let flowLimiter: RateLimiter
    /// Identity providers' metadata and keys.
    let providers = OIDCProviderClient()
    /// Serialises this server's write transactions: threads of one process queue here instead of in
    /// SQLite's busy handler, whose sleeps (up to 100 ms each) would dominate latency under load.
    let writeLock = Guarded<Void>()

    public init(pool: StorePool, configuration: OAuthConfiguration) {
        self.pool = pool
        self.configuration = configuration
        browser = BrowserState(transactionTTL: configuration.transactionTTL)
        metadataFetcher = ClientMetadataFetcher(allowInsecure: configuration.allowLoopbackClientMetadata,
                                                timeout: configuration.clientMetadataTimeout,
                                                maxBytes: configuration.clientMetadataMaxBytes)
        registrationLimiter = RateLimiter(burst: configuration.registrationBurst, perMinute: configuration.registrationsPerMinute,
                                          shared: pool, name: "oauth-register")
        introspectionLimiter = RateLimiter(burst: configuration.introspectionMissBurst, perMinute: configuration.introspectionMissesPerMinute,
                                           shared: pool, name: "oauth-introspect")
        flowLimiter = RateLimiter(burst: configuration.flowBurst, perMinute: configuration.flowsPerMinute, shared: pool, name: "oauth-flows")
    }

    var issuer: String { configuration.publicURL }

    /// Paths of the metadata document: RFC 8414 §3.1 inserts the issuer's path (if any) after the well-known part.
    private var metadataPaths: Set<String> {
        var paths: Set<String> = ["/.well-known/oauth-authorization-server"]
        if let path = URLComponents(string: issuer)?.percentEncodedPath, !path.isEmpty, path != "/" {
            paths.insert("/.well-known/oauth-authorization-server" + path)
        }
        return paths
    }

    /// Answers `/.well-known/oauth-authorization-server` and `/oauth/*`; nil for any other path.
    public func handle(_ request: HTTPRequest) -> HTTPResponse? {
        let path = request.path
        if metadataPaths.contains(path) {
            if request.method == "OPTIONS" { return OAuthResponse.preflight("GET") }
            guard request.method == "GET" || request.method == "HEAD" else { return OAuthResponse.methodNotAllowed("GET") }
            return discovery()
        }
        if let asset = Stylesheet.asset(path) { return asset }
        if path.hasPrefix("/login/sso/") { return sso(request) }
        if path == "/login" || path == "/logout" || path == "/account" || path.hasPrefix("/account/") { return site(request) }
        if path == "/admin" || path.hasPrefix("/admin/") { return admin(request) }
        guard path == "/oauth" || path.hasPrefix("/oauth/") else { return nil }
        do {
            switch path {
            case "/oauth/authorize":
                switch request.method {
                case "GET", "HEAD": return try authorizeGET(request)
                case "POST": return try authorizePOST(request)
                default: return OAuthResponse.methodNotAllowed("GET, POST")
                }
            case "/oauth/token", "/oauth/register", "/oauth/introspect", "/oauth/revoke":
                if request.method == "OPTIONS" { return OAuthResponse.preflight("POST") }
                guard request.method == "POST" else { return OAuthResponse.methodNotAllowed("POST") }
                switch path {
                case "/oauth/token": return try token(request)
                case "/oauth/register": return try register(request)
                case "/oauth/introspect": return try introspect(request)
                default: return try revoke(request)
                }
            default:
                throw OAuthError.notFound("no such OAuth endpoint")
            }
        } catch let refusal as OAuthError {
            return path == "/oauth/authorize" ? AuthorizePages.refusal(refusal) : OAuthResponse.error(refusal)
        } catch {
            LogSink.standardError.write("mcpctl serve: oauth: \(request.method) \(path) failed: \(error)")
            return path == "/oauth/authorize" ? Pages.response(Pages.error(title: "Something went wrong",
                message: "The authorization server failed. The error is in the server log."), status: 500)
                : OAuthResponse.error(.serverError("the authorization server failed; the error is logged"))
        }
    }

    /// The sign-in and account pages: GET shows a page, POST runs a form. Failures are pages, never a stack.
    private func site(_ request: HTTPRequest) -> HTTPResponse {
        let path = request.path
        let allowed = path == "/login" ? "GET, POST" : path == "/account" ? "GET" : "POST"
        do {
            switch (request.method, path) {
            case ("GET", "/login"), ("HEAD", "/login"): return try loginGET(request)
            case ("POST", "/login"): return try loginPOST(request)
            case ("POST", "/logout"): return try logoutPOST(request)
            case ("GET", "/account"), ("HEAD", "/account"): return try accountGET(request)
            case ("POST", _) where path.hasPrefix("/account/"): return try accountPOST(request)
            default: return SitePage.methodNotAllowed(allowed)
            }
        } catch {
            return failed(request, error)
        }
    }

    /// The admin pages: for operators only; to anyone else they do not exist (nil: the server's 404).
    private func admin(_ request: HTTPRequest) -> HTTPResponse? {
        do {
            return try adminRoute(request)
        } catch {
            return failed(request, error)
        }
    }

    /// A page for an unexpected failure: the error goes to the server log, not to the browser.
    func failed(_ request: HTTPRequest, _ error: Error) -> HTTPResponse {
        if let refusal = error as? DomainError { return SitePage.refusal(refusal, header: nil) }
        LogSink.standardError.write("mcpctl serve: \(request.method) \(request.path) failed: \(error)")
        return SitePage.error(status: 500, title: "Something went wrong", message: "The server failed. The error is in the server log.")
    }

    /// The client's address, from `X-Forwarded-For` when the peer is a trusted proxy (shared with the gateway).
    func clientAddress(_ request: HTTPRequest) -> String {
        request.clientAddress(trustedProxies: configuration.trustedProxies)
    }

    /// Runs `body` with a store connection from the pool.
    func withStore<T>(_ body: (Store) throws -> T) throws -> T { try pool.with(body) }

    /// Runs `body`, which writes, with a pooled connection while holding this server's write lock.
    func writing<T>(_ body: (Store) throws -> T) throws -> T {
        try pool.with { store in
            try writeLock.withLock { try body(store) }
        }
    }
}
