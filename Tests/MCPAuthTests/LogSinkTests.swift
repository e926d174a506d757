import Foundation
import MCPAuth
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Log lines reach their reader in order; a reader that stops reading holds up no writer (lines past the
/// bound are dropped and then counted in the log), and one that is gone costs lines, not the process.
@Suite struct LogSinkTests {
    /// A pipe: (read end, write end).
    static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        try #require(Glibc.pipe(&fds) == 0)
        return (fds[0], fds[1])
    }

    /// Everything readable from `fd` until it has nothing more for 200 ms.
    static func drain(_ fd: Int32) -> String {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 200) == 1 else { break }
            let n = read(fd, &buffer, buffer.count)
            guard n > 0 else { break }
            out += buffer[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func linesArriveInOrderAndFlushWaitsForThem() throws {
        let (r, w) = try Self.pipe()
        defer { close(r); close(w) }
        let sink = LogSink(fd: w)
        for i in 0..<100 { sink.write("line \(i)") }
        sink.flush()
        let text = Self.drain(r)
        #expect(text == (0..<100).map { "line \($0)\n" }.joined())
    }

    @Test func aReaderThatStopsReadingHoldsUpNoWriterAndTheDropsAreCounted() throws {
        let (r, w) = try Self.pipe()
        defer { close(r); close(w) }
        _ = fcntl(w, 1031 /* F_SETPIPE_SZ */, 4096)  // the smallest pipe: the writer blocks at once
        let sink = LogSink(fd: w, limit: 64 * 1024)
        let line = String(repeating: "x", count: 999)
        // Nobody reads: 2 MB offered against 4 KiB of pipe and 64 KiB of queue. Every call returns.
        for _ in 0..<2_000 { sink.write(line) }
        var text = Self.drain(r)  // the writer goes on, and reports the drops before what follows them
        sink.write("after the drops")
        sink.flush()
        text += Self.drain(r)
        let lines = text.split(separator: "\n")
        let delivered = lines.filter { $0 == line }.count
        let reported = lines.compactMap { l -> Int? in
            guard l.contains("msg=\"log lines dropped: stderr did not keep up\"") else { return nil }
            return l.split(separator: "=").last.flatMap { Int($0) }
        }
        #expect(!reported.isEmpty)
        #expect(delivered < 2_000, "most lines were dropped, not waited for")
        #expect(delivered + reported.reduce(0, +) == 2_000, "every line is either written or counted")
        #expect(lines.last == "after the drops")
        #expect(sink.droppedLines == 0)
    }

    @Test func aLineLongerThanTheBoundIsDroppedAndReportedWithoutWaitingForAnother() throws {
        let (r, w) = try Self.pipe()
        defer { close(r); close(w) }
        let sink = LogSink(fd: w, limit: 100)
        sink.write(String(repeating: "y", count: 200))
        sink.flush()
        let text = Self.drain(r)
        #expect(text.hasSuffix("msg=\"log lines dropped: stderr did not keep up\" count=1\n"))
        #expect(!text.contains("yyy"))
    }

    @Test func aReaderThatIsGoneCostsLinesNotTheProcess() throws {
        signal(SIGPIPE, SIG_IGN)  // as `serve` does: a write to a pipe without a reader fails with EPIPE
        let (r, w) = try Self.pipe()
        defer { close(w) }
        close(r)
        let sink = LogSink(fd: w)
        for i in 0..<1_000 { sink.write("into the void \(i)") }
        sink.flush()
        // Still here, and the sink still takes lines.
        sink.write("one more")
        sink.flush()
        #expect(sink.droppedLines == 0)
    }
}
