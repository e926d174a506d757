#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// Turns SIGINT and SIGTERM into a callback, for graceful shutdown of a server.
///
/// The default action of both signals is replaced (`SIG_IGN`) and the signals are
/// delivered through Dispatch sources instead, so `body` runs on a Dispatch queue, not in a
/// signal handler, and may do anything. It runs for every signal received; a caller that
/// wants a second Ctrl-C to exit at once can count calls. Also ignores SIGPIPE process-wide.
public enum SignalWatcher {
    /// Keeps the signal sources alive for the life of the process.
    private final class Sources: @unchecked Sendable {
        var list: [any DispatchSourceSignal] = []
    }

    private static let sources = Guarded(Sources())

    public static func onTermination(_ body: @escaping @Sendable (Int32) -> Void) {
        ignoreBrokenPipe()
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { body(signalNumber) }
            source.resume()
            sources.withLock { $0.list.append(source) }
        }
    }

    /// Makes writes to a closed socket fail with EPIPE instead of killing the process.
    public static func ignoreBrokenPipe() {
        _ = brokenPipeIgnored
    }

    private static let brokenPipeIgnored: Bool = {
        signal(SIGPIPE, SIG_IGN)
        return true
    }()
}
