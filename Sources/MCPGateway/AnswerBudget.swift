import HTTP
import MCPAuth
import Synchronization

/// The memory the gateway may hold for upstream answers, all requests together: an answer is charged
/// while it is held (read from the upstream until written to the client) and refused when it does not fit.
/// Freed answers go back to the operating system by themselves: `serve` fixes glibc's mmap threshold
/// (mallopt(3), `ServeCommand.returnLargeBuffersToTheSystem`), so every buffer over 128 KiB has a mapping
/// of its own that is unmapped when it is freed.
final class AnswerBudget: Sendable {
    let bytes: ByteBudget

    init(limit: Int) {
        bytes = ByteBudget(limit: limit)
    }

    /// A response body of `body` (already charged) that stays charged until it has been written or the
    /// response is dropped unsent.
    func heldBody(_ body: [UInt8]) -> HTTPResponse.Body {
        let charge = Charge(budget: self, body: body)
        return .stream { writer in
            // Dropped and released once written: a keep-alive connection may hold the finished response
            // (this closure) for a while, and neither the bytes nor their charge may stay with it.
            defer { charge.release() }
            try charge.write(to: writer)
        }
    }

    /// Gives `count` charged bytes back.
    func release(_ count: Int) {
        bytes.release(count)
    }

    /// Charged bytes that go back to the budget when the holder is gone.
    private final class Charge: Sendable {
        let budget: AnswerBudget
        let count: Int
        private let body: Guarded<[UInt8]>
        private let released = Atomic(false)
        init(budget: AnswerBudget, body: [UInt8]) {
            self.budget = budget
            count = body.count
            self.body = Guarded(body)
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
