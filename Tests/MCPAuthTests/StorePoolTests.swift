import Foundation
import MCPAuth
import Testing

/// A server's pool of store connections: the schema is checked once, when the pool opens the store; the
/// connections it opens later do not migrate again (on PostgreSQL that took the store's write lock).
@Suite struct StorePoolTests {
    @Test func aPooledConnectionOpensWhileAnotherProcessHoldsTheWriteLock() throws {
        let location = try TestStore.location()
        let pool = try StorePool(path: location)
        let other = try Store(path: location, create: false)
        let held = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = try? other.db.write {
                held.signal()
                release.wait()
            }
        }
        held.wait()
        defer { release.signal() }
        let opened = Locked(false)
        Thread.detachNewThread {
            // The pool holds one idle connection: the inner borrow opens a second one.
            let ok = (try? pool.with { _ in try pool.with { try $0.db.first("SELECT 1 AS one")?.int("one") } }) == 1
            opened.withLock { $0 = ok }
        }
        let deadline = Date().addingTimeInterval(8)
        while !opened.value && Date() < deadline { usleep(20_000) }
        #expect(opened.value, "opening a pooled connection waited for another connection's write lock")
    }

    @Test func aStoreFromANewerMcpctlIsStillRefusedWhenThePoolFirstOpensIt() throws {
        let store = try TestStore.make()
        try store.db.run("INSERT INTO schema_migrations (name, applied_at) VALUES ('9999_from_the_future', 0)")
        let error = #expect(throws: StoreError.self) { try StorePool(path: store.path, create: false) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("newer mcpctl"))
    }
}

/// A value shared between test threads.
final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&stored)
    }
    var value: Value { withLock { $0 } }
}
