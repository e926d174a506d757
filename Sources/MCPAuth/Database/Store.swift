import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a store could not be opened or used; every message names the path and the fix.
public enum StoreError: Error, CustomStringConvertible, Sendable {
    case unsafePermissions(path: String, mode: UInt32)
    case newerStore(path: String, migration: String)
    case cannotCreate(path: String, reason: String)
    case notAStore(path: String, reason: String)

    public var description: String {
        switch self {
        case .unsafePermissions(let path, let mode):
            return "store \(path) is readable or writable by other users (mode \(String(mode & 0o777, radix: 8))); " +
                "it holds credential hashes and the audit log. Fix it with: chmod 600 \(path)"
        case .newerStore(let path, let migration):
            return "store \(path) was written by a newer mcpctl (unknown migration '\(migration)'); upgrade mcpctl"
        case .cannotCreate(let path, let reason):
            return "cannot create store \(path): \(reason)"
        case .notAStore(let path, let reason):
            return "cannot open store \(path): \(reason)"
        }
    }
}

/// The local SQLite store shared by the CLI and the server: path rules, permissions, schema.
public final class Store: @unchecked Sendable {
    public let path: String
    public let db: Database

    /// `$MCPCTL_DB`, else `$XDG_DATA_HOME/mcpctl/mcpctl.db`, else `~/.local/share/mcpctl/mcpctl.db` (DESIGN.md §3).
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let p = environment["MCPCTL_DB"], !p.isEmpty { return p }
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty, xdg.hasPrefix("/") { return xdg + "/mcpctl/mcpctl.db" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/share/mcpctl/mcpctl.db"
    }

    /// Opens the store at `path`, creating it (directory 0700, file 0600) on first use, refusing a file
    /// other users can read, and bringing the schema up to date.
    public init(path: String) throws {
        self.path = path
        let fm = FileManager.default
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty, !fm.fileExists(atPath: dir) {
            do {
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw StoreError.cannotCreate(path: path, reason: "cannot create directory \(dir)")
            }
        }
        var st = stat()
        if stat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFREG else { throw StoreError.notAStore(path: path, reason: "not a regular file") }
            if st.st_mode & 0o077 != 0 { throw StoreError.unsafePermissions(path: path, mode: UInt32(st.st_mode)) }
        } else {
            // Create the file 0600 ourselves so SQLite (and its -wal/-shm, which copy the mode) never
            // exist with looser permissions, whatever the umask.
            let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
            if fd < 0 {
                if errno != EEXIST {
                    throw StoreError.cannotCreate(path: path, reason: String(cString: strerror(errno)))
                }
            } else {
                fchmod(fd, 0o600)
                close(fd)
            }
        }
        do {
            db = try Database(path: path)
            try Migrations.apply(to: db)
            try Store.seed(db)
        } catch let error as DatabaseError {
            throw StoreError.notAStore(path: path, reason: error.message)
        }
    }

    /// Things every store has: the built-in app and the per-store audit key.
    private static func seed(_ db: Database) throws {
        let hasApp = try db.first("SELECT 1 FROM environments e JOIN apps a ON a.id = e.app_id WHERE a.name = 'mcpctl' AND e.name = 'local'") != nil
        let hasKey = try db.first("SELECT 1 FROM settings WHERE key = 'audit_key'") != nil
        if hasApp && hasKey { return }
        try db.write {
            let now = Clock.nowMillis()
            try db.run("INSERT OR IGNORE INTO apps (name, created_at) VALUES ('mcpctl', ?)", [.integer(now)])
            try db.run("""
                INSERT OR IGNORE INTO environments (app_id, name, upstream_url, command_json, created_at)
                SELECT id, 'local', NULL, NULL, ? FROM apps WHERE name = 'mcpctl'
                """, [.integer(now)])
            try db.run("INSERT OR IGNORE INTO settings (key, value) VALUES ('audit_key', ?)", [.blob(SecureRandom.bytes(32))])
        }
    }

    /// A per-store setting, if set.
    public func setting(_ key: String) throws -> SQLValue? {
        try db.first("SELECT value FROM settings WHERE key = ?", [.text(key)])?["value"]
    }

    public func setSetting(_ key: String, _ value: SQLValue) throws {
        try db.run("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [.text(key), value])
    }
}
