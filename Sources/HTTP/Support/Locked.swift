/// A value behind a `Lock`, for state that several threads change.
///
/// Used instead of `Synchronization.Mutex`: a contended `Mutex` hands itself over inside the kernel
/// (a priority-inheritance futex), which ThreadSanitizer cannot see, so every contended section would
/// be reported as a data race; a pthread mutex is visible to it and sleeps at once under contention.
final class Locked<Value: ~Copyable>: @unchecked Sendable {
    private let lock = Lock()
    private var value: Value  // only touched with `lock` held

    init(_ value: consuming sending Value) { self.value = value }

    func withLock<Result: ~Copyable, E: Error>(_ body: (inout Value) throws(E) -> Result) throws(E) -> Result {
        try lock.withLock { () throws(E) -> Result in try body(&value) }
    }
}
