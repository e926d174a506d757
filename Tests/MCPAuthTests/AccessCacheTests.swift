import Foundation
import MCPAuth
import Testing

/// The gateway's access cache (Sources/MCPAuth/Access/AccessCache.swift): answers from memory while the
/// store's policy generation stands still, and never serves anything across a change made by another
/// connection (the CLI), including raw SQL.
@Suite struct AccessCacheTests {
    /// A store with one user, app `notes/prod` (HTTP upstream), an editor grant and a read+write token;
    /// `server` is a second connection to the same file, as `mcpctl serve` has.
    struct Fixture {
        let cli: Store
        let server: Store
        let secret: String
        let tokenID: String
        let cache = AccessCache()
        let verifier = TokenVerifier()

        init() throws {
            cli = try DomainTests.tempStore()
            server = try Store(path: cli.path)
            try Users(store: cli).add(email: "a@x.io", name: nil, password: nil)
            try Apps(store: cli).add(app: "notes", env: "prod", upstream: "http://127.0.0.1:9/", command: nil)
            try Grants(store: cli).add(email: "a@x.io", app: "notes", env: "prod", scopes: [.read, .write])
            let issued = try Tokens(store: cli).create(email: "a@x.io", name: nil, scopes: [.read, .write], app: nil, env: nil,
                                                        lifetimeSeconds: 3600)
            secret = issued.secret
            tokenID = issued.record.id
        }

        /// What the gateway does per request: one read transaction, verification and the decision.
        func request(tool: String = "edit") throws -> (Result<Principal, VerificationFailure>, AccessDecision?) {
            try server.db.read {
                let view = try cache.view(server)
                let verified = try verifier.verify(secret: secret, email: nil, accept: [.pat, .access]) { try view.token(hash: $0) }
                guard case .success(let p) = verified else { return (verified, nil) }
                let needed = try view.required(app: "notes", env: "prod", tool: tool).0
                return (verified, try view.decide(userID: p.userID, tokenScopes: p.scopes, tokenID: p.tokenID, binding: (nil, nil),
                                                  app: "notes", env: "prod", needed: needed).1)
            }
        }

        func generation() throws -> Int64? { try cli.db.first("SELECT value FROM policy_generation")?[0].int }

        /// The gateway's first try: memory only, outside any transaction; nil when the copy is not current.
        func requestFromMemory(secret: String? = nil, tool: String = "edit") throws -> (Result<Principal, VerificationFailure>, AccessDecision?)? {
            guard let view = try cache.currentView(server) else { return nil }
            let verified = try verifier.verify(secret: secret ?? self.secret, email: nil, accept: [.pat, .access]) { try view.token(hash: $0) }
            guard case .success(let p) = verified else { return (verified, nil) }
            let needed = try view.required(app: "notes", env: "prod", tool: tool).0
            return (verified, try view.decide(userID: p.userID, tokenScopes: p.scopes, tokenID: p.tokenID, binding: (nil, nil),
                                              app: "notes", env: "prod", needed: needed).1)
        }
    }

    @Test func aCurrentCopyAnswersFromMemoryAndAnythingItLacksIsAMiss() throws {
        let f = try Fixture()
        try ToolScopes(store: f.cli).setOverride(app: "notes", tool: "edit", scope: .write)
        #expect(try f.requestFromMemory() == nil, "an empty copy is not current")
        _ = try f.request()
        let (verified, decision) = try #require(try f.requestFromMemory())
        #expect((try? verified.get())?.tokenID == f.tokenID && decision?.allowed == true)
        #expect(throws: AccessCache.Miss.self) { try f.requestFromMemory(tool: "another_tool") }
        // A well-formed secret this store never issued (made by another store) is not in the copy either.
        let elsewhere = try Fixture()
        #expect(throws: AccessCache.Miss.self) { try f.requestFromMemory(secret: elsewhere.secret) }
    }

    @Test(arguments: ["revoke token", "disable user", "remove grant", "raw SQL revoke"])
    func aChangeFromAnotherConnectionMakesTheMemoryOnlyAnswerStepAside(change: String) throws {
        let f = try Fixture()
        _ = try f.request()
        #expect(try f.requestFromMemory() != nil)
        switch change {
        case "revoke token": _ = try Tokens(store: f.cli).revoke([f.tokenID])
        case "disable user": _ = try Users(store: f.cli).disable(email: "a@x.io")
        case "remove grant": _ = try Grants(store: f.cli).revoke(email: "a@x.io", app: "notes", env: "prod")
        default: try f.cli.db.run("UPDATE tokens SET revoked_at = 1 WHERE id = ?", [.text(f.tokenID)])
        }
        #expect(try f.requestFromMemory() == nil, "the next request goes to the store")
        let (verified, decision) = try f.request()
        #expect(verified.failure == .revoked || decision?.allowed == false)
    }

    @Test func aSecondRequestIsAnsweredFromMemory() throws {
        let f = try Fixture()
        try ToolScopes(store: f.cli).setOverride(app: "notes", tool: "edit", scope: .write)
        let (v1, d1) = try f.request()
        #expect((try? v1.get())?.tokenID == f.tokenID && d1?.allowed == true)
        let held = f.cache.count
        #expect(held == 5)  // token, tool scope, environment, grants, decision
        let (_, d2) = try f.request()
        #expect(d2?.allowed == true && f.cache.count == held)
    }

    @Test(arguments: ["revoke token", "disable user", "remove grant", "narrow tool scope", "remove app", "raw SQL revoke"])
    func everyChangeFromAnotherConnectionIsSeenByTheNextRequest(change: String) throws {
        let f = try Fixture()
        try ToolScopes(store: f.cli).setOverride(app: "notes", tool: "edit", scope: .write)
        _ = try f.request()
        let before = try f.generation()
        switch change {
        case "revoke token": _ = try Tokens(store: f.cli).revoke([f.tokenID])
        case "disable user": _ = try Users(store: f.cli).disable(email: "a@x.io")
        case "remove grant": _ = try Grants(store: f.cli).revoke(email: "a@x.io", app: "notes", env: "prod")
        case "narrow tool scope": try ToolScopes(store: f.cli).setOverride(app: "notes", tool: "edit", scope: .delete)
        case "remove app": try Apps(store: f.cli).remove(app: "notes", env: nil)
        default: try f.cli.db.run("UPDATE tokens SET revoked_at = 1 WHERE id = ?", [.text(f.tokenID)])
        }
        #expect(try f.generation() != before)
        let (verified, decision) = try f.request()
        switch change {
        // `user disable` revokes every credential of the user as well (DESIGN.md §4).
        case "revoke token", "raw SQL revoke", "disable user": #expect(verified.failure == .revoked)
        case "remove app":
            // Removing the app cascades to its grants: no access at all.
            #expect(decision?.hasAccess == false)
        default: #expect(decision?.allowed == false)
        }
    }

    @Test func theCacheAndTheStoreGiveOneAnswerNamingTheGrantThatDecided() throws {
        let f = try Fixture()
        try ToolScopes(store: f.cli).setOverride(app: "notes", tool: "edit", scope: .write)
        guard case .success(let p) = try f.request().0 else { Issue.record("token did not verify"); return }
        let asked = AccessRequest(principal: p, app: "notes", env: "prod", action: .tool("edit"))
        let fromStore = try Policy.answer(asked, store: f.cli)
        let fromCache = try f.server.db.read { try f.cache.view(f.server).decide(asked).1 }
        for d in [fromStore, fromCache] {
            #expect(d.allowed && d.decidedBy == "grant notes/prod (editor)" && d.needed == .write)
            #expect(d.neededBecause == "set by 'mcpctl tool scope'" && d.toolKnown)
        }
        let delete = try Policy.answer(AccessRequest(principal: p, app: "notes", env: "prod", action: .scope(.delete)), store: f.cli)
        #expect(!delete.allowed && delete.decidedBy == "grant notes/prod (editor)")
        let elsewhere = try Policy.answer(AccessRequest(principal: p, app: "notes", env: "staging", action: .anything), store: f.cli)
        #expect(!elsewhere.hasAccess && elsewhere.decidedBy == nil)
    }

    @Test func lastUsedBookkeepingDoesNotDropTheCache() throws {
        let f = try Fixture()
        let before = try f.generation()
        try f.cli.db.run("UPDATE tokens SET last_used_at = 5 WHERE id = ?", [.text(f.tokenID)])
        try f.cli.db.run("UPDATE clients SET last_used_at = 5")
        #expect(try f.generation() == before)
        try f.cli.db.run("UPDATE tokens SET scopes = 'read' WHERE id = ?", [.text(f.tokenID)])
        #expect(try f.generation() != before)
    }

    @Test func aSnapshotOfAnOlderGenerationNeitherReadsNorFillsTheCurrentCopy() throws {
        let f = try Fixture()
        // An old read transaction stays open while the CLI commits a revocation.
        let old = try Store(path: f.cli.path)
        try old.db.execute("BEGIN")
        let oldView = try f.cache.view(old)
        _ = try Tokens(store: f.cli).revoke([f.tokenID])
        let (verified, _) = try f.request()
        #expect(verified.failure == .revoked)
        // The old snapshot still sees the token as live (that is its snapshot) but must not put that
        // row into the copy that the current generation answers from.
        #expect(try oldView.token(hash: TokenSecret.hash(f.secret)) != nil)
        try old.db.execute("COMMIT")
        #expect(try f.request().0.failure == .revoked)
    }

    @Test func unknownSecretsAreNeverHeldAndTheCopyIsBounded() throws {
        let f = try Fixture()
        let small = AccessCache(limit: 3)
        try f.server.db.read {
            let view = try small.view(f.server)
            for _ in 0..<20 { #expect(try view.token(hash: TokenSecret.hash(TokenSecret.generate(kind: "pat"))) == nil) }
            #expect(small.count == 0)
            for i in 0..<10 { _ = try view.environment(app: "notes", env: "e\(i)") }
            #expect(small.count <= 3)
        }
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let f) = self { return f }
        return nil
    }
}
