import Foundation
import MCPAuth

/// `mcpctl store backup|restore|copy`.
enum StoreCommands {
    static func run(_ c: Context) throws -> Int32 {
        switch c.parsed.path[1] {
        case "backup": return try backup(c)
        case "restore": return try restore(c)
        case "copy": return try copy(c)
        default: throw CommandUsageError(message: "Unknown command 'store \(c.parsed.path[1])'")
        }
    }

    /// Backup and restore copy SQLite files; a PostgreSQL database has its own tools for both.
    static func refusePostgres(_ c: Context, _ verb: String) throws {
        guard StoreLocation(c.storePath).isPostgres else { return }
        throw CommandFailure(message: "'mcpctl store \(verb)' copies a SQLite store file; back up a PostgreSQL store with pg_dump and restore it with pg_restore",
                             code: ExitCode.failure)
    }

    static func backup(_ c: Context) throws -> Int32 {
        let store = try c.store()
        try refusePostgres(c, "backup")
        let summary = try StoreBackup.backup(store, to: c.argument(0), force: c.flag("force"))
        if c.json {
            c.out.emit(.object([("store", .string(store.path))] + fields(summary)))
        } else {
            c.out.line("Backed up \(store.path) to \(summary.path) (\(summary.bytes) bytes, mode 0600); \(lastRow(summary))")
        }
        return ExitCode.success
    }

    static func restore(_ c: Context) throws -> Int32 {
        try refusePostgres(c, "restore")
        let file = c.argument(0), path = c.storePath
        try Store.prepareDirectory(of: path, create: false)
        // Held until the restore is done, so that no server starts on the store half way through.
        let lock = try StoreLock.acquire(.exclusive, storePath: path)
        if lock == nil, !c.flag("force") { throw StoreBackupError.serverRunning(store: path, lock: StoreLock.path(for: path)) }
        let restored = try StoreBackup.restore(from: file, to: path)
        withExtendedLifetime(lock) {}
        if c.json {
            let revived: [JSON] = restored.revived.map { .object([("id", .string($0.id)), ("name", .str($0.name)), ("email", .str($0.email))]) }
            c.out.emit(.object([("store", .string(path))] + fields(restored.backup) + [("revived_tokens", .array(revived))]))
            return ExitCode.success
        }
        c.out.line("Restored \(path) from \(restored.backup.path); \(lastRow(restored.backup)).")
        c.out.line("Everything after that row is gone: changes, revocations and audit rows.")
        if restored.revived.isEmpty {
            c.out.line("No token revoked since the backup comes back to life.")
        } else {
            let n = restored.revived.count
            c.out.line("\(n == 1 ? "This token was" : "These \(n) tokens were") revoked or deleted after the backup and \(n == 1 ? "is" : "are") valid again until you revoke \(n == 1 ? "it" : "them") anew:")
            c.out.table(["ID", "NAME", "USER"], restored.revived.map { [$0.id, $0.name ?? "-", $0.email ?? "-"] })
            c.out.line("Revoke them with: mcpctl token revoke " + restored.revived.map(\.id).joined(separator: " "))
        }
        return ExitCode.success
    }

    static func copy(_ c: Context) throws -> Int32 {
        let store = try c.store()
        guard let target = c.option("to"), !target.isEmpty else { throw CommandUsageError(message: "Missing expected argument '--to <PATH|URL>'") }
        let summary = try StoreCopy.copy(from: store, to: target)
        if c.json {
            c.out.emit(.object([("store", .string(store.displayPath)), ("target", .string(summary.target)), ("tables", .int(Int64(summary.tables))),
                                ("rows", .int(Int64(summary.rows))), ("audit_rows", .int(summary.auditRows)), ("audit_verified", .bool(true))]))
        } else {
            c.out.line("Copied \(store.displayPath) to \(summary.target): \(summary.rows) rows in \(summary.tables) tables; audit chain verified (\(summary.auditRows) rows).")
            c.out.line("Sign-in sessions, one-time codes and MCP sessions were not copied: users sign in again.")
        }
        return ExitCode.success
    }

    static func fields(_ s: StoreBackup.Summary) -> [(String, JSON)] {
        [("backup", .string(s.path)), ("bytes", .int(s.bytes)), ("last_audit_seq", .int(s.lastAuditSeq)),
         ("last_audit_at", .str(s.lastAuditAt.map(Clock.rfc3339)))]
    }

    static func lastRow(_ s: StoreBackup.Summary) -> String {
        guard let at = s.lastAuditAt else { return "it has no audit rows" }
        return "its last audit row is seq \(s.lastAuditSeq) at \(Clock.rfc3339(at))"
    }
}
