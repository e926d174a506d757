import MCPAuth
import Testing

/// Rows that break what the schema promises (written here with raw SQL, as a damaged file or another tool
/// would) are refused with `MalformedRow`, never read as an empty string, a zero or a fallback.
@Suite struct MalformedRowTests {
    /// A store with one user, one environment and one personal token for them.
    struct Fixture {
        let store: Store
        let user: User
        let token: Tokens.Issued

        static func make() throws -> Fixture {
            let store = try TestStore.make()
            _ = try Apps(store: store).add(app: "notes", env: "production", upstream: "http://127.0.0.1:9/mcp", command: nil)
            let user = try Users(store: store).add(email: "ada@example.com", name: nil, password: nil)
            let token = try Tokens(store: store).create(email: user.email, name: "ci", scopes: .all, app: nil, env: nil,
                                                        lifetimeSeconds: 3600)
            return Fixture(store: store, user: user, token: token)
        }
    }

    @Test(.enabled(if: TestStore.isSQLite, "PostgreSQL's column types refuse such a value when it is written"))
    func aUserWhoseCreationTimeIsTextIsRefusedNotDatedToNineteenSeventy() throws {
        let f = try Fixture.make()
        try f.store.db.run("UPDATE users SET created_at = 'yesterday'")
        #expect(throws: MalformedRow(table: "users", column: "created_at")) { try Users(store: f.store).find(f.user.email) }
        #expect(throws: MalformedRow.self) { try Users(store: f.store).list() }
    }

    @Test func aUserWithoutANameOrPasswordIsNotMalformed() throws {
        let f = try Fixture.make()
        let user = try #require(try Users(store: f.store).find(f.user.email))
        #expect(user.name == nil && !user.hasPassword && user.disabledAt == nil)
    }

    @Test(.enabled(if: TestStore.isSQLite, "PostgreSQL's column types refuse such a value when it is written"))
    func aTokenWhoseRevocationTimeIsTextIsRefusedNotTreatedAsLive() throws {
        let f = try Fixture.make()
        // The attack: a revocation the reader cannot parse must not let the token through as never revoked.
        try f.store.db.run("UPDATE tokens SET revoked_at = 'revoked' WHERE id = ?", [.text(f.token.record.id)])
        #expect(throws: MalformedRow(table: "tokens", column: "revoked_at")) {
            _ = try TokenVerifier().verify(secret: f.token.secret, db: f.store.db)
        }
        #expect(throws: MalformedRow(table: "tokens", column: "revoked_at")) { try Tokens(store: f.store).find(id: f.token.record.id) }
    }

    @Test func aTokenWithAnUnknownScopeIsRefusedNotReadAsHavingNone() throws {
        let f = try Fixture.make()
        try f.store.db.run("UPDATE tokens SET scopes = 'read,fly' WHERE id = ?", [.text(f.token.record.id)])
        #expect(throws: MalformedRow(table: "tokens", column: "scopes")) {
            _ = try TokenVerifier().verify(secret: f.token.secret, db: f.store.db)
        }
        #expect(throws: MalformedRow(table: "tokens", column: "scopes")) { try Tokens(store: f.store).list(email: nil, includeInactive: true) }
    }

    @Test func anEnvironmentWhoseCommandIsNotAJSONListIsRefusedNotReadAsAURLUpstream() throws {
        let f = try Fixture.make()
        try f.store.db.run("UPDATE environments SET command_json = 'python3 server.py'")
        #expect(throws: MalformedRow(table: "environments", column: "command_json")) {
            try Apps(store: f.store).environment(app: "notes", env: "production")
        }
        #expect(throws: MalformedRow.self) { try Apps(store: f.store).list() }
    }

    @Test(.enabled(if: TestStore.isSQLite, "PostgreSQL's column types refuse such a value when it is written"))
    func anOverrideWithAnUnknownScopeIsRefusedNotReplacedByTheAnnotations() throws {
        let f = try Fixture.make()
        let scopes = ToolScopes(store: f.store)
        try scopes.setOverride(app: "notes", tool: "drop_table", scope: .delete)
        // Another tool wrote past the CHECK constraint.
        try f.store.db.run("PRAGMA ignore_check_constraints = ON")
        try f.store.db.run("UPDATE tool_scopes SET scope = 'nothing'")
        // The attack: a read-only annotation must not stand in for the operator's unreadable override.
        #expect(throws: MalformedRow(table: "tool_scopes", column: "scope")) {
            _ = try scopes.requirement(app: "notes", env: "production", tool: "drop_table", annotations: .object([("readOnlyHint", .bool(true))]))
        }
        #expect(throws: MalformedRow(table: "tool_scopes", column: "scope")) { _ = try scopes.list(app: "notes", env: nil) }
    }

    @Test(.enabled(if: TestStore.isSQLite, "PostgreSQL's column types refuse such a value when it is written"))
    func theMessageNamesTheTableAndColumnButNotTheValue() throws {
        let f = try Fixture.make()
        try f.store.db.run("UPDATE users SET email = x'00'")
        do {
            _ = try Users(store: f.store).list()
            Issue.record("a user row with a blob for an email was read")
        } catch let e as MalformedRow {
            #expect("\(e)" == "the store holds a malformed users row (column email is missing or unreadable)")
        }
    }
}
