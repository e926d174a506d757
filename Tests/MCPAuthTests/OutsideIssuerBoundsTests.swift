import Foundation
import MCPAuth
import Testing

/// How long an issuer's keys are believed, which issuer an opaque token is sent to, and which users an
/// outside issuer may speak for. The clock is passed in (no sleeping).
@Suite("Outside issuer bounds")
struct OutsideIssuerBoundsTests {
    let issuer = "https://issuer.example"
    var expectation: JWTExpectation { JWTExpectation(issuer: issuer, audiences: ["https://mcp.example/mcp/a/prod"]) }
    let t0: Int64 = 1_800_000_000_000

    func keys(_ kid: String) -> String { #"{"keys":[{"kty":"RSA","kid":"\#(kid)","n":"\#(JOSEVectors.keyN)","e":"AQAB"}]}"# }

    func documents(jwksURI: String = "https://issuer.example/jwks") -> OutsideIssuerCacheTests.Documents {
        OutsideIssuerCacheTests.Documents(["\(issuer)/.well-known/openid-configuration": #"{"issuer":"\#(issuer)","jwks_uri":"\#(jwksURI)"}"#,
                                           "https://issuer.example/jwks": keys("k1")])
    }

    @Test("A key the issuer withdrew is trusted at most the key set's maximum age, however often tokens name it")
    func aWithdrawnKeyStopsBeingTrustedAfterTheMaximumAge() throws {
        let docs = documents()
        let cache = JWKSCache(issuer: issuer)
        let stolen = try JWSCompact(JOSEVectors.good)   // signed with k1
        #expect(cache.verify(stolen, expecting: expectation, now: t0, fetch: docs.fetch).failure == nil)
        docs.bodies["https://issuer.example/jwks"] = keys("k2")   // k1 leaked: the issuer publishes k2 only
        for minute in stride(from: Int64(1), to: 60, by: 10) {
            _ = cache.verify(stolen, expecting: expectation, now: t0 + minute * 60_000, fetch: docs.fetch)
        }
        #expect(cache.verify(stolen, expecting: expectation, now: t0 + JWKSCache.maxAgeMillis, fetch: docs.fetch).failure == .unknownKey)
    }

    @Test("At the maximum age discovery runs again, so a jwks_uri the issuer moved is followed")
    func discoveryRunsAgainAtTheMaximumAge() throws {
        let docs = documents()
        let cache = JWKSCache(issuer: issuer)
        let jws = try JWSCompact(JOSEVectors.good)
        #expect(cache.verify(jws, expecting: expectation, now: t0, fetch: docs.fetch).failure == nil)
        docs.bodies["\(issuer)/.well-known/openid-configuration"] = #"{"issuer":"\#(issuer)","jwks_uri":"https://keys.issuer.example/v2"}"#
        docs.bodies["https://keys.issuer.example/v2"] = keys("k1")
        docs.bodies["https://issuer.example/jwks"] = keys("k2")
        #expect(cache.verify(jws, expecting: expectation, now: t0 + JWKSCache.maxAgeMillis, fetch: docs.fetch).failure == nil)
        #expect(docs.fetches.last == "https://keys.issuer.example/v2")
    }

    @Test("While the issuer cannot be reached the held keys serve up to the hard maximum age, then nothing is accepted")
    func anUnreachableIssuersKeysExpireAtTheHardMaximumAge() throws {
        let docs = documents()
        let cache = JWKSCache(issuer: issuer)
        let jws = try JWSCompact(JOSEVectors.good)
        #expect(cache.verify(jws, expecting: expectation, now: t0, fetch: docs.fetch).failure == nil)
        docs.bodies = [:]
        #expect(cache.verify(jws, expecting: expectation, now: t0 + JWKSCache.maxAgeMillis, fetch: docs.fetch).failure == nil)
        #expect(cache.verify(jws, expecting: expectation, now: t0 + JWKSCache.hardMaxAgeMillis, fetch: docs.fetch).failure == .unknownKey)
    }

    @Test("An inactive introspection answer is kept 30 seconds, so one junk token presented again is not sent out again")
    func inactiveAnswersAreCachedBriefly() {
        let cache = IntrospectionCache()
        let key = IntrospectionCache.key(issuer: "corp", token: "junk")
        cache.store(key, answer: .object([("active", .bool(false))]), now: t0)
        #expect(cache.answer(key, now: t0 + IntrospectionCache.inactiveMaxAgeMillis - 1) == .object([("active", .bool(false))]))
        #expect(cache.answer(key, now: t0 + IntrospectionCache.inactiveMaxAgeMillis) == nil)
    }

    static func introspecting(_ name: String, prefix: String? = nil, domains: [String] = []) -> OutsideIssuer {
        OutsideIssuer(name: name, issuer: "https://\(name).example", introspectionURL: "https://\(name).example/introspect", clientID: "mcpctl",
                      clientSecretFile: "/etc/\(name)-secret", allowedDomains: domains, tokenPrefix: prefix)
    }

    @Test func anOpaqueTokenIsAttributedToOneIssuerAtMostAndASecondUnprefixedIntrospectorIsRefused() throws {
        let store = try TestStore.make()
        let issuers = OutsideIssuers(store: store)
        try issuers.add(Self.introspecting("corp"))
        #expect(throws: DomainError.self) { try issuers.add(Self.introspecting("partner")) }
        try issuers.add(Self.introspecting("partner", prefix: "ptr_"))
        #expect(throws: DomainError.self) { try issuers.add(Self.introspecting("third", prefix: "ptr_x")) }
        #expect(throws: DomainError.self) { try issuers.add(OutsideIssuer(name: "jwt", issuer: "https://jwt.example", tokenPrefix: "j_")) }
        let list = try issuers.list()
        #expect(OutsideIssuers.introspecting("ptr_3kd9", among: list)?.name == "partner")
        #expect(OutsideIssuers.introspecting("3kd9", among: list)?.name == "corp")
        // A store from before the rule with two issuers that introspect without a prefix: tokens go to neither.
        let legacy = [Self.introspecting("a"), Self.introspecting("b")]
        #expect(OutsideIssuers.introspecting("3kd9", among: legacy) == nil)
        #expect(try issuers.require("partner").json["token_prefix"] == .string("ptr_"))
    }

    static func identity(_ claims: JSON, _ issuer: OutsideIssuer) -> Result<OutsideIdentity, OutsideRefusal> { OutsideIdentity.from(claims, issuer: issuer) }

    @Test("An outside token names only users of the issuer's allowed domains, with a verified ASCII address")
    func anOutsideIssuerSpeaksOnlyForItsOwnVerifiedUsers() throws {
        let partner = Self.introspecting("partner", prefix: "ptr_", domains: ["partner.example", "*.contractors.example"])
        func email(_ claims: JSON) -> String? { try? Self.identity(claims, partner).get().email }
        #expect(email(.object([("email", "bo@partner.example")])) == "bo@partner.example")
        #expect(email(.object([("email", "bo@eu.contractors.example"), ("email_verified", .bool(true))])) == "bo@eu.contractors.example")
        #expect(email(.object([("email", "root@corp.example")])) == nil, "another organization's operator")
        #expect(email(.object([("email", "bo@partner.example.evil.test")])) == nil)
        #expect(email(.object([("email", "bo@partner.example"), ("email_verified", .bool(false))])) == nil)
        #expect(email(.object([("email", "bo@partner.example"), ("email_verified", "false")])) == nil)
        let anyDomain = OutsideIssuer(name: "corp", issuer: "https://corp.example")
        #expect((try? Self.identity(.object([("email", "\u{212A}ate@corp.example")]), anyDomain).get()) == nil, "Kelvin sign")
        #expect((try? Self.identity(.object([("email", "kate@corp.example")]), anyDomain).get())?.email == "kate@corp.example")
    }
}
