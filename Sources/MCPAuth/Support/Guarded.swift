import Foundation

/// A value behind a plain (sleeping) mutex, for state that the gateway's many threads touch on every
/// request. `Synchronization.Mutex` spins before it sleeps; with dozens of request threads on two cores
/// that spinning took a quarter of the server's CPU (bench/README.md), while a pthread mutex sleeps at once.
public final class Guarded<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value  // only touched with `lock` held

    public init(_ value: Value) { self.value = value }

    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
