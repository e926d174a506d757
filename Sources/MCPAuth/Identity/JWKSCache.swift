import Foundation

/// One issuer's signing keys: its JWKS found through its metadata, held in memory, and fetched again
/// when a token names a key id the set does not have (keys rotate), at most once per `refreshInterval`
/// so that tokens with made-up key ids cannot make the gateway hammer the issuer. A key set is used for
/// at most `maxAge`: then discovery and the JWKS are fetched again, so a key the issuer withdrew (a
/// compromised one) stops being trusted within that time. While the issuer cannot be reached the keys
/// held stay in use up to `hardMaxAge`, and then no token is accepted until a fetch succeeds.
public final class JWKSCache: Sendable {
    /// GET of a URL: the body of a 200 answer; anything else throws.
    public typealias Fetch = @Sendable (String) throws -> [UInt8]

    public static let refreshIntervalMillis: Int64 = 5_000
    public static let maxAgeMillis: Int64 = 3_600_000
    public static let hardMaxAgeMillis: Int64 = 6 * 3_600_000

    public let issuer: String
    private struct State {
        var keys: JWKSet?
        var jwksURI: String?
        var lastFetch: Int64?
        /// When the keys held were fetched.
        var fetchedAt: Int64?
    }
    private let state = Guarded(State())

    public init(issuer: String) { self.issuer = issuer }

    /// The JWT check with this issuer's keys (`now` in milliseconds). A key id that stays unknown after
    /// one refresh is refused.
    public func verify(_ jws: JWSCompact, expecting: JWTExpectation, now: Int64, fetch: Fetch) -> Result<JWTClaims, JWTFailure> {
        guard let held = current(now: now, fetch: fetch) else { return .failure(.unknownKey) }
        let result = JWTVerifier.verify(jws, keys: held, expecting: expecting, now: now / 1000)
        guard case .failure(.unknownKey) = result, let fresh = refresh(now: now, fetch: fetch) else { return result }
        return JWTVerifier.verify(jws, keys: fresh, expecting: expecting, now: now / 1000)
    }

    /// The keys to check with: those held while younger than `maxAge`; else a fresh set (discovery
    /// included), or the old one while younger than `hardMaxAge` if the issuer cannot be reached.
    func current(now: Int64, fetch: Fetch) -> JWKSet? {
        let (keys, fetchedAt) = state.withLock { ($0.keys, $0.fetchedAt) }
        if let keys, let at = fetchedAt, now - at < JWKSCache.maxAgeMillis { return keys }
        if let fresh = refresh(now: now, fetch: fetch, rediscover: keys != nil) { return fresh }
        guard let at = fetchedAt, now - at < JWKSCache.hardMaxAgeMillis else {
            state.withLock { $0.keys = nil }
            return nil
        }
        return keys
    }

    /// Fetches the key set again when the last fetch is old enough; nil when it is not, or when the
    /// fetch fails (the keys held so far stay in use). `rediscover` reads the metadata again first, so
    /// a `jwks_uri` the issuer moved is followed.
    func refresh(now: Int64, fetch: Fetch, rediscover: Bool = false) -> JWKSet? {
        let allowed = state.withLock { s -> Bool in
            if let last = s.lastFetch, now - last < JWKSCache.refreshIntervalMillis { return false }
            s.lastFetch = now
            return true
        }
        guard allowed else { return nil }
        do {
            let known = rediscover ? nil : state.withLock { $0.jwksURI }
            let uri = try known ?? discoverJWKSURI(fetch: fetch)
            guard let keys = JWKSet(json: try fetch(uri)) else { return nil }
            state.withLock { $0.keys = keys; $0.jwksURI = uri; $0.fetchedAt = now }
            return keys
        } catch {
            return nil
        }
    }

    /// `jwks_uri` from OpenID Connect Discovery 1.0 §4 (`{issuer}/.well-known/openid-configuration`),
    /// else RFC 8414 §3.1 (`/.well-known/oauth-authorization-server` inserted before the issuer's path).
    /// The document's `issuer` must equal the configured issuer byte for byte (OIDC Discovery §4.3,
    /// RFC 8414 §3.3), so one issuer's metadata cannot vouch for another's keys.
    func discoverJWKSURI(fetch: Fetch) throws -> String {
        for url in JWKSCache.metadataURLs(issuer: issuer) {
            guard let body = try? fetch(url), let doc = JOSEJSON.object(body) else { continue }
            guard case .string(let iss)? = doc["issuer"], JOSEJSON.sameBytes(iss, issuer),
                  case .string(let uri)? = doc["jwks_uri"] else { throw DomainError.invalid("issuer metadata at \(url) does not match") }
            try OutsideIssuers.validateURL(uri, what: "jwks_uri")
            return uri
        }
        throw DomainError.notFound("no metadata found for \(issuer)")
    }

    static func metadataURLs(issuer: String) -> [String] {
        var trimmed = issuer
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        var urls = [trimmed + "/.well-known/openid-configuration"]
        if let c = URLComponents(string: trimmed), let scheme = c.scheme, let host = c.host {
            let port = c.port.map { ":\($0)" } ?? ""
            let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
            urls.append("\(scheme)://\(hostPart)\(port)/.well-known/oauth-authorization-server\(c.percentEncodedPath)")
        }
        return urls
    }
}

/// RFC 7662 answers about opaque tokens, kept at most 60 seconds and never past the token's `exp`, so
/// a token revoked at the issuer stops working here within a minute. An inactive answer is kept 30
/// seconds, so that the same unknown token presented again and again is not sent out each time.
public final class IntrospectionCache: Sendable {
    public static let maxAgeMillis: Int64 = 60_000
    public static let inactiveMaxAgeMillis: Int64 = 30_000
    public static let maxEntries = 10_000

    private struct Entry { let answer: JSON; let until: Int64 }
    private let entries = Guarded([[UInt8]: Entry]())

    public init() {}

    /// The cache key: a digest of the issuer's name and the token, so no token is held in memory here.
    public static func key(issuer: String, token: String) -> [UInt8] { SHA256.hash(issuer + "\u{0}" + token) }

    public func answer(_ key: [UInt8], now: Int64) -> JSON? {
        entries.withLock { e in
            guard let entry = e[key] else { return nil }
            if entry.until <= now { e[key] = nil; return nil }
            return entry.answer
        }
    }

    /// Keeps an active answer until min(now + 60 s, exp); any other answer for 30 s.
    public func store(_ key: [UInt8], answer: JSON, now: Int64) {
        var until = now + IntrospectionCache.maxAgeMillis
        if answer["active"] != .bool(true) {
            until = now + IntrospectionCache.inactiveMaxAgeMillis
        } else if let exp = answer["exp"] {
            guard let seconds = JWTClaims.numericDate(exp) else { return }   // malformed: never cached
            until = min(until, seconds * 1000)
        }
        guard until > now else { return }
        entries.withLock { e in
            if e.count >= IntrospectionCache.maxEntries { e = e.filter { $0.value.until > now } }
            if e.count >= IntrospectionCache.maxEntries { e.removeAll() }
            e[key] = Entry(answer: answer, until: until)
        }
    }
}
