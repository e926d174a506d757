import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a store could not be opened or used; every message names the path and the fix.
public enum StoreError: Error, CustomStringConvertible, Sendable {
    case missing(path: String)
    case unsafePermissions(path: String, mode: UInt32)
    case unsafeDirectory(path: String, problem: String)
    case newerStore(path: String, migration: String)
    case cannotCreate(path: String, reason: String)
    case notAStore(path: String, reason: String)
    case lost(path: String, what: String)
    case unknownScheme(location: String, scheme: String)

    public var description: String {
        switch self {
        case .missing(let path):
            return "no store at \(path); create one with 'mcpctl init' (or 'mcpctl user add', 'mcpctl app add', 'mcpctl serve --quickstart'), " +
                "or point --db / MCPCTL_DB at an existing store"
        case .unsafePermissions(let path, let mode):
            return "store \(path) is readable or writable by other users (mode \(String(mode & 0o777, radix: 8))); " +
                "it holds credential hashes and the audit log. Fix it with: chmod 600 \(path)"
        case .unsafeDirectory(let path, let problem):
            return "store directory \(path) \(problem): whoever can write there can replace the store. " +
                "Fix it with: chown $(id -u) \(path) && chmod 700 \(path)"
        case .newerStore(let path, let migration):
            return "store \(path) was written by a newer mcpctl (unknown migration '\(migration)'); upgrade mcpctl"
        case .cannotCreate(let path, let reason):
            return "cannot create store \(path): \(reason)"
        case .notAStore(let path, let reason):
            return "cannot open store \(path): \(reason)"
        case .unknownScheme(let location, let scheme):
            return "store location \(location) is a '\(scheme)://' URL; a store is a file path or a postgresql:// URL"
        case .lost(let path, let what):
            return "store \(path) was \(what) while in use; refusing to write. Restart after restoring it with 'mcpctl store restore'"
        }
    }
}

/// The store shared by the CLI and the server: a SQLite file (path rules, permissions) or a PostgreSQL
/// database (a postgresql:// URL), with one schema.
public final class Store: @unchecked Sendable {
    public let path: String
    public let db: Database

    /// `$MCPCTL_DB`, else `$XDG_DATA_HOME/mcpctl/mcpctl.db`, else `~/.local/share/mcpctl/mcpctl.db`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let p = environment["MCPCTL_DB"], !p.isEmpty { return p }
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty, xdg.hasPrefix("/") { return xdg + "/mcpctl/mcpctl.db" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/share/mcpctl/mcpctl.db"
    }

    /// Opens the store at `path`, refusing a file or directory other users could read or replace, and
    /// brings the schema up to date. A missing store is created (directory 0700, file 0600) only when
    /// `create` is true; otherwise it is an error naming the path and how to create one.
    ///
    /// A postgresql:// URL names a database (and, through `options=-csearch_path=…`, a schema) that the
    /// operator created; the store in it is "missing" until created on purpose like a file.
    ///
    /// `migrate: false` is for another connection to a store this process already opened (a server's pool):
    /// the schema was checked and brought up to date then, and checking it again on every connection cost
    /// each one a transaction that, on PostgreSQL, waits for the store's write lock.
    public init(path: String, create: Bool = true, migrate: Bool = true) throws {
        self.path = path
        let location = StoreLocation(path)
        if let scheme = location.unknownScheme { throw StoreError.unknownScheme(location: path, scheme: scheme) }
        if !location.isPostgres {
            try Store.prepareDirectory(of: path, create: create)
            try Store.prepareFile(path, create: create)
        }
        do {
            db = try Database(path: path, create: create)
            guard migrate else { return }
            if location.isPostgres, !create, try !Store.hasSchema(db) { throw StoreError.missing(path: location.display) }
            try Migrations.apply(to: db)
            try Store.seed(db)
        } catch let error as DatabaseError {
            throw StoreError.notAStore(path: location.display, reason: error.message)
        }
    }

    /// The location as it may be shown: a URL's password replaced by `***`.
    public var displayPath: String { StoreLocation(path).display }

    /// Whether the database holds an mcpctl schema (its migration record).
    private static func hasSchema(_ db: Database) throws -> Bool {
        try db.first("SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'") != nil
    }

    /// The directory must exist (or be created 0700 on purpose), belong to this user and be writable by
    /// no one else: anyone who can write there can swap the store file.
    public static func prepareDirectory(of path: String, create: Bool) throws {
        let parent = (path as NSString).deletingLastPathComponent
        let dir = parent.isEmpty ? "." : parent
        var st = stat()
        if stat(dir, &st) != 0 {
            guard create else { throw StoreError.missing(path: path) }
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw StoreError.cannotCreate(path: path, reason: "cannot create directory \(dir)")
            }
            guard stat(dir, &st) == 0 else { throw StoreError.cannotCreate(path: path, reason: "cannot create directory \(dir)") }
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw StoreError.unsafeDirectory(path: dir, problem: "is not a directory") }
        if st.st_uid != geteuid() {
            throw StoreError.unsafeDirectory(path: dir, problem: "belongs to uid \(st.st_uid), not to you (uid \(geteuid()))")
        }
        if st.st_mode & 0o022 != 0 {
            throw StoreError.unsafeDirectory(path: dir, problem: "is writable by other users (mode \(String(st.st_mode & 0o777, radix: 8)))")
        }
    }

    /// The store and its -wal and -shm files are 0600; a missing store is created 0600 here (so SQLite, whose
    /// -wal/-shm copy the store's mode, never makes them looser whatever the umask) only when `create`.
    private static func prepareFile(_ path: String, create: Bool) throws {
        var st = stat()
        if stat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFREG else { throw StoreError.notAStore(path: path, reason: "not a regular file") }
            if st.st_mode & 0o077 != 0 { throw StoreError.unsafePermissions(path: path, mode: UInt32(st.st_mode)) }
            for sibling in [path + "-wal", path + "-shm"] {
                var side = stat()
                if stat(sibling, &side) == 0, side.st_mode & 0o077 != 0 {
                    throw StoreError.unsafePermissions(path: sibling, mode: UInt32(side.st_mode))
                }
            }
            // An empty file with no write-ahead log is not a store: opening it would turn any stray file
            // (a typo'd path that someone touched) into an empty store that verifies "OK".
            var wal = stat()
            let hasLog = stat(path + "-wal", &wal) == 0 && wal.st_size > 0
            if st.st_size == 0 && !hasLog && !create { throw StoreError.missing(path: path) }
            return
        }
        guard create else { throw StoreError.missing(path: path) }
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if fd < 0 {
            if errno != EEXIST { throw StoreError.cannotCreate(path: path, reason: String(cString: strerror(errno))) }
        } else {
            fchmod(fd, 0o600)
            close(fd)
        }
    }

    /// Whether a store file exists at `path` (an empty file does not count), or the database a URL names
    /// holds a store.
    public static func exists(at path: String) -> Bool {
        if StoreLocation(path).isPostgres { return (try? Database(path: path)).map { (try? hasSchema($0)) ?? false } ?? false }
        var st = stat()
        return stat(path, &st) == 0 && (st.st_size > 0 || (stat(path + "-wal", &st) == 0 && st.st_size > 0))
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
            try db.run("INSERT OR IGNORE INTO settings (key, value) VALUES ('audit_key', ?)", [db.dialect.storeDynamic(.blob(SecureRandom.bytes(32)))])
        }
    }

    /// A per-store setting, if set.
    public func setting(_ key: String) throws -> SQLValue? {
        try db.first("SELECT value FROM settings WHERE key = ?", [.text(key)]).map { db.dialect.loadDynamic($0["value"]) }
    }

    public func setSetting(_ key: String, _ value: SQLValue) throws {
        try db.run("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                   [.text(key), db.dialect.storeDynamic(value)])
    }
}
