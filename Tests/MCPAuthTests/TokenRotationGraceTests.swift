import MCPAuth
import Testing

/// Rotating a personal token: the old secret keeps working until the grace period ends and not a moment
/// after; with no grace it dies at once. Verification takes the time as a parameter, so the end of the
/// grace is checked at exact instants instead of by waiting.
@Suite struct TokenRotationGraceTests {
    struct Fixture {
        let store: Store
        let old: Tokens.Issued

        static func make(lifetimeSeconds: Int64? = 86_400) throws -> Fixture {
            let store = try TestStore.make()
            let user = try Users(store: store).add(email: "ada@example.com", name: nil, password: nil)
            let old = try Tokens(store: store).create(email: user.email, name: "deploy", scopes: .all, app: nil, env: nil,
                                                      lifetimeSeconds: lifetimeSeconds)
            return Fixture(store: store, old: old)
        }

        func verify(_ secret: String, at now: Int64) throws -> Result<Principal, VerificationFailure> {
            try TokenVerifier().verify(secret: secret, db: store.db, now: now)
        }

        func failure(_ secret: String, at now: Int64) throws -> VerificationFailure? {
            if case .failure(let f) = try verify(secret, at: now) { return f }
            return nil
        }
    }

    @Test func theOldSecretWorksUntilTheGraceEndsAndNotAfter() throws {
        let f = try Fixture.make()
        let before = Clock.nowMillis()
        let new = try Tokens(store: f.store).rotate(f.old.record.id, graceSeconds: 60)
        let after = Clock.nowMillis()
        let graceEnd = try #require(try Tokens(store: f.store).find(id: f.old.record.id)?.expiresAt)
        #expect(graceEnd >= before + 60_000 && graceEnd <= after + 60_000)

        #expect(try f.failure(f.old.secret, at: after) == nil)
        #expect(try f.failure(f.old.secret, at: graceEnd - 1) == nil)
        #expect(try f.failure(f.old.secret, at: graceEnd) == .expired)
        #expect(try f.failure(new.secret, at: graceEnd) == nil, "the new secret outlives the grace")
        #expect(new.record.rotatedFrom == f.old.record.id && new.record.scopes == f.old.record.scopes)
    }

    @Test func rotatingWithoutGraceKillsTheOldSecretAtOnce() throws {
        let f = try Fixture.make()
        let new = try Tokens(store: f.store).rotate(f.old.record.id, graceSeconds: 0)
        let now = Clock.nowMillis()
        #expect(try f.failure(f.old.secret, at: now) == .revoked)
        #expect(try Tokens(store: f.store).find(id: f.old.record.id)?.revokedReason == "rotated")
        #expect(try f.failure(new.secret, at: now) == nil)
    }

    @Test func graceNeverExtendsATokenThatExpiresSooner() throws {
        let f = try Fixture.make(lifetimeSeconds: 30)
        let expiry = try #require(f.old.record.expiresAt)
        _ = try Tokens(store: f.store).rotate(f.old.record.id, graceSeconds: 3600)
        #expect(try Tokens(store: f.store).find(id: f.old.record.id)?.expiresAt == expiry)
        #expect(try f.failure(f.old.secret, at: expiry) == .expired)
    }

    @Test func aRotatedTokenCannotBeRotatedAgainOnceRevoked() throws {
        let f = try Fixture.make()
        _ = try Tokens(store: f.store).rotate(f.old.record.id, graceSeconds: 0)
        #expect(throws: DomainError.self) { try Tokens(store: f.store).rotate(f.old.record.id, graceSeconds: 60) }
    }

    @Test func aRotationCappedByTheAccountPagesLimitGivesANeverExpiringTokenNoLongerThanTheCap() throws {
        let f = try Fixture.make(lifetimeSeconds: nil)
        let cap: Int64 = 7 * 86_400
        let before = Clock.nowMillis()
        let new = try Tokens(store: f.store).rotate(f.old.record.id, graceSeconds: 0, maxLifetimeSeconds: cap)
        let expires = try #require(new.record.expiresAt, "a rotation under a cap must expire")
        #expect(expires >= before + cap * 1000 && expires <= Clock.nowMillis() + cap * 1000)
        // A shorter lifetime stays as it was; the CLI (no cap) keeps "never".
        let short = try Tokens(store: f.store).create(email: "ada@example.com", name: "short", scopes: .all, app: nil, env: nil, lifetimeSeconds: 3_600)
        let rotatedShort = try Tokens(store: f.store).rotate(short.record.id, graceSeconds: 0, maxLifetimeSeconds: cap)
        #expect((rotatedShort.record.expiresAt ?? .max) <= Clock.nowMillis() + 3_600_000)
        let forever = try Tokens(store: f.store).create(email: "ada@example.com", name: "forever", scopes: .all, app: nil, env: nil, lifetimeSeconds: nil)
        #expect(try Tokens(store: f.store).rotate(forever.record.id, graceSeconds: 0).record.expiresAt == nil)
    }
}
