#if canImport(Glibc)
import Glibc
#endif

/// A value behind a mutex: the lock for state that several threads share. `MCPAuth` has the same type for
/// everything above `HTTP`; this internal copy exists because `HTTP` depends on nothing.
///
/// A normal pthread mutex, which sleeps at once under contention. `Synchronization.Mutex` is a
/// priority-inheritance futex on Linux that spins first (with hundreds of connection threads on few cores
/// the spinning costs more than it saves) and, when contended, is handed over inside the kernel, where
/// ThreadSanitizer cannot see it and reports every contended section as a race.
final class Guarded<Value: ~Copyable>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var value: Value  // only touched with `mutex` held

    init(_ value: consuming sending Value) {
        self.value = value
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<Result: ~Copyable, E: Error>(_ body: (inout Value) throws(E) -> Result) throws(E) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

extension Guarded where Value == Void {
    /// A lock without a value of its own: for serialising an action, or for state that cannot move inside
    /// (C handles declared beside it, each marked "guarded by").
    convenience init() { self.init(()) }

    /// Runs `body` holding the lock, without touching the empty value: ThreadSanitizer reported the checked
    /// `inout` access to a zero-sized stored property as a race although the mutex was held.
    func withLock<Result: ~Copyable, E: Error>(_ body: () throws(E) -> Result) throws(E) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
