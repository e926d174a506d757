import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The identity (device and inode) of the store file a server opened, held through an open descriptor,
/// and whether the path still names that file. A store deleted or replaced under a running server must
/// stop all writing: the server's connections would otherwise keep writing to a file nobody can see, or new
/// connections would silently open a different one (a restored backup in which revoked tokens live again).
public final class StoreIdentity: @unchecked Sendable {
    /// What the path names now, compared with the file that was opened.
    public enum State: String, Sendable, Equatable {
        case intact
        case deleted
        case replaced
    }

    public let path: String
    private let fd: Int32
    private let device: UInt64
    private let inode: UInt64
    /// Once lost, always lost: a store that came back (a file moved back into place) is not trusted again.
    private let latched = Guarded(State.intact)
    private let onLost: @Sendable (State) -> Void
    private let watching = Guarded(false)

    /// Opens a descriptor on the store file at `path` and records its identity. The descriptor stays open
    /// for the life of this object: closing any descriptor of a file drops the process's POSIX locks on it,
    /// SQLite's included, so this object must outlive every connection to the store.
    public init(path: String, onLost: @escaping @Sendable (State) -> Void = { _ in }) throws {
        self.path = path
        self.onLost = onLost
        // A PostgreSQL database has no file to hold: it is always the one the URL names.
        if StoreLocation(path).isPostgres {
            fd = -1
            device = 0
            inode = 0
            return
        }
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.missing(path: path) }
        var st = stat()
        fstat(fd, &st)
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
    }

    deinit { if fd >= 0 { close(fd) } }

    /// The last state seen, without looking at the file system again.
    public var state: State { latched.withLock { $0 } }

    /// Compares `stat()` of the path with `fstat()` of the open descriptor (a few microseconds); the first
    /// time the store is found lost it is reported to `onLost` and remembered.
    @discardableResult
    public func check() -> State {
        let previous = state
        if previous != .intact { return previous }
        let now = compare()
        if now == .intact { return now }
        let first = latched.withLock { current -> Bool in
            guard current == .intact else { return false }
            current = now
            return true
        }
        if first { onLost(now) }
        return state
    }

    private func compare() -> State {
        if fd < 0 { return .intact }
        var open = stat()
        guard fstat(fd, &open) == 0, open.st_nlink > 0 else { return .deleted }
        var named = stat()
        guard stat(path, &named) == 0 else { return .deleted }
        let same = UInt64(named.st_dev) == UInt64(open.st_dev) && UInt64(named.st_ino) == UInt64(open.st_ino)
            && UInt64(open.st_dev) == device && UInt64(open.st_ino) == inode
        return same ? .intact : .replaced
    }

    /// Checks the path every `interval` seconds on a background thread until the store is lost.
    public func watch(every interval: TimeInterval = 0.25) {
        let start = watching.withLock { running -> Bool in
            defer { running = true }
            return !running
        }
        guard start else { return }
        let t = Thread { [weak self] in
            while let identity = self, identity.check() == .intact {
                Thread.sleep(forTimeInterval: interval)
            }
        }
        t.name = "store-identity"
        t.start()
    }
}
