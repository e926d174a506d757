import MCPAuth
import Testing

/// Refresh token rotation and reuse detection (RFC 6749 §6, RFC 9700 §4.14.2), called directly.
@Suite struct RefreshTokenFamilyTests {
    /// The OAuth error a call refused with, or nil when it did not refuse.
    func refusal(_ body: () throws -> Void) -> OAuthError? {
        do { try body() } catch let e as OAuthError { return e } catch { return nil }
        return nil
    }

    @Test func refreshingRotatesTheRefreshTokenWithinItsFamily() throws {
        let f = try OAuthFixture.make()
        let first = try f.tokens()
        let second = try f.refresh(first.refreshToken)
        #expect(second.refresh.id != first.refresh.id && second.refreshToken != first.refreshToken)
        #expect(second.refresh.familyID != nil && second.refresh.familyID == first.refresh.familyID)
        #expect(second.refresh.rotatedFrom == first.refresh.id)
        let spent = try f.token(first.refresh.id)
        #expect(spent.revokedAt != nil && spent.revokedReason == "rotated")
        #expect(try f.token(second.refresh.id).revokedAt == nil)
    }

    @Test func reusingASpentRefreshTokenRevokesTheWholeFamilyAndTheRevocationSticks() throws {
        let f = try OAuthFixture.make()
        let first = try f.tokens()
        let second = try f.refresh(first.refreshToken)
        // The attack: a stolen copy of the spent refresh token comes back.
        #expect(refusal { _ = try f.refresh(first.refreshToken) }?.code == "invalid_grant")
        // The refusal was thrown, yet the revocation it caused committed.
        #expect(try f.token(second.access.id).revokedAt != nil)
        #expect(try f.token(second.refresh.id).revokedAt != nil)
        #expect(refusal { _ = try f.refresh(second.refreshToken) }?.code == "invalid_grant")
    }

    @Test func aRefreshTokenPresentedByAnotherClientIsRefusedAndRevokesNothing() throws {
        let f = try OAuthFixture.make()
        let thief = try OAuthFixture.registerClient(in: f.store, name: "Thief")
        let first = try f.tokens()
        #expect(refusal { _ = try f.refresh(first.refreshToken, clientID: thief.clientID) }?.code == "invalid_grant")
        #expect(try f.token(first.refresh.id).revokedAt == nil)
        let second = try f.refresh(first.refreshToken)
        // A spent token replayed by the other client still must not kill the legitimate family.
        #expect(refusal { _ = try f.refresh(first.refreshToken, clientID: thief.clientID) }?.code == "invalid_grant")
        #expect(try f.token(second.refresh.id).revokedAt == nil)
    }

    @Test func aRefreshMayNarrowTheScopeButNeverWidenIt() throws {
        let f = try OAuthFixture.make()
        let narrow = try f.refresh(try f.tokens().refreshToken, scope: .read)
        #expect(narrow.scopes == .read)
        #expect(refusal { _ = try f.refresh(narrow.refreshToken, scope: .all) }?.code == "invalid_scope")
    }

    @Test func aReplayedAuthorizationCodeRevokesTheTokensOfItsFirstRedemption() throws {
        let f = try OAuthFixture.make()
        let code = try f.issueCode()
        let pair = try f.redeem(code)
        #expect(refusal { _ = try f.redeem(code) }?.code == "invalid_grant")
        #expect(try f.token(pair.access.id).revokedAt != nil)
        #expect(try f.token(pair.refresh.id).revokedAt != nil)
    }
}
