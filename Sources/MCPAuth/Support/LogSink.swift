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
/// At most `limit` bytes are held (waiting, or taken by the thread and not yet written); lines past that
/// are dropped and counted, and a line says how many before the next ones. `flush()` (also run at exit)
/// waits, within a bound, until what is held is written. (`serve` ignores SIGPIPE, so a write to a stderr
/// without a reader fails with EPIPE instead of ending the process.)
public final class LogSink: Sendable {
    /// The process's stderr.
    public static let standardError: LogSink = {
        let sink = LogSink(fd: 2)
        atexit { LogSink.standardError.flush() }
        standardErrorStarted.store(true, ordering: .releasing)
        return sink
    }()
    private static let standardErrorStarted = Atomic<Bool>(false)

    /// Writes what stderr's sink holds (if it was ever used) before something else writes to stderr
    /// directly, so that lines keep their order.
    public static func flushStandardError() {
        if standardErrorStarted.load(ordering: .acquiring) { standardError.flush() }
    }

    private struct State {
        var pending: [UInt8] = []
        var dropped = 0
        /// The writer thread is waiting for lines (and must be woken for the next one).
        var idle = true
        /// Bytes taken by the writer thread and not yet written.
        var writing = 0
        /// Lines offered so far (kept or dropped), and how many of them the writer has dealt with (written,
        /// or reported as dropped): `flush` waits for the lines offered before it was called.
        var offered = 0
        var handled = 0
    }

    private let fd: Int32
    private let limit: Int
    private let state = Guarded(State())
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
            if s.pending.count + s.writing + line.utf8.count + 1 <= limit {
                s.pending.append(contentsOf: line.utf8)
                s.pending.append(0x0A)
            } else {
                s.dropped += 1  // counted now, reported by the writer
            }
            s.offered += 1
            defer { s.idle = false }
            return s.idle
        }
        if wakeWriter { wake.signal() }
    }

    /// Lines dropped because too much was waiting, and not yet reported in the log.
    public var droppedLines: Int { state.withLock { $0.dropped } }

    /// Waits until every line offered before this call has been written (or reported as dropped), or
    /// `timeout` seconds have passed.
    public func flush(timeout: Double = 2) {
        let deadline = Date().addingTimeInterval(timeout)
        let target = state.withLock { $0.offered }
        while state.withLock({ $0.handled < target }), Date() < deadline {
            usleep(1_000)
        }
    }

    private func run() {
        while true {
            wake.wait()
            while let (report, bytes, lines) = take() {
                if let report { writeAll(Array(report.utf8)) }
                writeAll(bytes)
                state.withLock { s in
                    s.writing = 0
                    s.handled = lines
                }
            }
        }
    }

    /// What is waiting, and before it a line saying how many were dropped, if any; nil, and idle, when
    /// nothing is; and the lines offered up to now, which this batch deals with. The bytes are taken whole,
    /// not copied.
    private func take() -> (report: String?, bytes: [UInt8], lines: Int)? {
        state.withLock { s in
            guard !s.pending.isEmpty || s.dropped > 0 else {
                s.idle = true
                return nil
            }
            var report: String?
            if s.dropped > 0 {
                report = "time=\(Clock.rfc3339Millis(Clock.nowMillis())) level=warn msg=\"log lines dropped: stderr did not keep up\" count=\(s.dropped)\n"
                s.dropped = 0
            }
            let bytes = s.pending
            s.pending = []
            s.writing = bytes.count
            return (report, bytes, s.offered)
        }
    }

    /// write(2) until all is written, waiting on a descriptor that is non-blocking (poll(2)); bytes that
    /// cannot be written (EPIPE, a full disk) are let go.
    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n > 0 {
                    offset += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                    var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&p, 1, 1_000)
                } else {
                    return
                }
            }
        }
    }
}
