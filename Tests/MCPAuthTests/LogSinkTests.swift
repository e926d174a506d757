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
        let sink = LogSink(fd: w, limit: 64 * 1024)
        let line = String(repeating: "x", count: 999)
        // Nobody reads: the pipe (64 KiB) and then the queue fill up, and every further line is dropped.
        for _ in 0..<2_000 { sink.write(line) }
        let dropped = sink.droppedLines
        #expect(dropped > 0)
        var text = Self.drain(r)  // the writer goes on, and reports the drops first
        sink.write("after the drops")
        sink.flush()
        text += Self.drain(r)
        #expect(text.contains("msg=\"log lines dropped: stderr did not keep up\" count=\(dropped)\n"))
        #expect(text.hasSuffix("after the drops\n"))
        #expect(sink.droppedLines == 0, "reported once, then counted afresh")
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
