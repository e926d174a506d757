import MCPAuth
import Testing

/// The sign-in throttle (`LoginThrottle`), called directly: reservations per account and per address.
@Suite struct LoginThrottleUnitTests {
    func throttle(_ store: Store, perAccount: Int = 3, perAddress: Int = 100) -> LoginThrottle {
        LoginThrottle(store: store, limits: LoginThrottle.Limits(perAccount: perAccount, perAddress: perAddress, windowSeconds: 900))
    }

    /// Reserves a check and records it as failed; returns the wait when throttled instead.
    func failedAttempt(_ t: LoginThrottle, _ email: String, from address: String, now: Int64 = Clock.nowMillis()) throws -> Int64? {
        switch try t.reserve(email: email, address: address, now: now) {
        case .admitted:
            try t.recordFailure(email: email, address: address, reason: "wrong password")
            return nil
        case .throttled(let wait):
            return wait
        }
    }

    @Test func guessesAtOneAccountStopAtItsLimitAndTellHowLongToWait() throws {
        let store = try TestStore.make()
        let t = throttle(store)
        for _ in 0..<3 { #expect(try failedAttempt(t, "ada@example.com", from: "192.0.2.1") == nil) }
        let wait = try failedAttempt(t, "ada@example.com", from: "192.0.2.2")
        #expect(wait != nil && wait! >= 1 && wait! <= 900)
    }

    @Test func unknownAccountsAreThrottledLikeKnownOnes() throws {
        let store = try TestStore.make()
        let t = throttle(store)
        for _ in 0..<3 { _ = try failedAttempt(t, "nobody@example.com", from: "192.0.2.1") }
        #expect(try failedAttempt(t, "nobody@example.com", from: "192.0.2.1") != nil)
    }

    @Test func oneAddressGuessingManyAccountsHitsTheAddressLimit() throws {
        let store = try TestStore.make()
        let t = throttle(store, perAddress: 2)
        #expect(try failedAttempt(t, "a@example.com", from: "192.0.2.9") == nil)
        #expect(try failedAttempt(t, "b@example.com", from: "192.0.2.9") == nil)
        #expect(try failedAttempt(t, "c@example.com", from: "192.0.2.9") != nil)
        #expect(try failedAttempt(t, "c@example.com", from: "192.0.2.10") == nil)
    }

    @Test func aSuccessfulSignInClearsTheAccountsFailures() throws {
        let store = try TestStore.make()
        let user = try Users(store: store).add(email: "ada@example.com", name: nil, password: nil)
        let t = throttle(store, perAccount: 2)
        #expect(try failedAttempt(t, user.email, from: "192.0.2.1") == nil)
        guard case .admitted(let reservation) = try t.reserve(email: user.email, address: "192.0.2.1") else {
            Issue.record("the second attempt should be admitted")
            return
        }
        try t.recordSuccess(user: user, reservation: reservation, address: "192.0.2.1", method: "password")
        #expect(try failedAttempt(t, user.email, from: "192.0.2.1") == nil)
        #expect(try failedAttempt(t, user.email, from: "192.0.2.1") == nil)
        #expect(try failedAttempt(t, user.email, from: "192.0.2.1") != nil)
    }

    @Test func failuresOlderThanTheWindowNoLongerCount() throws {
        let store = try TestStore.make()
        let t = throttle(store, perAccount: 2)
        let start = Clock.nowMillis()
        for _ in 0..<2 { _ = try failedAttempt(t, "ada@example.com", from: "192.0.2.1", now: start) }
        #expect(try failedAttempt(t, "ada@example.com", from: "192.0.2.1", now: start + 1000) != nil)
        #expect(try failedAttempt(t, "ada@example.com", from: "192.0.2.1", now: start + 900_000 + 1) == nil)
    }
}
