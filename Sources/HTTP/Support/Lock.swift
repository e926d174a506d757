#if canImport(Glibc)
import Glibc
#endif

/// A plain pthread mutex, for state that many threads touch on every request.
///
/// `Synchronization.Mutex` is a priority-inheritance futex on Linux that spins before sleeping;
/// with hundreds of connection threads on few cores that spinning costs more than it saves,
/// while a normal pthread mutex sleeps at once.
final class Lock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() {
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<Result: ~Copyable, E: Error>(_ body: () throws(E) -> Result) throws(E) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
