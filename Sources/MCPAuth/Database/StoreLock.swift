import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An advisory lock (`flock`) on the file beside the store, `STORE.lock`: every running server holds it
/// shared, and a restore takes it exclusively, so a restore can tell that a server has the store open.
public final class StoreLock: @unchecked Sendable {
    public enum Kind: Sendable { case shared, exclusive }

    public let path: String
    private let fd: Int32

    /// The lock file's path for the store at `storePath`.
    public static func path(for storePath: String) -> String { storePath + ".lock" }

    /// Takes the lock without waiting; nil when another process holds it in a conflicting way.
    public static func acquire(_ kind: Kind, storePath: String) throws -> StoreLock? {
        // A PostgreSQL store has no file beside it; a restore (SQLite only) never takes this lock for one.
        if StoreLocation(storePath).isPostgres { return StoreLock(path: "", fd: -1) }
        let path = StoreLock.path(for: storePath)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError.cannotCreate(path: path, reason: String(cString: strerror(errno))) }
        if flock(fd, (kind == .shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0 {
            close(fd)
            return nil
        }
        return StoreLock(path: path, fd: fd)
    }

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { if fd >= 0 { close(fd) } }
}
