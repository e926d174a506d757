import Foundation
import HTTP
import MCPAuth

/// Bearer tokens from outside issuers (`mcpctl issuer add`): JWTs verified against the issuer's JWKS,
/// opaque tokens through its RFC 7662 introspection endpoint. Network work happens here, before the
/// store's read transaction; the user mapping happens inside it (`AccessCheck`).
final class OutsideTokens: Sendable {
    let pool: StorePool
    let publicURL: String
    let client = HTTPClient(maxIdleConnectionsPerHost: 4)
    /// Key sets by issuer as added (name, URL and when): an issuer removed and added again starts with
    /// no keys, and the sets of issuers no longer configured are let go.
    let keySets = Guarded([String: JWKSCache]())
    let introspection = IntrospectionCache()
    static let timeout = 5.0
    static let maxBodyBytes = 256 * 1024
    /// Longest opaque token sent for introspection.
    static let maxOpaqueLength = 4096

    let log: RequestLog?

    init(pool: StorePool, publicURL: String, log: RequestLog? = nil) {
        self.pool = pool
        self.publicURL = publicURL
        self.log = log
    }

    func issuers() throws -> [OutsideIssuer] { try pool.with { try OutsideIssuers(store: $0).list() } }

    /// The outcome for a bearer token that is not one of mcpctl's, or nil when the credential is for
    /// mcpctl's own verifier (the header pair, an mcpctl token, or no outside issuer configured).
    func verify(_ credentials: PresentedCredentials, app: String, env: String, now: Int64) throws -> Result<OutsideIdentity, OutsideRefusal>? {
        guard credentials.email == nil, TokenSecret.kind(of: credentials.secret) == nil else { return nil }
        let list = try issuers()
        guard !list.isEmpty else { return nil }
        let resource = "\(publicURL)/mcp/\(app)/\(env)"
        if credentials.secret.utf8.count(where: { $0 == UInt8(ascii: ".") }) == 2 {
            return verifyJWT(credentials.secret, issuers: list, resource: resource, now: now)
        }
        return introspect(credentials.secret, issuers: list, resource: resource, now: now)
    }

    // MARK: JWT

    func verifyJWT(_ token: String, issuers: [OutsideIssuer], resource: String, now: Int64) -> Result<OutsideIdentity, OutsideRefusal> {
        let jws: JWSCompact
        do { jws = try JWSCompact(token) } catch { return .failure(OutsideRefusal(issuer: nil, reason: error.rawValue)) }
        // The unverified `iss` only chooses whose keys to try (and names the issuer in the audit row);
        // the signature and `iss` are then checked.
        guard case .string(let iss)? = JWTClaims(json: jws.payload)?["iss"],
              let issuer = issuers.first(where: { $0.issuer.utf8.elementsEqual(iss.utf8) }) else {
            return .failure(OutsideRefusal(issuer: nil, reason: "JWT from an issuer not added with 'mcpctl issuer add'"))
        }
        if let failure = JWTVerifier.headerViolation(jws) { return .failure(OutsideRefusal(issuer: issuer.name, reason: failure.rawValue)) }
        let expecting = JWTExpectation(issuer: issuer.issuer, audiences: [resource] + (issuer.audience.map { [$0] } ?? []))
        switch keySet(issuer, configured: issuers).verify(jws, expecting: expecting, now: now, fetch: { try self.logged($0, issuer: issuer.name) }) {
        case .failure(let f): return .failure(OutsideRefusal(issuer: issuer.name, reason: f.rawValue, failure: f == .expired ? .expired : .unknown))
        case .success(let claims): return OutsideIdentity.from(claims.json, issuer: issuer)
        }
    }

    static func cacheKey(_ i: OutsideIssuer) -> String { [i.name.lowercased(), i.issuer, String(i.createdAt)].joined(separator: "\u{0}") }

    func keySet(_ issuer: OutsideIssuer, configured: [OutsideIssuer]) -> JWKSCache {
        let key = OutsideTokens.cacheKey(issuer)
        return keySets.withLock { sets in
            if let set = sets[key] { return set }
            let live = Set(configured.map(OutsideTokens.cacheKey))
            sets = sets.filter { live.contains($0.key) }
            let set = JWKSCache(issuer: issuer.issuer)
            sets[key] = set
            return set
        }
    }

    // MARK: Introspection

    /// RFC 7662: asks the one issuer the token can be attributed to (its `--token-prefix`, else the only
    /// issuer that introspects without one); a token no issuer can be attributed to is sent nowhere, so
    /// no issuer learns another's tokens. Answers are cached, inactive ones too (briefly), by a digest.
    func introspect(_ token: String, issuers: [OutsideIssuer], resource: String, now: Int64) -> Result<OutsideIdentity, OutsideRefusal> {
        guard token.utf8.count <= OutsideTokens.maxOpaqueLength, let issuer = OutsideIssuers.introspecting(token, among: issuers) else {
            return .failure(OutsideRefusal(issuer: nil, reason: "unknown token (not mcpctl's, not a JWT, no issuer introspects it)"))
        }
        let key = IntrospectionCache.key(issuer: OutsideTokens.cacheKey(issuer), token: token)
        let answer: JSON
        if let cached = introspection.answer(key, now: now) {
            answer = cached
        } else {
            do { answer = try ask(issuer, token: token) } catch {
                log?.write(.warn, [("msg", "introspection failed"), ("issuer", issuer.name), ("error", "\(error)")])
                return .failure(OutsideRefusal(issuer: issuer.name, reason: "introspection failed: \(error)"))
            }
            introspection.store(key, answer: answer, now: now)
        }
        guard answer["active"] == .bool(true) else { return .failure(OutsideRefusal(issuer: nil, reason: "token not active at any issuer")) }
        return accepted(answer, issuer: issuer, resource: resource, now: now)
    }

    /// An active answer still has to be for this resource, unexpired and from this issuer.
    func accepted(_ answer: JSON, issuer: OutsideIssuer, resource: String, now: Int64) -> Result<OutsideIdentity, OutsideRefusal> {
        func refuse(_ reason: String, _ failure: VerificationFailure = .unknown) -> Result<OutsideIdentity, OutsideRefusal> {
            .failure(OutsideRefusal(issuer: issuer.name, reason: reason, failure: failure))
        }
        if let exp = answer["exp"] {
            guard let seconds = JWTClaims.numericDate(exp) else { return refuse("introspection answer has a malformed exp") }
            if seconds * 1000 <= now { return refuse("token expired (introspection exp)", .expired) }
        }
        guard JWTClaims.audience(answer["aud"], matchesAnyOf: [resource] + (issuer.audience.map { [$0] } ?? [])) else {
            return refuse("introspection answer's audience does not match")
        }
        if let iss = answer["iss"], iss.stringValue.map({ $0.utf8.elementsEqual(issuer.issuer.utf8) }) != true {
            return refuse("introspection answer from another issuer")
        }
        return OutsideIdentity.from(answer, issuer: issuer)
    }

    /// RFC 7662 §2.1 request, authenticated with HTTP Basic (RFC 6749 §2.3.1: both parts form-encoded).
    func ask(_ issuer: OutsideIssuer, token: String) throws -> JSON {
        guard let url = issuer.introspectionURL, let id = issuer.clientID, let file = issuer.clientSecretFile else { throw DomainError.invalid("no introspection") }
        let secret = try SecretFile.read(file)
        let credentials = Data("\(OutsideTokens.formEncoded(id)):\(OutsideTokens.formEncoded(secret))".utf8).base64EncodedString()
        var headers = HTTPHeaders()
        headers["Authorization"] = "Basic \(credentials)"
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Accept"] = "application/json"
        let body = Array("token=\(OutsideTokens.formEncoded(token))&token_type_hint=access_token".utf8)
        guard var request = HTTPClientRequest(method: "POST", url: url, headers: headers, body: body, timeout: OutsideTokens.timeout) else {
            throw DomainError.invalid("bad introspection URL")
        }
        request.responseLimit = OutsideTokens.maxBodyBytes
        let bytes = try send(request)
        guard let answer = try? JSON.parse(bytes, maxDepth: 16), case .object = answer else { throw DomainError.invalid("introspection answer is not a JSON object") }
        return answer
    }

    // MARK: HTTP

    /// A metadata or JWKS fetch, with its failure in the server log (a missing OpenID document is
    /// normal for an RFC 8414-only issuer, hence info, not warn).
    func logged(_ url: String, issuer: String) throws -> [UInt8] {
        do { return try get(url) } catch {
            log?.write(.info, [("msg", "outside issuer fetch failed"), ("issuer", issuer), ("url", url), ("error", "\(error)")])
            throw error
        }
    }

    func get(_ url: String) throws -> [UInt8] {
        var headers = HTTPHeaders()
        headers["Accept"] = "application/json"
        guard var request = HTTPClientRequest(url: url, headers: headers, timeout: OutsideTokens.timeout) else { throw DomainError.invalid("bad URL") }
        request.responseLimit = OutsideTokens.maxBodyBytes
        return try send(request)
    }

    func send(_ request: HTTPClientRequest) throws -> [UInt8] {
        let response = try client.send(request)
        defer { response.close() }
        guard response.status == 200 else { throw DomainError.invalid("HTTP \(response.status) from \(request.url.host ?? "?")") }
        return try response.readAll(limit: OutsideTokens.maxBodyBytes)
    }

    /// application/x-www-form-urlencoded (WHATWG URL §5.2): unreserved bytes as they are, the rest %XX.
    static func formEncoded(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "*"):
                out.unicodeScalars.append(UnicodeScalar(b))
            default:
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }

    /// The issuer URLs for RFC 9728 `authorization_servers` (none when the store cannot be read).
    func issuerURLs() -> [String] { ((try? issuers()) ?? []).map(\.issuer) }
}
