import Foundation
import MCPAuth
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The store is created only on purpose; backups are consistent and private; a restore checks the backup
/// first, refuses while a server holds the store, and says what it brings back to life.
@Suite struct StoreFaultTests {
    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func everyCommandButTheCreatingOnesRefusesAMissingStoreAndCreatesNothing() throws {
        let h = CLIHarness()
        let storeDir = URL(fileURLWithPath: h.dbPath).deletingLastPathComponent().path
        for args in [["audit", "verify"], ["audit", "list"], ["user", "list"], ["token", "list"], ["grant", "list"],
                     ["client", "list"], ["token", "create", "--email", "a@example.com"], ["serve", "--listen", "127.0.0.1:0"], ["store", "backup", h.dir.appendingPathComponent("b.db").path]] {
            let r = try h.run(args)
            #expect(r.status == 1, "\(args)")
            #expect(r.stderr.contains(StoreLocation(h.dbPath).display) && r.stderr.contains("mcpctl init"), "\(args): \(r.stderr)")
            #expect(!r.stdout.contains("OK"))
            #expect(!FileManager.default.fileExists(atPath: storeDir), "\(args) created \(storeDir)")
        }
        let wrong = try h.run(["audit", "verify"], env: ["MCPCTL_DB": "/wrong/path"])
        #expect(wrong.status == 1 && wrong.stderr.contains("/wrong/path") && !wrong.stdout.contains("OK"))
        #expect(!FileManager.default.fileExists(atPath: "/wrong"))
    }

    @Test(.enabled(if: CLIHarness.isSQLite, "a SQLite store's files, modes and backups"))
    func auditVerifyOnAnEmptyFileNeverSaysOK() throws {
        let h = CLIHarness()
        let path = h.dir.appendingPathComponent("empty.db").path
        #expect(FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]))
        let r = try h.run(["--db", path, "audit", "verify"])
        #expect(r.status == 1 && !r.stdout.contains("OK"))
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == 0)
    }

    @Test func initCreatesTheStoreOnceAndThenChangesNothing() throws {
        let h = CLIHarness()
        #expect(try h.ok(["init"]).stdout.contains("Created store at \(StoreLocation(h.dbPath).display)"))
        try h.user()
        let again = try h.ok(["init"])
        #expect(again.stdout.contains("already exists") && again.stdout.contains(StoreLocation(h.dbPath).display))
        #expect(try h.ok(["init", "--json"]).jsonObject()["created"] as? Bool == false)
        #expect(try h.ok(["user", "list", "--json"]).jsonArray().count == 1)
        #expect(!(try h.ok(["init", "--help"]).stdout.contains("Every command creates")))
    }

    @Test(.enabled(if: CLIHarness.isSQLite, "a SQLite store's files, modes and backups"))
    func addingTheFirstUserOrAppCreatesTheStore() throws {
        let users = CLIHarness()
        try users.ok(["user", "add", "alice@example.com"])
        #expect(try mode(users.dbPath) == 0o600)
        let apps = CLIHarness()
        try apps.ok(["app", "add", "notes", "--env", "prod", "--upstream", "http://127.0.0.1:9/mcp"])
        #expect(try mode(apps.dbPath) == 0o600)
    }

    @Test(.enabled(if: CLIHarness.isSQLite, "a SQLite store's files, modes and backups"))
    func aStoreDirectoryOthersCanWriteToIsRefused() throws {
        let h = CLIHarness()
        try h.user()
        let dir = URL(fileURLWithPath: h.dbPath).deletingLastPathComponent().path
        chmod(dir, 0o777)
        let r = try h.run(["token", "list"])
        #expect(r.status == 1 && r.stderr.contains("writable by other users") && r.stderr.contains(dir))
        chmod(dir, 0o700)
        try h.ok(["token", "list"])
    }

    @Test(.enabled(if: CLIHarness.isSQLite, "a SQLite store's files, modes and backups"))
    func backupIsPrivateAndRefusesToOverwriteUnlessForced() throws {
        let h = CLIHarness()
        try h.user()
        _ = try h.token()
        let file = h.dir.appendingPathComponent("backup.db").path
        let made = try h.ok(["store", "backup", file, "--json"]).jsonObject()
        #expect(made["backup"] as? String == file && made["store"] as? String == h.dbPath)
        #expect((made["last_audit_seq"] as? Int ?? 0) >= 2 && made["last_audit_at"] is String)
        #expect(try mode(file) == 0o600)
        let before = try Data(contentsOf: URL(fileURLWithPath: file))
        let refused = try h.run(["store", "backup", file])
        #expect(refused.status == 1 && refused.stderr.contains("--force"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == before)
        try h.ok(["user", "add", "bob@example.com"])
        try h.ok(["store", "backup", file, "--force"])
        #expect(try mode(file) == 0o600)
        #expect(try h.ok(["--db", file, "user", "list", "--json"]).jsonArray().count == 2)
    }

    @Test(.enabled(if: CLIHarness.isSQLite, "a SQLite store's files, modes and backups"))
    func restoreListsTheTokensItBringsBackAndIsAudited() throws {
        let h = CLIHarness()
        try h.user()
        let kept = try h.token("alice@example.com", ["--name", "kept"])
        let revoked = try h.token("alice@example.com", ["--name", "ci-deploy"])
        let file = h.dir.appendingPathComponent("backup.db").path
        let backupAt = try h.ok(["store", "backup", file, "--json"]).jsonObject()["last_audit_at"] as? String
        try h.ok(["token", "revoke", revoked.id])
        try h.ok(["user", "add", "bob@example.com"])
        let text = try h.ok(["store", "restore", file])
        #expect(text.stdout.contains(revoked.id) && text.stdout.contains("ci-deploy") && !text.stdout.contains(kept.id))
        #expect(text.stdout.contains(backupAt ?? "?"))
        #expect(try h.ok(["user", "list", "--json"]).jsonArray().count == 1)
        #expect(try h.ok(["token", "show", revoked.id, "--json"]).jsonObject()["revoked_at"] is NSNull)
        let audit = try h.ok(["audit", "list", "--source", "cli", "--json"]).jsonArray()
        #expect(audit.first?["action"] as? String == "store.restore")
        try h.ok(["audit", "verify"])
        #expect(try mode(h.dbPath) == 0o600)
        let walSize = (try? FileManager.default.attributesOfItem(atPath: h.dbPath + "-wal"))?[.size] as? Int ?? 0
        #expect(walSize == 0, "the replaced store's write-ahead log was left to be replayed")
        // Revoke again, then restore the same backup with --json: the list is machine-readable.
        try h.ok(["token", "revoke", revoked.id])
        let json = try h.ok(["store", "restore", file, "--json"]).jsonObject()
        let revived = json["revived_tokens"] as? [[String: Any]] ?? []
        #expect(revived.count == 1 && revived.first?["id"] as? String == revoked.id && revived.first?["name"] as? String == "ci-deploy")
        #expect(json["last_audit_at"] as? String == backupAt)
    }

    @Test(.enabled(if: CLIHarness.isSQLite, "a SQLite store's files, modes and backups"))
    func restoreRefusesACorruptBackupAndChangesNothing() throws {
        let h = CLIHarness()
        try h.user()
        _ = try h.token()
        let file = h.dir.appendingPathComponent("backup.db").path
        try h.ok(["store", "backup", file])
        try h.ok(["user", "add", "bob@example.com"])
        // Overwrite pages 3…30 of the backup with garbage.
        let fd = open(file, O_WRONLY)
        let garbage = [UInt8](repeating: 0x5a, count: 4096 * 28)
        #expect(pwrite(fd, garbage, garbage.count, 4096 * 2) == garbage.count)
        close(fd)
        let r = try h.run(["store", "restore", file])
        #expect(r.status == 1 && r.stderr.contains("integrity"), "\(r.stderr)")
        #expect(try h.ok(["user", "list", "--json"]).jsonArray().count == 2)
        let notAStore = h.dir.appendingPathComponent("notes.txt").path
        try Data("not a database at all, just some text that is long enough".utf8).write(to: URL(fileURLWithPath: notAStore))
        #expect(try h.run(["store", "restore", notAStore]).status == 1)
        #expect(try h.ok(["user", "list", "--json"]).jsonArray().count == 2)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: URL(fileURLWithPath: h.dbPath).deletingLastPathComponent().path)
        #expect(!leftovers.contains { $0.contains(".tmp-") }, "\(leftovers)")
    }

    @Test(.enabled(if: CLIHarness.isSQLite, "a SQLite store's files, modes and backups"))
    func restoreRefusesABackupWhoseAuditChainWasTamperedWith() throws {
        let h = CLIHarness()
        try h.user()
        _ = try h.token()
        let file = h.dir.appendingPathComponent("backup.db").path
        try h.ok(["store", "backup", file])
        do {
            let db = try Database(path: file, create: false)
            try db.run("UPDATE audit SET email = 'mallory@example.com' WHERE seq = 2")
        }
        try h.ok(["user", "add", "bob@example.com"])
        let r = try h.run(["store", "restore", file, "--json"])
        #expect(r.status == 1 && r.stderr.contains("audit chain"), "\(r.stderr)")
        #expect(try h.ok(["user", "list", "--json"]).jsonArray().count == 2)
    }

    @Test(.enabled(if: CLIHarness.isSQLite, "a SQLite store's files, modes and backups"))
    func restoreRefusesWhileAServerHoldsTheStoreUnlessForced() throws {
        let h = CLIHarness()
        try h.user()
        let file = h.dir.appendingPathComponent("backup.db").path
        try h.ok(["store", "backup", file])
        // The lock a running `mcpctl serve` holds (shared flock on STORE.lock).
        let serverLock = try #require(try StoreLock.acquire(.shared, storePath: h.dbPath))
        let refused = try h.run(["store", "restore", file])
        #expect(refused.status == 1 && refused.stderr.contains("running") && refused.stderr.contains("--force"))
        try h.ok(["store", "restore", file, "--force"])
        withExtendedLifetime(serverLock) {}
    }

    @Test(.enabled(if: CLIHarness.isSQLite, "a SQLite store's files, modes and backups"))
    func serveDoesNotStartWhileARestoreHoldsTheStore() throws {
        let h = CLIHarness()
        try h.ok(["init"])
        let restoreLock = try #require(try StoreLock.acquire(.exclusive, storePath: h.dbPath))
        let r = try h.run(["serve", "--listen", "127.0.0.1:0"])
        #expect(r.status == 1 && r.stderr.contains("restore"), "\(r.stderr)")
        withExtendedLifetime(restoreLock) {}
    }

    @Test func serveRefusesToStartWhenThePostgreSQLDatabaseCannotBeReachedAndSaysWhyOnOneLine() throws {
        let h = CLIHarness()
        let r = try h.run(["--db", "postgresql://mcpctl:Secret-Pa55@127.0.0.1:1/mcpctl", "serve", "--listen", "127.0.0.1:0"], timeout: 30)
        #expect(r.status == 1, "\(r.status) \(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && r.stderr.contains("cannot open store") && r.stderr.contains("127.0.0.1"), "\(r.stderr)")
        #expect(!r.stderr.contains("Secret-Pa55") && !r.stderr.contains("\\n"), "\(r.stderr)")
    }
}
