import Foundation
import MCPAuth
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A store is opened on purpose, its files are private, and a server notices when the file it opened is
/// deleted or replaced; backups are consistent copies of a store in use.
@Suite(.enabled(if: TestStore.isSQLite, "files and their identity are SQLite's")) struct StoreIdentityTests {
    /// A fresh private directory (0700) and the store path inside it.
    static func freshPath() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mcpauth-id-" + UUID().uuidString)
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return dir.appendingPathComponent("s.db").path
    }

    static func removeStoreFiles(_ path: String) {
        for f in [path, path + "-wal", path + "-shm"] { unlink(f) }
    }

    final class Reports: @unchecked Sendable {
        let lock = NSLock()
        var states: [StoreIdentity.State] = []
        func add(_ s: StoreIdentity.State) { lock.lock(); states.append(s); lock.unlock() }
        var all: [StoreIdentity.State] { lock.lock(); defer { lock.unlock() }; return states }
    }

    @Test func openingWithoutCreateRefusesAMissingStoreAndCreatesNothing() throws {
        let path = Self.freshPath()
        #expect(throws: StoreError.self) { try Store(path: path, create: false) }
        #expect(!FileManager.default.fileExists(atPath: path))
        let deeper = (path as NSString).deletingLastPathComponent + "/not/there/s.db"
        #expect(throws: StoreError.self) { try Store(path: deeper, create: false) }
        #expect(!FileManager.default.fileExists(atPath: (path as NSString).deletingLastPathComponent + "/not"))
    }

    @Test func anEmptyFileIsNotAStoreUnlessCreatingOnPurpose() throws {
        let path = Self.freshPath()
        #expect(FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]))
        #expect(throws: StoreError.self) { try Store(path: path, create: false) }
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == 0)
    }

    @Test func aDirectoryOthersCanWriteToIsRefused() throws {
        let path = Self.freshPath()
        _ = try Store(path: path)
        let dir = (path as NSString).deletingLastPathComponent
        for mode: mode_t in [0o777, 0o770, 0o702] {
            chmod(dir, mode)
            #expect(throws: StoreError.self, "mode \(String(mode, radix: 8))") { try Store(path: path, create: false) }
        }
        chmod(dir, 0o700)
        _ = try Store(path: path, create: false)
    }

    @Test func aDirectoryOfAnotherUserIsRefused() throws {
        if geteuid() != 0 { try Test.cancel("skipped: changing a directory's owner needs root") }
        let path = Self.freshPath()
        _ = try Store(path: path)
        let dir = (path as NSString).deletingLastPathComponent
        chown(dir, 65534, 65534)
        defer { chown(dir, 0, 0) }
        let error = #expect(throws: StoreError.self) { try Store(path: path, create: false) }
        #expect(error?.description.contains("belongs to uid 65534") == true)
    }

    @Test func writeAheadLogAndSharedMemoryAreCreatedPrivateAndLooseOnesAreRefused() throws {
        let path = Self.freshPath()
        let store = try Store(path: path)
        _ = try Users(store: store).add(email: "alice@example.com", name: nil, password: nil)
        for f in [path, path + "-wal", path + "-shm"] {
            let mode = (try FileManager.default.attributesOfItem(atPath: f)[.posixPermissions] as? NSNumber)?.intValue
            #expect(mode == 0o600, "\(f)")
        }
        chmod(path + "-shm", 0o644)
        let error = #expect(throws: StoreError.self) { try Store(path: path, create: false) }
        #expect(error?.description.contains("-shm") == true)
    }

    @Test func theIdentityNoticesADeletedStoreOnce() throws {
        let path = Self.freshPath()
        let store = try Store(path: path)
        let reports = Reports()
        let identity = try StoreIdentity(path: path) { reports.add($0) }
        #expect(identity.check() == .intact)
        Self.removeStoreFiles(path)
        #expect(identity.check() == .deleted)
        #expect(identity.check() == .deleted)
        #expect(reports.all == [.deleted])
        withExtendedLifetime(store) {}
    }

    @Test func theIdentityNoticesAFileMovedOverTheStoreAndStaysLostWhenItIsMovedBack() throws {
        let path = Self.freshPath()
        let store = try Store(path: path)
        let copy = path + ".copy"
        _ = try StoreBackup.backup(store, to: copy, force: false)
        let identity = try StoreIdentity(path: path)
        let aside = path + ".aside"
        #expect(rename(path, aside) == 0)
        #expect(rename(copy, path) == 0)
        #expect(identity.check() == .replaced)
        #expect(rename(aside, path) == 0)
        #expect(identity.check() == .replaced)
        withExtendedLifetime(store) {}
    }

    @Test func theWatcherNoticesALostStoreWithoutAnyRequest() throws {
        let path = Self.freshPath()
        let store = try Store(path: path)
        let reports = Reports()
        let identity = try StoreIdentity(path: path) { reports.add($0) }
        identity.watch(every: 0.05)
        Self.removeStoreFiles(path)
        let deadline = Date().addingTimeInterval(10)
        while reports.all.isEmpty && Date() < deadline { usleep(10_000) }
        #expect(reports.all == [.deleted])
        withExtendedLifetime(store) {}
    }

    @Test func aPoolNeverCreatesANewStoreBehindTheServer() throws {
        let path = Self.freshPath()
        let pool = try StorePool(path: path)
        Self.removeStoreFiles(path)
        // A nested borrow needs a second connection: it must not open (and so create) a file at the path.
        #expect(throws: StoreError.self) {
            try pool.with { _ in try pool.with { _ in () } }
        }
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(throws: StoreError.self) { try pool.with { _ in () } }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func aPoolRefusesEveryCallOnceABackupIsMovedOverTheStore() throws {
        let path = Self.freshPath()
        let pool = try StorePool(path: path)
        let backup = path + ".bak"
        try pool.with { _ = try StoreBackup.backup($0, to: backup, force: false) }
        #expect(rename(backup, path) == 0)
        #expect(throws: StoreError.self) { try pool.with { _ in try pool.with { _ in () } } }
        #expect(throws: StoreError.self) { try pool.with { _ in () } }
    }

    @Test func theAuditWriterRefusesRowsOnceTheStoreIsLost() throws {
        let path = Self.freshPath()
        let pool = try StorePool(path: path)
        let writer = try AuditWriter(path: path, identity: pool.identity)
        defer { writer.close() }
        #expect(writer.write(.cli("test.before")))
        Self.removeStoreFiles(path)
        #expect(!writer.write(.cli("test.after")))
        #expect(pool.identity.state == .deleted)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func aBackupTakenUnderConcurrentWritesIsConsistent() throws {
        let path = Self.freshPath()
        let store = try Store(path: path)
        _ = try Users(store: store).add(email: "alice@example.com", name: nil, password: nil)
        let stop = Guarded(false)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            defer { done.signal() }
            guard let writer = try? Store(path: path, create: false) else { return }
            let tokens = Tokens(store: writer)
            while !stop.withLock({ $0 }) {
                _ = try? tokens.create(email: "alice@example.com", name: "load", scopes: .read, app: nil, env: nil, lifetimeSeconds: 3600)
            }
        }
        let reader = try Store(path: path, create: false)
        var seen: [Int64] = []
        for i in 0..<8 {
            let file = path + ".bak\(i)"
            let summary = try StoreBackup.backup(reader, to: file, force: false)
            let copy = try Database(path: file, create: false, readOnly: true)
            #expect(try copy.first("PRAGMA integrity_check")?[0].string == "ok")
            #expect(try AuditVerifier.verify(db: copy).ok)
            // Each token and its audit row commit together: a consistent copy has exactly as many of each.
            let tokens = try copy.first("SELECT count(*) FROM tokens")?[0].int ?? -1
            let rows = try copy.first("SELECT count(*) FROM audit WHERE action = 'token.create'")?[0].int ?? -2
            #expect(tokens == rows)
            #expect(summary.lastAuditSeq > 0)
            let mode = (try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? NSNumber)?.intValue
            #expect(mode == 0o600)
            seen.append(tokens)
        }
        stop.withLock { $0 = true }
        done.wait()
        #expect(seen.last ?? 0 > 0)
    }
}
