import Foundation
import Testing

/// `mcpctl serve` raises the soft open-file limit to what `--max-connections` can need (a client socket and
/// an upstream socket per connection), within the hard limit, and warns when the hard limit is too low.
@Suite struct ServeLimitsTests {
    /// (soft, hard) "Max open files" of a running process.
    static func openFiles(_ pid: Int32) throws -> (Int, Int) {
        let text = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("Max open files") })
        let numbers = line.split(separator: " ").compactMap { Int($0) }
        return (numbers[0], numbers[1])
    }

    /// Starts serve under `ulimit` settings given as shell commands; returns its limits and its stderr.
    func serve(limits: String, maxConnections: Int) throws -> ((Int, Int), String) {
        let h = InteropHarness()
        _ = try h.mcpctl(["init"])
        let port = InteropHarness.freePort()
        let (p, _, err) = try h.spawn("/bin/bash", ["-c", "\(limits); exec \"$0\" serve --listen 127.0.0.1:\(port) --max-connections \(maxConnections)",
                                                    InteropHarness.binary])
        defer { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !((try? String(contentsOf: err, encoding: .utf8)) ?? "").contains("listening"), p.isRunning { usleep(50_000) }
        return (try ServeLimitsTests.openFiles(p.processIdentifier), (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    @Test func theSoftLimitIsRaisedToFitMaxConnections() throws {
        let (_, hard) = try ServeLimitsTests.openFiles(getpid())
        let wanted = 2 * 100 + 256
        try #require(hard >= wanted, "hard open-file limit \(hard) too low to test")
        let ((soft, _), log) = try serve(limits: "ulimit -Sn 128", maxConnections: 100)
        #expect(soft == wanted)
        #expect(!log.contains("open-file limit"))
    }

    @Test func aHardLimitTooLowIsUsedWholeAndReported() throws {
        let ((soft, hard), log) = try serve(limits: "ulimit -Sn 128; ulimit -Hn 300", maxConnections: 1000)
        #expect(soft == 300 && hard == 300)
        #expect(log.contains("open-file limit 300 is below the 2256 that --max-connections 1000 can need"), "\(log)")
    }
}
