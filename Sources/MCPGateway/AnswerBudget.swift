import Dispatch
import HTTP
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The memory the gateway may hold for upstream answers, all requests together: an answer is charged
/// while it is held (read from the upstream until written to the client) and refused when it does not fit.
/// When the budget drains to zero after a burst, freed memory is given back to the operating system.
final class AnswerBudget: Sendable {
    let bytes: ByteBudget
    /// Bytes released since memory was last given back.
    private let releasedSinceTrim = Atomic(0)
    private let trimQueue = DispatchQueue(label: "mcpctl.memory-trim")
    /// Less than this freed since the last trim is not worth a pass over the allocator's arenas.
    static let trimThreshold = 4 * 1024 * 1024

    init(limit: Int) {
        bytes = ByteBudget(limit: limit)
    }

    /// A response body of `body` (already charged) that stays charged until it has been written or the
    /// response is dropped unsent.
    func heldBody(_ body: [UInt8]) -> HTTPResponse.Body {
        let charge = Charge(budget: self, body: body)
        return .stream { writer in
            // Dropped and released once written: a keep-alive connection may hold the finished response
            // (this closure) for a while, and the bytes must be freed before memory is given back.
            defer { charge.release() }
            try charge.write(to: writer)
        }
    }

    /// Gives `count` charged bytes back; when nothing is held any more and enough was freed, asks the C
    /// allocator to return its free pages (glibc keeps them otherwise, so RSS would stay at the peak).
    func release(_ count: Int) {
        bytes.release(count)
        let freed = releasedSinceTrim.add(count, ordering: .relaxed).newValue
        guard bytes.usedBytes == 0, freed >= AnswerBudget.trimThreshold else { return }
        releasedSinceTrim.store(0, ordering: .relaxed)
        trimQueue.asyncAfter(deadline: .now() + 0.2) { AnswerBudget.returnFreeMemory() }
    }

    /// glibc's `malloc_trim(0)`: gives free heap pages back to the system, in every arena. Looked up at run
    /// time (its header is not part of the Glibc module); a C library without it is left alone.
    static func returnFreeMemory() {
        _ = trim?(0)
    }

    private typealias Trim = @convention(c) (Int) -> Int32
    private static let trim: Trim? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: Trim.self)
        #else
        return nil
        #endif
    }()

    /// Charged bytes that go back to the budget when the holder is gone.
    private final class Charge: Sendable {
        let budget: AnswerBudget
        let count: Int
        private let body: Mutex<[UInt8]>
        private let released = Atomic(false)
        init(budget: AnswerBudget, body: [UInt8]) {
            self.budget = budget
            count = body.count
            self.body = Mutex(body)
        }
        /// Writes the body, which is not kept afterwards.
        func write(to writer: any HTTPBodyWriter) throws {
            let bytes = body.withLock { held in
                defer { held = [] }
                return held
            }
            try writer.write(bytes)
        }
        /// Drops the body and gives its bytes back, once however often it is called.
        func release() {
            body.withLock { $0 = [] }
            if released.exchange(true, ordering: .relaxed) == false { budget.release(count) }
        }
        deinit { release() }
    }
}
