import MCPAuth
import Testing

/// The key-set and introspection caches of outside issuers, with the clock passed in (no sleeping).
@Suite("Outside issuer caches")
struct OutsideIssuerCacheTests {
    let issuer = "https://issuer.example"
    var expectation: JWTExpectation { JWTExpectation(issuer: issuer, audiences: ["https://mcp.example/mcp/a/prod"]) }

    /// An issuer's documents, served by URL, counting fetches.
    final class Documents: @unchecked Sendable {
        var bodies: [String: String]
        var fetches: [String] = []
        init(_ bodies: [String: String]) { self.bodies = bodies }
        func fetch(_ url: String) throws -> [UInt8] {
            fetches.append(url)
            guard let body = bodies[url] else { throw DomainError.notFound(url) }
            return Array(body.utf8)
        }
    }

    func keys(_ kid: String) -> String { #"{"keys":[{"kty":"RSA","kid":"\#(kid)","n":"\#(JOSEVectors.keyN)","e":"AQAB"}]}"# }

    func documents(kid: String, metadataIssuer: String? = nil) -> Documents {
        Documents(["\(issuer)/.well-known/openid-configuration": #"{"issuer":"\#(metadataIssuer ?? issuer)","jwks_uri":"https://issuer.example/jwks"}"#,
                   "https://issuer.example/jwks": keys(kid)])
    }

    @Test("An unknown kid refreshes the key set once, and again only after the refresh interval")
    func unknownKidRefreshesOnceWithinTheInterval() throws {
        let docs = documents(kid: "old")
        let cache = JWKSCache(issuer: issuer)
        let jws = try JWSCompact(JOSEVectors.good)
        let now: Int64 = 1_800_000_000_000
        #expect(cache.verify(jws, expecting: expectation, now: now, fetch: docs.fetch).failure == .unknownKey)
        let afterFirst = docs.fetches.count
        for i in 1...5 { _ = cache.verify(jws, expecting: expectation, now: now + Int64(i), fetch: docs.fetch) }
        #expect(docs.fetches.count == afterFirst, "a flood of unknown kids makes no more fetches")
        docs.bodies["https://issuer.example/jwks"] = keys("k1")
        #expect(cache.verify(jws, expecting: expectation, now: now + JWKSCache.refreshIntervalMillis, fetch: docs.fetch).failure == nil)
        #expect(docs.fetches.filter { $0.hasSuffix("/jwks") }.count == 2)
    }

    @Test("Metadata naming another issuer is not used, so nobody else's keys are trusted")
    func metadataOfAnotherIssuerIsRefused() throws {
        let docs = documents(kid: "k1", metadataIssuer: "https://evil.example")
        let cache = JWKSCache(issuer: issuer)
        #expect(cache.verify(try JWSCompact(JOSEVectors.good), expecting: expectation, now: 1_800_000_000_000, fetch: docs.fetch).failure == .unknownKey)
        #expect(!docs.fetches.contains("https://issuer.example/jwks"))
    }

    @Test("Without OpenID metadata the RFC 8414 location is tried, with the issuer's path after the well-known part")
    func rfc8414Fallback() throws {
        let pathIssuer = "https://issuer.example/tenant/1"
        let docs = Documents(["https://issuer.example/.well-known/oauth-authorization-server/tenant/1":
                                #"{"issuer":"\#(pathIssuer)","jwks_uri":"https://issuer.example/jwks"}"#,
                              "https://issuer.example/jwks": keys("k1")])
        let cache = JWKSCache(issuer: pathIssuer)
        let result = cache.verify(try JWSCompact(JOSEVectors.good), expecting: JWTExpectation(issuer: pathIssuer, audiences: ["https://mcp.example/mcp/a/prod"]),
                                  now: 1_800_000_000_000, fetch: docs.fetch)
        #expect(result.failure == .wrongIssuer, "keys found and signature checked; only iss differs: \(docs.fetches)")
    }

    @Test("Introspection answers are kept at most 60 seconds and never past the token's exp")
    func introspectionCacheLimits() {
        let cache = IntrospectionCache()
        let now: Int64 = 1_800_000_000_000
        let long = IntrospectionCache.key(issuer: "corp", token: "a"), short = IntrospectionCache.key(issuer: "corp", token: "b")
        cache.store(long, answer: .object([("active", .bool(true)), ("exp", .int(now / 1000 + 3600))]), now: now)
        cache.store(short, answer: .object([("active", .bool(true)), ("exp", .int(now / 1000 + 2))]), now: now)
        #expect(cache.answer(long, now: now + 59_999) != nil)
        #expect(cache.answer(long, now: now + 60_000) == nil)
        #expect(cache.answer(short, now: now + 1_999) != nil)
        #expect(cache.answer(short, now: now + 2_000) == nil)
        let expired = IntrospectionCache.key(issuer: "corp", token: "c")
        cache.store(expired, answer: .object([("active", .bool(true)), ("exp", .int(now / 1000 - 1))]), now: now)
        #expect(cache.answer(expired, now: now) == nil)
        #expect(IntrospectionCache.key(issuer: "corp", token: "a") != IntrospectionCache.key(issuer: "other", token: "a"))
    }

    @Test("An exp too large to be a date (2^63 - 1, or milliseconds) is malformed: never cached, never a crash")
    func anOutOfRangeExpIsMalformedNotAnOverflow() throws {
        let cache = IntrospectionCache()
        let now: Int64 = 1_800_000_000_000
        for exp in [Int64.max, Int64.max / 1000 + 1, JWTClaims.latestDate + 1, now, -1] {
            let key = IntrospectionCache.key(issuer: "corp", token: "t\(exp)")
            cache.store(key, answer: .object([("active", .bool(true)), ("exp", .int(exp))]), now: now)
            #expect(cache.answer(key, now: now) == nil, "exp \(exp) was cached")
        }
        let expectation = JWTExpectation(issuer: "https://issuer.example", audiences: ["https://mcp.example/mcp/a/prod"])
        for exp in ["9223372036854775807", "253402300800", "-1"] {
            let claims = try #require(JWTClaims(json: Array(#"{"iss":"https://issuer.example","aud":"https://mcp.example/mcp/a/prod","exp":\#(exp)}"#.utf8)))
            #expect(claims.violation(of: expectation, now: 1_800_000_000) == .malformed, "exp \(exp)")
        }
        #expect(JWTClaims.numericDate(.int(JWTClaims.latestDate)) == JWTClaims.latestDate)
    }

    @Test("Token scopes come from scope or scp; only read, write and delete count; no claim means read")
    func scopeClaims() {
        #expect(OutsideIdentity.scopes(.object([("scope", .string("read write openid"))])) == [.read, .write])
        #expect(OutsideIdentity.scopes(.object([("scp", .array([.string("delete"), .string("read")]))])) == [.read, .delete])
        #expect(OutsideIdentity.scopes(.object([("scp", .string("write"))])) == [.write])
        #expect(OutsideIdentity.scopes(.object([])) == .read)
        #expect(OutsideIdentity.scopes(.object([("scope", .string("profile email"))])) == [])
        #expect(OutsideIdentity.scopes(.object([("scope", .int(7))])) == [])
    }
}
