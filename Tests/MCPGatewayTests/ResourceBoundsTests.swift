import Foundation
import HTTP
import MCPAuth
import MCPGateway
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Faults from real upstreams that hang, flood and close: memory, stdio output and waiting stay bounded.
@Suite struct ResourceBoundsTests {
    static let ping = #"{"jsonrpc":"2.0","id":5,"method":"ping"}"#

    /// Adds env `name` of the harness's app pointing at `url` (alice has admin on every environment).
    func addEnvironment(_ h: GatewayHarness, _ name: String, upstream: String? = nil, command: [String]? = nil,
                        timeout: Double? = nil) throws {
        try Apps(store: h.admin).add(app: h.app, env: name, upstream: upstream, command: command, timeoutSeconds: timeout)
    }

    /// A loopback port nothing listens on: bound once to learn a free number, then closed.
    static func closedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    // MARK: Memory

    @Test func anAnswerPastTheBufferBudgetIsRefusedWith503AndAudited() throws {
        let h = try GatewayHarness(gatewayConfig: { $0.maxBufferedBytes = 1024 * 1024 })
        defer { h.close() }
        let big = try FaultUpstream("big", 2_000_000, dir: h.dir)
        try addEnvironment(h, "big", upstream: big.url)
        let token = try h.token()

        let refused = try h.rpc("big", token: token, Self.ping)
        #expect(refused.status == 503)
        #expect(refused.header("Retry-After") == "1")
        #expect(try h.lastRow()?.string("reason")?.contains("--max-buffered-bytes") == true)
        #expect(try h.lastRow()?.int("status") == 503)
        #expect(h.gateway.bufferedBytes == 0)
    }

    @Test func aStreamedAnswerDoesNotCountAgainstTheBufferBudget() throws {
        let h = try GatewayHarness(gatewayConfig: { $0.maxBufferedBytes = 1024 * 1024 })
        defer { h.close() }
        let sse = try FaultUpstream("sse", 2_000_000, dir: h.dir)
        try addEnvironment(h, "stream", upstream: sse.url)
        let reply = try h.rpc("stream", token: try h.token(), Self.ping)
        #expect(reply.status == 200)
        #expect(reply.body.count > 2_000_000)
    }

    @Test func aBufferedAnswerIsChargedUntilWrittenThenReleased() throws {
        let h = try GatewayHarness(gatewayConfig: { $0.maxBufferedBytes = 8 * 1024 * 1024 })
        defer { h.close() }
        let big = try FaultUpstream("big", 3_000_000, dir: h.dir)
        try addEnvironment(h, "big", upstream: big.url)
        let token = try h.token()
        for _ in 0..<4 {
            let reply = try h.rpc("big", token: token, Self.ping)
            #expect(reply.status == 200)
            #expect(reply.message?["result"]?["blob"]?.stringValue?.utf8.count == 3_000_000)
        }
        #expect(eventually { h.gateway.bufferedBytes == 0 })
    }

    // MARK: Timeouts

    @Test func twentyCallsToAHangingUpstreamAreAllAnswered504AndAuditedAsUpstreamTimeout() throws {
        let h = try GatewayHarness(gatewayConfig: { $0.upstreamTimeout = 2 })
        defer { h.close() }
        let hang = try FaultUpstream("hang", dir: h.dir)
        try addEnvironment(h, "hang", upstream: hang.url)
        let token = try h.token()
        let statuses = Locked<[Int]>([])
        let started = Date()
        inParallel(20) {
            let status = (try? h.rpc("hang", token: token, Self.ping).status) ?? -1
            statuses.withLock { $0.append(status) }
        }
        let elapsed = Date().timeIntervalSince(started)
        print("20 hanging calls with a 2 s timeout answered in \(String(format: "%.2f", elapsed)) s")
        #expect(statuses.value == Array(repeating: 504, count: 20))
        let rows = try h.mcpRows().filter { $0.string("env") == "hang" }
        #expect(rows.count == 20)
        #expect(rows.allSatisfy { $0.string("reason") == "upstream_timeout" && $0.int("status") == 504 })
    }

    @Test func anAppsOwnTimeoutWinsOverTheServersDefault() throws {
        let h = try GatewayHarness(gatewayConfig: { $0.upstreamTimeout = 60 })
        defer { h.close() }
        let hang = try FaultUpstream("hang", dir: h.dir)
        try addEnvironment(h, "hang", upstream: hang.url, timeout: 1)
        let reply = try h.rpc("hang", token: try h.token(), Self.ping)
        #expect(reply.status == 504)
        #expect(try h.lastRow()?.string("reason") == "upstream_timeout")
    }

    @Test func aClosedPortIs502NotATimeout() throws {
        let h = try GatewayHarness(gatewayConfig: { $0.upstreamTimeout = 2 })
        defer { h.close() }
        let port = Self.closedPort()
        try addEnvironment(h, "closed", upstream: "http://127.0.0.1:\(port)/mcp")
        let reply = try h.rpc("closed", token: try h.token(), Self.ping)
        #expect(reply.status == 502)
        #expect(try h.lastRow()?.string("reason")?.hasPrefix("upstream unavailable") == true)
    }

    @Test func aStdioProcessThatNeverAnswersIs504() throws {
        let h = try GatewayHarness(gatewayConfig: { $0.upstreamTimeout = 2 })
        defer { h.close() }
        try addEnvironment(h, "mute", command: try FaultUpstream.stdioCommand("stdio-hang", dir: h.dir))
        let reply = try h.initialize("mute", token: try h.token())
        #expect(reply.status == 504)
        #expect(reply.message?["error"] != nil)
        #expect(try h.lastRow()?.string("reason") == "upstream_timeout")
        #expect(eventually { h.gateway.stdioProcessCount == 0 })
    }

    // MARK: stdio output

    @Test func aStdioLineOverTheBodyLimitEndsTheProcessWithAClearError() throws {
        let h = try GatewayHarness(gatewayConfig: { $0.maxMessageBytes = 1024 * 1024; $0.upstreamTimeout = 30 })
        defer { h.close() }
        try addEnvironment(h, "noline", command: try FaultUpstream.stdioCommand("stdio-noline", 20_000_000, dir: h.dir))
        let reply = try h.initialize("noline", token: try h.token())
        #expect(reply.status == 502)
        #expect(reply.message?["error"]?["message"]?.stringValue?.contains("over 1048576 bytes") == true)
        #expect(try h.lastRow()?.string("reason")?.contains("message line over 1048576 bytes") == true)
        #expect(eventually { h.gateway.stdioProcessCount == 0 })
    }

    // MARK: Pooled connections

    @Test func pooledConnectionsAnUpstreamClosedWhileIdleNeverCauseAnError() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let idle = try FaultUpstream("idle", 1.5, dir: h.dir)
        try addEnvironment(h, "idle", upstream: idle.url)
        let token = try h.token()
        let failures = Locked<[Int]>([])
        for round in 0..<5 {
            if round > 0 { Thread.sleep(forTimeInterval: 5) }  // idle past the upstream's 1.5 s: it closes every pooled connection
            inParallel(40) {
                let status = (try? h.rpc("idle", token: token, Self.ping).status) ?? -1
                if status != 200 { failures.withLock { $0.append(status) } }
            }
        }
        #expect(failures.value.isEmpty, "failed calls: \(failures.value)")
        #expect(try h.mcpRows().filter { $0.string("env") == "idle" && $0.int("status") == 200 }.count == 200)
    }
}

/// The line splitter of stdio output and the stderr allowance, from bytes.
@Suite struct StdioOutputBoundsTests {
    func feed(_ buffer: inout LineBuffer, _ text: String) { Array(text.utf8).withUnsafeBytes { buffer.append($0) } }

    @Test func linesComeOutWholeAcrossPieces() throws {
        var b = LineBuffer(maxLine: 100, overlong: .fail)
        feed(&b, "{\"a\":1}\n{\"b\"")
        #expect(try b.next() == Array("{\"a\":1}".utf8))
        #expect(try b.next() == nil)
        feed(&b, ":2}\n\n")
        #expect(try b.next() == Array("{\"b\":2}".utf8))
        #expect(try b.next() == [])
        #expect(try b.next() == nil)
    }

    @Test func aLineOverTheLimitFailsBeforeItsNewlineArrives() {
        var b = LineBuffer(maxLine: 1000, overlong: .fail)
        feed(&b, String(repeating: "x", count: 1001))
        #expect(throws: LineBuffer.LineTooLong.self) { try b.next() }
    }

    @Test func anOverlongStderrLineIsCutAndItsRestSkipped() throws {
        var b = LineBuffer(maxLine: 10, overlong: .truncate)
        feed(&b, String(repeating: "y", count: 25))
        #expect(try b.next() == Array(String(repeating: "y", count: 10).utf8))
        feed(&b, "zzz\nnext\n")
        #expect(try b.next() == Array("next".utf8))
    }

    @Test func megabytesWithoutANewlineInSmallPiecesAreScannedOnce() throws {
        // 64 MiB in 4 KiB pieces: a rescan from the start at each piece would take ~16k × 32 MiB steps.
        var b = LineBuffer(maxLine: 128 * 1024 * 1024, overlong: .fail)
        let piece = [UInt8](repeating: 0x61, count: 4096)
        var early = 0
        for _ in 0..<(16 * 1024) {
            piece.withUnsafeBytes { b.append($0) }
            if try b.next() != nil { early += 1 }
        }
        feed(&b, "\n")
        #expect(early == 0)
        #expect(try b.next()?.count == 64 * 1024 * 1024)
    }

    @Test func theAllowanceDropsPastItsRateAndCountsWhatItDropped() {
        var a = LogAllowance(perSecond: 3, now: 100)
        let admitted = (0..<10).filter { _ in a.admit() }.count
        #expect(admitted == 3)
        let early = a.endedWindow(now: 100.5)
        let ended = a.endedWindow(now: 101)
        let again = a.admit()
        let quiet = a.endedWindow(now: 102.5)
        #expect(early == nil)
        #expect(ended == 7)
        #expect(again)
        #expect(quiet == nil)
    }
}

/// Runs `body` on `count` threads at once (not limited to the number of cores) and waits for all.
func inParallel(_ count: Int, _ body: @escaping @Sendable () -> Void) {
    let group = DispatchGroup()
    for _ in 0..<count {
        group.enter()
        Thread.detachNewThread {
            body()
            group.leave()
        }
    }
    group.wait()
}
