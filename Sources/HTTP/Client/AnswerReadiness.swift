/// When an upstream's answer can be read without waiting, for a request sent from a server's loop thread
/// (`HTTPClient.send(_:then:)`): the loop reads what arrives into the connection's buffer until its reader
/// needs nothing more from the socket, or until the reader would have to wait for a body the loop does not
/// collect (large, streamed, chunked, or until the close), which a worker then reads.
enum AnswerReadiness {
    /// Bodies up to this size, framed by Content-Length, are collected whole before the answer is handed on
    /// (when they fit in the request's budget).
    static let wholeBodyLimit = 64 * 1024

    /// What a wait for an answer found: nil while it goes on.
    enum Ready: Equatable {
        /// The head and the whole of a small body are buffered: reading the answer waits for nothing.
        case whole
        /// The head of an answer whose body its reader reads on its own, or a head that cannot be parsed, or
        /// the upstream closed or failed (which the reader is to see).
        case other
        /// The head of a body that does not fit in what is left of the budget (of `limit` bytes): refused
        /// at once, rather than left to a worker that would wait for the whole body before refusing it.
        case overBudget(limit: Int)
    }

    /// Reads per readiness event at most: the loop goes back to its other sockets in between.
    static let readsPerEvent = 4
    /// Interim (1xx) answers taken before the final one; past this a reader on a worker sees the rest.
    static let maxInterimAnswers = 8

    /// Reads what has arrived, without waiting, until the answer is buffered or nothing more is there (or
    /// `readsPerEvent` reads were made: nil then too, and the loop comes back when it is its turn). A body
    /// collected here is charged to `budget` in full once its head is read (in `charged`, which the caller
    /// releases when it hands the answer on); one that does not fit is `overBudget`.
    static func readIsReady(_ connection: ClientConnection, method: String, budget: ByteBudget?, charged: inout Int) -> Ready? {
        for _ in 0..<readsPerEvent {
            let received: Int?
            do throws(HTTPClientError) {
                received = try connection.fill(timeout: nil)
            } catch {
                return .other
            }
            guard let received else { return nil }
            if received == 0 { return .other }
            switch buffered(connection, method: method, budget: budget, charged: &charged) {
            case .incomplete: continue
            case .whole: return .whole
            case .headOnly, .unreadable: return .other
            case .overBudget(let limit): return .overBudget(limit: limit)
            }
        }
        return nil
    }

    private enum Buffered {
        /// Not even the head of the final answer yet (or part of a small body).
        case incomplete
        /// The head and the whole body of at most `wholeBodyLimit` bytes.
        case whole
        /// The head of an answer whose body a reader reads on its own.
        case headOnly
        /// A head that cannot be parsed: its reader reports it.
        case unreadable
        /// The head of a small body that does not fit in the budget.
        case overBudget(limit: Int)
    }

    /// What the buffered bytes hold. Interim answers are consumed as they are read (their reader would skip
    /// them), so that what is buffered stays bounded; more than `maxInterimAnswers` are left to a reader.
    private static func buffered(_ connection: ClientConnection, method: String, budget: ByteBudget?, charged: inout Int) -> Buffered {
        while true {
            let parsed: (head: HTTPResponseHead, end: Int)?
            do throws(HTTPClientError) {
                parsed = try connection.head()
            } catch {
                return .unreadable
            }
            guard let (head, end) = parsed else { return .incomplete }
            // RFC 9110 §15.2: interim 1xx responses precede the final one (101 is final).
            if (100..<200).contains(head.status) && head.status != 101 {
                connection.interimAnswers += 1
                guard connection.interimAnswers <= maxInterimAnswers else { return .headOnly }
                connection.consume(end - connection.start)
                continue
            }
            connection.parsedHead = (head, end - connection.start)
            let length: Int
            switch try? head.framing(requestMethod: method) {
            case .none?: length = 0
            case .length(let n)?: length = n
            default: return .headOnly
            }
            guard length <= wholeBodyLimit,
                  !HTTPSyntax.hasPrefixIgnoringCase(head.headers["Content-Type"] ?? "", "text/event-stream") else { return .headOnly }
            if charged == 0, let budget {
                guard budget.tryCharge(length) else { return .overBudget(limit: budget.limit) }
                charged = length
            }
            return connection.buffer.count - end >= length ? .whole : .incomplete
        }
    }
}
