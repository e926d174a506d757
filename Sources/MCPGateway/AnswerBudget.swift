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
        let count = body.count
        return .held(HeldBytes(body) { [self] in release(count) })
    }

    /// Gives `count` charged bytes back.
    func release(_ count: Int) {
        bytes.release(count)
    }
}
