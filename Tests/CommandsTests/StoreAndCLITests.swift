import Foundation
import MCPAuth
import Testing

/// The store's file rules and the CLI's general contract (exit codes, errors, help, JSON, audit of changes).
@Suite struct StoreAndCLITests {
    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test(.enabled(if: CLIHarness.isSQLite, "a SQLite store's files, modes and backups"))
    func storeIsCreatedWithPrivateDirectoryAndFileModes() throws {
        let h = CLIHarness()
        let r = try h.ok(["init"])
        #expect(r.stdout.contains(h.dbPath))
        #expect(try mode(h.dbPath) == 0o600)
        #expect(try mode(URL(fileURLWithPath: h.dbPath).deletingLastPathComponent().path) == 0o700)
    }

    @Test(.enabled(if: CLIHarness.isSQLite, "a SQLite store's files, modes and backups"))
    func aStoreOtherUsersCanReadIsRefused() throws {
        let h = CLIHarness()
        try h.user()
        chmod(h.dbPath, 0o644)
        let r = try h.run(["token", "list"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("Error:") && r.stderr.contains("chmod 600"))
    }

    @Test func defaultPathFollowsMCPCTL_DBThenXDGThenHome() throws {
        #expect(Store.defaultPath(environment: ["MCPCTL_DB": "/x/y.db", "XDG_DATA_HOME": "/d", "HOME": "/h"]) == "/x/y.db")
        #expect(Store.defaultPath(environment: ["XDG_DATA_HOME": "/d", "HOME": "/h"]) == "/d/mcpctl/mcpctl.db")
        #expect(Store.defaultPath(environment: ["HOME": "/h"]) == "/h/.local/share/mcpctl/mcpctl.db")
        let h = CLIHarness()
        try h.ok(["init"])
        let other = h.dir.appendingPathComponent("other.db").path
        try h.ok(["--db", other, "user", "add", "carol@example.com"])
        #expect(FileManager.default.fileExists(atPath: other))
        #expect(try h.ok(["user", "list", "--db", other, "--json"]).jsonArray().count == 1)
        #expect(try h.ok(["user", "list", "--json"]).jsonArray().isEmpty)
    }

    @Test func aStoreFromANewerVersionIsRefused() throws {
        let h = CLIHarness()
        try h.ok(["init"])
        do {
            let store = try Store(path: h.dbPath)
            try store.db.run("INSERT INTO schema_migrations (name, applied_at) VALUES ('9999_future', 0)")
        }
        let r = try h.run(["user", "list"])
        #expect(r.status == 1 && r.stderr.contains("newer mcpctl"))
    }

    @Test func usageErrorsExit64WithSuggestions() throws {
        let h = CLIHarness()
        let typo = try h.run(["tokn", "list"])
        #expect(typo.status == 64)
        #expect(typo.stderr.contains("Error:") && typo.stderr.contains("'token'"))
        let opt = try h.run(["token", "create", "--emial", "a@b.c"])
        #expect(opt.status == 64 && opt.stderr.contains("--email"))
        #expect(opt.stderr.contains("See 'mcpctl token create --help'"))
        let missing = try h.run(["user", "add"])
        #expect(missing.status == 64 && missing.stderr.contains("EMAIL"))
    }

    @Test func helpIsAvailableOnEveryLevel() throws {
        let h = CLIHarness()
        for args in [["--help"], ["token", "--help"], ["token", "create", "-h"], ["help", "token", "create"], ["audit", "list", "--help"]] {
            let r = try h.ok(args)
            #expect(r.stdout.contains("USAGE:"), "no usage in help for \(args)")
        }
        #expect(try h.ok(["help", "token", "create"]).stdout.contains("--scopes"))
        #expect(try h.ok(["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
    }

    @Test func globalOptionsWorkBeforeAndAfterTheCommand() throws {
        let h = CLIHarness()
        try h.user()
        #expect(try h.ok(["--json", "user", "list"]).jsonArray().count == 1)
        #expect(try h.ok(["user", "list", "--json"]).jsonArray().count == 1)
    }

    @Test func invalidEmailsAreRejectedAndEmailsAreCaseInsensitive() throws {
        let h = CLIHarness()
        for bad in ["alice", "alice@", "@example.com", "a b@example.com", "alice@exa mple.com", "alice@@example.com"] {
            let r = try h.run(["user", "add", bad])
            #expect(r.status == 1, "accepted \(bad)")
        }
        try h.ok(["user", "add", "Alice@Example.COM"])
        let dup = try h.run(["user", "add", "alice@example.com"])
        #expect(dup.status == 1 && dup.stderr.contains("already exists"))
        #expect(try h.ok(["user", "show", "ALICE@example.com", "--json"]).jsonObject()["email"] as? String == "alice@example.com")
    }

    @Test func passwordsComeFromStdinAndAreStoredAsPBKDF2() throws {
        let h = CLIHarness()
        try h.ok(["user", "add", "alice@example.com", "--password-stdin"], stdin: "correct horse battery\n")
        let store = try Store(path: h.dbPath)
        let row = try #require(try store.db.first("SELECT password_hash, password_salt, password_iterations FROM users"))
        #expect(row["password_iterations"].int ?? 0 >= 600_000)
        #expect(row["password_salt"].bytes?.count == 16)
        #expect(try Users(store: store).authenticate(email: "alice@example.com", password: "correct horse battery") != nil)
        #expect(try Users(store: store).authenticate(email: "alice@example.com", password: "wrong horse battery") == nil)
        try h.ok(["user", "passwd", "alice@example.com", "--password-stdin"], stdin: "another long secret\n")
        #expect(try Users(store: store).authenticate(email: "alice@example.com", password: "another long secret") != nil)
        let short = try h.run(["user", "passwd", "alice@example.com", "--password-stdin"], stdin: "short\n")
        #expect(short.status == 1)
        let empty = try h.run(["user", "passwd", "alice@example.com", "--password-stdin"], stdin: "")
        #expect(empty.status == 1)
    }

    @Test func everyChangeIsAuditedWithTheOperatingSystemUserAndNoSecret() throws {
        let h = CLIHarness()
        try h.user()
        let t = try h.token()
        try h.ok(["token", "rotate", t.id])
        try h.ok(["user", "disable", "alice@example.com"])
        let events = try h.ok(["audit", "list", "--source", "cli", "--json"]).jsonArray()
        let actions = events.compactMap { $0["action"] as? String }
        #expect(actions == ["user.disable", "token.rotate", "token.create", "user.add"])
        let me = OperatingSystemUser.name
        #expect(events.allSatisfy { $0["actor"] as? String == me && $0["source"] as? String == "cli" })
        let all = try h.ok(["audit", "export"]).stdout
        #expect(!all.contains(t.secret))
        #expect(try h.ok(["audit", "verify"]).stdout.hasPrefix("OK"))
    }
}
