import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a backup or a restore did not happen; every message names the file and what to do.
public enum StoreBackupError: Error, CustomStringConvertible, Sendable {
    case exists(path: String)
    case missing(path: String)
    case notABackup(path: String, reason: String)
    case damaged(path: String, problem: String)
    case brokenChain(path: String, seq: Int64, problem: String)
    case serverRunning(store: String, lock: String)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .exists(let path):
            return "\(path) already exists; choose another file or pass --force to replace it"
        case .missing(let path):
            return "no backup at \(path)"
        case .notABackup(let path, let reason):
            return "\(path) is not an mcpctl store: \(reason)"
        case .damaged(let path, let problem):
            return "backup \(path) fails its integrity check (\(problem)); nothing was restored"
        case .brokenChain(let path, let seq, let problem):
            return "backup \(path) has a broken audit chain at seq \(seq) (\(problem)); nothing was restored"
        case .serverRunning(let store, let lock):
            return "a running 'mcpctl serve' has store \(store) open (it holds \(lock)); stop it first, " +
                "or pass --force to replace the store under it (it will then refuse all requests until restarted)"
        case .io(let path, let reason):
            return "\(path): \(reason)"
        }
    }
}

/// Consistent copies of a live store, and putting one back in its place.
public enum StoreBackup {
    /// What a backup holds: its newest audit row is the last moment it knows of.
    public struct Summary: Sendable {
        public let path: String
        public let bytes: Int64
        public let lastAuditSeq: Int64
        /// Milliseconds since 1970 of the newest audit row, if any.
        public let lastAuditAt: Int64?
    }

    /// A token that a restore brings back to life: live in the backup, revoked (or gone) in the current store.
    public struct RevivedToken: Sendable, Equatable {
        public let id: String
        public let name: String?
        public let email: String?
    }

    public struct Restored: Sendable {
        public let backup: Summary
        public let revived: [RevivedToken]
    }

    /// Writes a consistent copy of `store` to `file` (mode 0600) with SQLite's online backup API, safe while
    /// a server writes to the store. The copy is written beside `file` and renamed into place, so `file` is
    /// either the old one or a complete copy; an existing `file` is replaced only with `force`.
    public static func backup(_ store: Store, to file: String, force: Bool) throws -> Summary {
        if FileManager.default.fileExists(atPath: file), !force { throw StoreBackupError.exists(path: file) }
        let temp = try privateTempFile(beside: file)
        do {
            try copy(store.db, toNewFile: temp, journalMode: "DELETE")
            try durablyRename(temp, to: file)
        } catch {
            unlink(temp)
            throw error
        }
        return try summary(of: Database(path: file, create: false, readOnly: true), path: file)
    }

    /// Checks that `db` (a copy of the backup `name`) is an intact mcpctl store with an unbroken audit chain.
    static func check(_ db: Database, name: String) throws -> Summary {
        let integrity: [String]
        do { integrity = try db.query("PRAGMA integrity_check").compactMap { $0[0].string } } catch {
            throw StoreBackupError.damaged(path: name, problem: (error as? DatabaseError)?.message ?? "\(error)")
        }
        guard integrity == ["ok"] else { throw StoreBackupError.damaged(path: name, problem: integrity.prefix(3).joined(separator: "; ")) }
        guard (try? db.first("SELECT 1 FROM schema_migrations LIMIT 1")) != nil, (try? db.first("SELECT count(*) FROM audit")) != nil else {
            throw StoreBackupError.notABackup(path: name, reason: "it has no mcpctl schema")
        }
        let report = try AuditVerifier.verify(db: db)
        guard report.ok else { throw StoreBackupError.brokenChain(path: name, seq: report.badSeq ?? 0, problem: report.problem ?? "") }
        return try summary(of: db, path: name)
    }

    /// The tokens live in `backup` that the current store at `storePath` has revoked or deleted.
    static func revived(by backup: Database, storePath: String) throws -> [RevivedToken] {
        guard Store.exists(at: storePath) else { return [] }
        let current = try Store(path: storePath, create: false)
        var stillLive = Set<String>()
        try current.db.forEach("SELECT id FROM tokens WHERE revoked_at IS NULL") { stillLive.insert(try $0.text("id", of: "tokens")); return true }
        return try backup.query("""
            SELECT t.id, t.name, u.email FROM tokens t LEFT JOIN users u ON u.id = t.user_id
            WHERE t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?) ORDER BY t.created_at, t.id
            """, [.integer(Clock.nowMillis())])
            .map { RevivedToken(id: try $0.text("id", of: "tokens"), name: try $0.optionalText("name", of: "tokens"),
                                email: try $0.optionalText("email", of: "users")) }
            .filter { !stillLive.contains($0.id) }
    }

    /// Replaces the store at `storePath` with the backup at `file`, which is never changed itself: it is
    /// copied beside the store, checked (integrity, audit chain), brought up to date, given an audit row for
    /// the restore, synced, and renamed over the store. The old store's write-ahead log is emptied first
    /// and removed after, so it can never be replayed into the restored file.
    public static func restore(from file: String, to storePath: String) throws -> Restored {
        var st = stat()
        guard stat(file, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { throw StoreBackupError.missing(path: file) }
        let temp = try privateTempFile(beside: storePath)
        do {
            try copyBytes(of: file, to: temp)
            let (summary, revived) = try inspect(temp, name: file, storePath: storePath)
            try recordRestore(in: temp, from: file, summary: summary, revived: revived.count)
            try emptyWriteAheadLog(of: storePath)
            try durablyRename(temp, to: storePath)
            for stale in [storePath + "-wal", storePath + "-shm"] { unlink(stale) }
            return Restored(backup: summary, revived: revived)
        } catch {
            for leftover in [temp, temp + "-wal", temp + "-shm"] { unlink(leftover) }
            throw error
        }
    }

    /// Checks the copy at `temp` and finds the tokens it would revive; its connection is closed on return.
    private static func inspect(_ temp: String, name: String, storePath: String) throws -> (Summary, [RevivedToken]) {
        let db: Database
        do { db = try Database(path: temp, create: false) } catch let error as DatabaseError {
            // SQLITE_CORRUPT: a database whose pages are damaged; anything else (SQLITE_NOTADB…) is not one.
            if error.code & 0xff == 11 { throw StoreBackupError.damaged(path: name, problem: error.message) }
            throw StoreBackupError.notABackup(path: name, reason: error.message)
        }
        return (try check(db, name: name), try revived(by: db, storePath: storePath))
    }

    /// Copies the file's bytes into the existing private file `temp`.
    private static func copyBytes(of file: String, to temp: String) throws {
        guard let input = FileHandle(forReadingAtPath: file), let output = FileHandle(forWritingAtPath: temp) else {
            throw StoreBackupError.io(path: file, reason: "cannot read")
        }
        defer { try? input.close(); try? output.close() }
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty { try output.write(contentsOf: chunk) }
    }

    private static func summary(of db: Database, path: String) throws -> Summary {
        let last = try db.first("SELECT seq, at FROM audit ORDER BY seq DESC LIMIT 1")
        var st = stat()
        stat(path, &st)
        // An empty log: no last row, reported as seq 0 and no time.
        return Summary(path: path, bytes: Int64(st.st_size), lastAuditSeq: try last.map { try $0.integer("seq", of: "audit") } ?? 0,
                       lastAuditAt: try last.map { try $0.integer("at", of: "audit") })
    }

    /// A new empty file beside `path`, mode 0600 whatever the umask.
    private static func privateTempFile(beside path: String) throws -> String {
        let temp = path + ".tmp-" + Hex.encode(SecureRandom.bytes(6))
        let fd = open(temp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreBackupError.io(path: temp, reason: String(cString: strerror(errno))) }
        fchmod(fd, 0o600)
        close(fd)
        return temp
    }

    /// Copies `source` into the new file `temp` and leaves it self-contained in `journalMode` (no -wal beside it).
    private static func copy(_ source: Database, toNewFile temp: String, journalMode: String) throws {
        let destination = try Database(path: temp, create: false)
        try source.backup(into: destination)
        try destination.execute("PRAGMA journal_mode=DELETE")
        if journalMode == "WAL" { try destination.execute("PRAGMA journal_mode=WAL") }
    }

    /// Opens the restored copy as a store (running any newer migrations) and audits the restore in its chain.
    private static func recordRestore(in temp: String, from file: String, summary: Summary, revived: Int) throws {
        let store = try Store(path: temp, create: false)
        let last = summary.lastAuditAt.map(Clock.rfc3339) ?? "none"
        try AuditLog.append(.cli("store.restore", target: String(file.suffix(256)),
                                 reason: "backup's last audit row \(last); \(revived) revoked tokens live again"), to: store.db)
        try store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    /// Moves every committed change of the old store into its main file and truncates its log, so a log left
    /// beside the replaced file holds nothing to replay.
    private static func emptyWriteAheadLog(of storePath: String) throws {
        guard Store.exists(at: storePath) else { return }
        let db = try Database(path: storePath, create: false)
        try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    /// fsync the file, rename it over `target`, fsync the directory: after a crash either name holds a
    /// complete file.
    private static func durablyRename(_ temp: String, to target: String) throws {
        let fd = open(temp, O_RDONLY | O_CLOEXEC)
        guard fd >= 0, fsync(fd) == 0 else {
            if fd >= 0 { close(fd) }
            throw StoreBackupError.io(path: temp, reason: "cannot sync: \(String(cString: strerror(errno)))")
        }
        close(fd)
        guard rename(temp, target) == 0 else { throw StoreBackupError.io(path: target, reason: String(cString: strerror(errno))) }
        let dir = (target as NSString).deletingLastPathComponent
        let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }
}
