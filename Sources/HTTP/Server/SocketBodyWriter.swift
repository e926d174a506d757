#if canImport(Glibc)
import Glibc
#endif

/// The `HTTPBodyWriter` behind a streaming response: frames each write as one chunk
/// (RFC 9112 §7.1) or, for HTTP/1.0 clients, writes it raw, and sends it at once.
final class SocketBodyWriter: HTTPBodyWriter {
    private enum State {
        case open
        case failed
        case finished
    }

    private let fd: Int32
    private let chunked: Bool
    private let state = Guarded(State.open)

    init(fd: Int32, chunked: Bool) {
        self.fd = fd
        self.chunked = chunked
    }

    func write(_ bytes: [UInt8]) throws {
        try state.withLock { state throws(SocketError) in
            guard case .open = state else { throw SocketError("write to a finished response body", code: EPIPE) }
            // An empty chunk would end the body (RFC 9112 §7.1), so an empty write sends nothing.
            guard !bytes.isEmpty else { return }
            do throws(SocketError) {
                if chunked {
                    var frame = Array(String(bytes.count, radix: 16).utf8)
                    frame.reserveCapacity(frame.count + bytes.count + 4)
                    frame.append(HTTPSyntax.cr)
                    frame.append(HTTPSyntax.lf)
                    frame.append(contentsOf: bytes)
                    frame.append(HTTPSyntax.cr)
                    frame.append(HTTPSyntax.lf)
                    try Socket.sendAll(fd, frame)
                } else {
                    try Socket.sendAll(fd, bytes)
                }
            } catch {
                state = .failed
                throw error
            }
        }
    }

    /// Ends the body after the stream closure returned normally; false if the connection is unusable.
    func finish() -> Bool {
        state.withLock { state in
            guard case .open = state else { return false }
            state = .finished
            guard chunked else { return true }
            do throws(SocketError) {
                try Socket.sendAll(fd, Array("0\r\n\r\n".utf8))
                return true
            } catch {
                return false
            }
        }
    }

    /// Ends the body after the stream closure threw: later writes fail, nothing more is sent.
    func abandon() {
        state.withLock { $0 = .failed }
    }
}
