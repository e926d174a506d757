import Foundation
import HTTP
import MCPAuth

/// What OpenID Connect Discovery 1.0 §3 tells about a provider, as far as the code flow needs it.
struct OIDCMetadata: Sendable {
    let authorizationEndpoint: String
    let tokenEndpoint: String
    /// `client_secret_basic` or `client_secret_post` (OpenID Connect Core 1.0 §9), as the provider allows.
    let tokenAuthMethod: String
}

/// The back channel to identity providers: discovery (cached), their JWKS (cached, refreshed on an
/// unknown `kid`), and the token request of the authorization code flow.
final class OIDCProviderClient: Sendable {
    static let timeout: Double = 10
    static let maxBytes = 256 * 1024
    static let metadataTTL: Double = 3600
    private let client = HTTPClient(maxIdleConnectionsPerHost: 2, idleConnectionTimeout: 10)
    /// Caches by provider (name, issuer and when it was added): a provider removed and added again,
    /// even with the same issuer, starts with nothing cached.
    private let metadata = Guarded<[String: (OIDCMetadata, Double)]>([:])
    private let keys = Guarded<[String: JWKSCache]>([:])

    static func cacheKey(_ p: IdentityProvider) -> String { [p.name.lowercased(), p.issuer, String(p.createdAt)].joined(separator: "\u{0}") }

    /// The provider's metadata from `{issuer}/.well-known/openid-configuration`; its `issuer` must equal
    /// the configured one byte for byte (OpenID Connect Discovery 1.0 §4.3).
    func metadata(_ p: IdentityProvider) throws(SSORefusal) -> OIDCMetadata {
        let now = Date().timeIntervalSince1970
        let key = OIDCProviderClient.cacheKey(p)
        if let (m, until) = metadata.withLock({ $0[key] }), until > now { return m }
        var base = p.issuer
        while base.hasSuffix("/") { base.removeLast() }
        let url = base + "/.well-known/openid-configuration"
        guard let body = try? get(url), case .object? = try? JSON.parse(body), let doc = try? JSON.parse(body) else {
            throw SSORefusal(reason: "discovery failed at \(url)", message: "The identity provider \(p.name) could not be reached. Try again later.")
        }
        guard case .string(let iss)? = doc["issuer"], iss.utf8.elementsEqual(p.issuer.utf8) else {
            throw SSORefusal(reason: "discovery document names another issuer", message: "The identity provider \(p.name) is misconfigured: its discovery document names another issuer.")
        }
        guard case .string(let authorize)? = doc["authorization_endpoint"], case .string(let token)? = doc["token_endpoint"],
              (try? OutsideIssuers.validateURL(token, what: "token_endpoint")) != nil, OIDCProviderClient.isEndpoint(authorize) else {
            throw SSORefusal(reason: "discovery document lacks valid endpoints", message: "The identity provider \(p.name) is misconfigured: its endpoints are missing or not https.")
        }
        // Discovery §3: the default when absent is client_secret_basic.
        let methods = doc["token_endpoint_auth_methods_supported"]?.arrayValue?.compactMap(\.stringValue) ?? ["client_secret_basic"]
        guard let method = ["client_secret_basic", "client_secret_post"].first(where: methods.contains) else {
            throw SSORefusal(reason: "provider supports neither client_secret_basic nor client_secret_post", message: "The identity provider \(p.name) does not accept a client secret.")
        }
        let m = OIDCMetadata(authorizationEndpoint: authorize, tokenEndpoint: token, tokenAuthMethod: method)
        metadata.withLock { cache in
            cache = cache.filter { $0.value.1 > now }
            cache[key] = (m, now + OIDCProviderClient.metadataTTL)
        }
        return m
    }

    /// An https URL (http on loopback) that may carry a query (Core §3.1.2.1 allows one) but no fragment.
    static func isEndpoint(_ url: String) -> Bool {
        guard let c = URLComponents(string: url), c.fragment == nil else { return false }
        var bare = c
        bare.query = nil
        return bare.string.map { (try? OutsideIssuers.validateURL($0, what: "authorization_endpoint")) != nil } ?? false
    }

    /// The provider's signing keys, one cache per provider as added (see `cacheKey`); the caches of
    /// providers no longer configured are let go.
    func keySet(_ p: IdentityProvider, configured: [IdentityProvider]) -> JWKSCache {
        let live = Set(configured.map(OIDCProviderClient.cacheKey))
        let key = OIDCProviderClient.cacheKey(p)
        return keys.withLock { k in
            k = k.filter { live.contains($0.key) }
            if let cache = k[key] { return cache }
            let cache = JWKSCache(issuer: p.issuer)
            k[key] = cache
            return cache
        }
    }

    /// OpenID Connect Core 1.0 §3.1.3.1: the code for tokens; returns the ID token.
    func idToken(_ p: IdentityProvider, metadata m: OIDCMetadata, code: String, redirectURI: String, verifier: String) throws(SSORefusal) -> String {
        let secret: String
        do { secret = try SecretFile.read(p.clientSecretFile) } catch {
            throw SSORefusal(reason: "client secret file unusable: \(error)", message: "Sign-in with \(p.name) is not set up correctly here. The error is in the audit log.")
        }
        var fields: [(name: String, value: String)] = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
                                                       ("code_verifier", verifier)]
        var headers = HTTPHeaders()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Accept"] = "application/json"
        if m.tokenAuthMethod == "client_secret_post" {
            fields += [("client_id", p.clientID), ("client_secret", secret)]
        } else {
            // RFC 6749 §2.3.1: id and secret are form-encoded before they are joined for HTTP Basic.
            let pair = FormURLEncoding.escape(p.clientID) + ":" + FormURLEncoding.escape(secret)
            headers["Authorization"] = "Basic " + Data(pair.utf8).base64EncodedString()
        }
        guard var request = HTTPClientRequest(method: "POST", url: m.tokenEndpoint, headers: headers,
                                              body: Array(FormURLEncoding.encode(fields).utf8), timeout: OIDCProviderClient.timeout) else {
            throw SSORefusal(reason: "bad token endpoint", message: "The identity provider \(p.name) is misconfigured.")
        }
        request.responseLimit = OIDCProviderClient.maxBytes
        let status: Int, body: [UInt8]
        do {
            let response = try client.send(request)
            status = response.status
            body = try response.readAll(limit: OIDCProviderClient.maxBytes)
        } catch {
            throw SSORefusal(reason: "token endpoint unreachable", message: "The identity provider \(p.name) could not be reached. Try again later.")
        }
        let json = try? JSON.parse(body)
        guard status == 200, case .string(let idToken)? = json?["id_token"] else {
            let code = json?["error"]?.stringValue.map { " (\(OIDCProviderClient.printable($0)))" } ?? ""
            throw SSORefusal(reason: "token endpoint answered \(status)\(code) without an ID token",
                             message: "The identity provider \(p.name) did not confirm the sign-in. Start again.")
        }
        return idToken
    }

    /// GET of `url`: the body of a 200 answer; anything else throws.
    func get(_ url: String) throws -> [UInt8] {
        guard var request = HTTPClientRequest(url: url, timeout: OIDCProviderClient.timeout) else { throw DomainError.invalid("bad URL") }
        request.headers["Accept"] = "application/json"
        request.responseLimit = OIDCProviderClient.maxBytes
        let response = try client.send(request)
        let body = try response.readAll(limit: OIDCProviderClient.maxBytes)
        guard response.status == 200 else { throw DomainError.invalid("HTTP \(response.status) from \(url)") }
        return body
    }

    /// A provider-supplied word quoted into an audit reason: short and printable ASCII only.
    static func printable(_ s: String) -> String {
        String(s.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7f }.prefix(64).map(Character.init))
    }
}
