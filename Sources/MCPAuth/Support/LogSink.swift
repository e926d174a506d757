import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The server's lines for stderr, written by a thread of its own. Whoever reads stderr (a pipe to a slow
/// logger, a stopped journald) holds up that thread only, never a request, the event loop or the audit
/// writer; and a stderr that was closed costs lines, not the process (a write to a pipe without a reader
/// fails with EPIPE, write(2), which `FileHandle.write` turns into a crash).
///
/// At most `limit` bytes wait; lines past that are dropped and counted, and the next line written says how
/// many. `flush()` (also run at exit) waits, within a bound, until what is queued is written.
public final class LogSink: Sendable {
    /// The process's stderr.
    public static let standardError: LogSink = {
        let sink = LogSink(fd: 2)
        atexit { LogSink.standardError.flush() }
        return sink
    }()

    private struct State {
        var pending: [UInt8] = []
        var dropped = 0
        /// The writer thread is waiting for lines (and must be woken for the next one).
        var idle = true
        /// Bytes taken by the writer thread and not yet written.
        var writing = false
    }

    private let fd: Int32
    private let limit: Int
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)

    /// Writes to `fd`, keeping at most `limit` bytes waiting.
    public init(fd: Int32, limit: Int = 1 << 20) {
        self.fd = fd
        self.limit = limit
        let thread = Thread { [self] in run() }
        thread.name = "log-writer"
        thread.start()
    }

    /// Queues `line` (a newline is added); never waits for the writer.
    public func write(_ line: String) {
        let wakeWriter: Bool = state.withLock { s in
            guard s.pending.count + line.utf8.count + 1 <= limit else {
                s.dropped += 1
                return false
            }
            s.pending.append(contentsOf: line.utf8)
            s.pending.append(0x0A)
            defer { s.idle = false }
            return s.idle
        }
        if wakeWriter { wake.signal() }
    }

    /// Lines dropped because too much was waiting, and not yet reported in the log.
    public var droppedLines: Int { state.withLock { $0.dropped } }

    /// Waits until everything queued has been written, or `timeout` seconds have passed.
    public func flush(timeout: Double = 2) {
        let deadline = Date().addingTimeInterval(timeout)
        while state.withLock({ !$0.pending.isEmpty || $0.writing }), Date() < deadline {
            usleep(1_000)
        }
    }

    private func run() {
        while true {
            wake.wait()
            while let bytes = take() {
                writeAll(bytes)
                state.withLock { $0.writing = false }
            }
        }
    }

    /// What is waiting (after a line saying how many were dropped, if any); nil, and idle, when nothing is.
    private func take() -> [UInt8]? {
        state.withLock { s in
            guard !s.pending.isEmpty || s.dropped > 0 else {
                s.idle = true
                return nil
            }
            var bytes: [UInt8] = []
            if s.dropped > 0 {
                bytes = Array("time=\(Clock.rfc3339Millis(Clock.nowMillis())) level=warn msg=\"log lines dropped: stderr did not keep up\" count=\(s.dropped)\n".utf8)
                s.dropped = 0
            }
            bytes += s.pending
            s.pending = []
            s.writing = true
            return bytes
        }
    }

    /// write(2) until all is written; bytes that cannot be written (EPIPE, a full disk) are let go.
    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n > 0 {
                    offset += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}
