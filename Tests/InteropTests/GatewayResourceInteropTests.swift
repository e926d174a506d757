import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `mcpctl serve` against upstream processes that flood, hang and write without end: its memory, its log
/// and its waits stay bounded. Prints the figures it measures.
@Suite(.serialized) struct GatewayResourceInteropTests {
    /// The fault server of the gateway tests (Tests/MCPGatewayTests/Support/FaultUpstream.swift), taken
    /// from that file so both suites run the same program.
    static func faultScript(in dir: URL) throws -> String {
        let swift = try String(contentsOf: InteropHarness.root.appendingPathComponent("Tests/MCPGatewayTests/Support/FaultUpstream.swift"),
                               encoding: .utf8)
        guard let open = swift.range(of: "#\"\"\"\n"), let close = swift.range(of: "\"\"\"#", range: open.upperBound..<swift.endIndex) else {
            throw InteropHarness.HarnessError("fault server source not found")
        }
        let path = dir.appendingPathComponent("fault_upstream.py").path
        try String(swift[open.upperBound..<close.lowerBound]).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"

    /// Starts an HTTP fault server and returns its MCP URL.
    func startFault(_ h: InteropHarness, _ mode: String, _ arg: Int = 0) throws -> String {
        let (p, out, _) = try h.spawn(Self.python, ["-u", try Self.faultScript(in: h.dir), mode, String(arg)])
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, p.isRunning {
            let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("READY ") }) { return "http://127.0.0.1:\(line.dropFirst(6))/mcp" }
            usleep(20_000)
        }
        throw InteropHarness.HarnessError("fault server \(mode) did not start")
    }

    /// Adds the environments (each an `app add` argument list), then a user with admin on app `faults`;
    /// returns her token.
    func setUp(_ h: InteropHarness, _ environments: [[String]]) throws -> String {
        for e in environments { try h.mcpctl(["app", "add", "faults"] + e) }
        try h.mcpctl(["user", "add", "alice@example.com"])
        try h.mcpctl(["grant", "add", "alice@example.com", "--app", "faults", "--role", "admin"])
        try h.mcpctl(["grant", "add", "alice@example.com", "--app", "mcpctl", "--env", "local", "--role", "viewer"])
        return try h.mcpctl(["token", "create", "--email", "alice@example.com"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// POSTs a JSON-RPC message; returns the status (-1 when the exchange failed) and the body length.
    static func post(_ url: String, token: String, _ json: String, session: String? = nil) -> (Int, Int, String?) {
        var req = URLRequest(url: URL(string: url)!)
        req.httpMethod = "POST"
        req.timeoutInterval = 120
        req.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        req.setValue("application/json, text/event-stream", forHTTPHeaderField: "Accept")
        if let session { req.setValue(session, forHTTPHeaderField: "Mcp-Session-Id") }
        req.httpBody = Data(json.utf8)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result = (-1, 0, String?.none)
        client.dataTask(with: req) { data, response, _ in
            let r = response as? HTTPURLResponse
            result = (r?.statusCode ?? -1, data?.count ?? 0, r?.value(forHTTPHeaderField: "Mcp-Session-Id"))
            done.signal()
        }.resume()
        done.wait()
        return result
    }

    /// Up to 64 connections to the server at once (URLSession.shared allows 6 per host).
    static let client: URLSession = {
        let c = URLSessionConfiguration.ephemeral
        c.httpMaximumConnectionsPerHost = 64
        return URLSession(configuration: c)
    }()

    static let ping = #"{"jsonrpc":"2.0","id":5,"method":"ping"}"#
    static let initialize = #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#

    /// A field of /proc/PID/status in MiB (VmRSS: now; VmHWM: the peak).
    static func memory(_ pid: Int32, _ field: String) -> Double {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
        let kb = Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        return kb / 1024
    }

    static func mib(_ v: Double) -> String { String(format: "%.0f MiB", v) }

    @Test func memoryTakenByTwentyTenMegabyteAnswersReturnsWhenTheLoadGoes() throws {
        let h = InteropHarness()
        let token = try setUp(h, [["--env", "big", "--upstream", try startFault(h, "big", 10_000_000)]])
        let server = try h.startServer(["--log-level", "error"])
        let pid = server.process.processIdentifier
        #expect(Self.post(server.url + "/mcp/mcpctl/local", token: token, Self.ping).0 == 200)
        let before = Self.memory(pid, "VmRSS")
        let statuses = Collected<Int>()
        inParallel(20) {
            let (status, length, _) = Self.post(server.url + "/mcp/faults/big", token: token, Self.ping)
            statuses.append(length > 10_000_000 ? status : -status)
        }
        let peak = Self.memory(pid, "VmHWM")
        let during = Self.memory(pid, "VmRSS")
        var after = during
        _ = eventually(within: 10) { after = Self.memory(pid, "VmRSS"); return after < before + 64 }
        print("RSS of serve: before \(Self.mib(before)), peak \(Self.mib(peak)), right after the burst \(Self.mib(during)), settled \(Self.mib(after))")
        #expect(statuses.values == Array(repeating: 200, count: 20))
        #expect(after < before + 64, "RSS before \(before) MiB, after \(after) MiB (peak \(peak) MiB)")
    }

    @Test func aStdioLineOfTwentyMegabytesWithoutANewlineEndsTheProcessAndMemoryStaysBounded() throws {
        let h = InteropHarness()
        let script = try Self.faultScript(in: h.dir)
        let token = try setUp(h, [["--env", "noline", "--command", "\(Self.python) -u \(script) stdio-noline 20000000"]])
        let server = try h.startServer(["--log-level", "error"])
        let pid = server.process.processIdentifier
        let before = Self.memory(pid, "VmRSS")
        let (status, _, _) = Self.post(server.url + "/mcp/faults/noline", token: token, Self.initialize)
        let peak = Self.memory(pid, "VmHWM")
        print("RSS of serve: before \(Self.mib(before)), peak \(Self.mib(peak)) with a 20 MB stdout line (limit 4 MiB)")
        #expect(status == 502)
        #expect(peak < before + 48)
        let rows = try h.mcpctl(["audit", "list", "--source", "mcp", "--app", "faults", "--json"]).stdout
        #expect(rows.contains("message line over 4194304 bytes"))
        let log = (try? String(contentsOf: server.log, encoding: .utf8)) ?? ""
        #expect(log.contains("stdio faults/noline: upstream wrote a message line over 4194304 bytes"))
    }

    @Test func aStderrFloodIsLoggedAtMostAHundredLinesASecondWithDropCounts() throws {
        let h = InteropHarness()
        let script = try Self.faultScript(in: h.dir)
        let token = try setUp(h, [["--env", "chatty", "--command", "\(Self.python) -u \(script) stdio-stderr 3"]])
        let server = try h.startServer(["--log-level", "info"])
        let (status, _, session) = Self.post(server.url + "/mcp/faults/chatty", token: token, Self.initialize)
        #expect(status == 200 && session != nil)
        Thread.sleep(forTimeInterval: 5)  // the flood lasts 3 s; then every window has ended
        let log = (try? String(contentsOf: server.log, encoding: .utf8)) ?? ""
        let lines = log.split(separator: "\n")
        let logged = lines.filter { $0.contains("msg=\"upstream stderr\"") }
        let summaries = lines.filter { $0.contains("stderr lines dropped") }
        let dropped = summaries.compactMap { line -> Int? in
            guard let r = line.range(of: "chatty: ") else { return nil }
            return Int(line[r.upperBound...].prefix { $0.isNumber })
        }.reduce(0, +)
        let bytes = (logged + summaries).reduce(0) { $0 + $1.utf8.count + 1 }
        print("stderr flood of 3 s: \(logged.count) lines logged (\(logged.count / 3) lines/s, \(bytes / 3) bytes/s of log), \(dropped) dropped in \(summaries.count) summary lines")
        #expect(logged.count <= 100 * 6)
        #expect(!summaries.isEmpty && dropped > 0)
        #expect(summaries.allSatisfy { $0.contains("stdio faults/chatty: ") })
    }

    @Test func hangingCallsAre504WithinTheTimeoutFromServeAndFromTheApp() throws {
        let h = InteropHarness()
        let hang = try startFault(h, "hang")
        let token = try setUp(h, [["--env", "hang", "--upstream", hang], ["--env", "own", "--upstream", hang, "--timeout", "1s"]])
        #expect(try h.run(InteropHarness.binary, ["app", "add", "faults", "--env", "bad", "--upstream", hang, "--timeout", "soon"]).status == 64)
        let listed = try h.mcpctl(["app", "list", "--json"]).stdout
        #expect(listed.contains("\"timeout_seconds\":1"))
        let server = try h.startServer(["--log-level", "error", "--upstream-timeout", "2s"])
        let statuses = Collected<Int>()
        let started = Date()
        inParallel(20) {
            statuses.append(Self.post(server.url + "/mcp/faults/hang", token: token, Self.ping).0)
        }
        print("20 parallel calls to a hanging upstream, --upstream-timeout 2s: all answered in \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
        #expect(statuses.values == Array(repeating: 504, count: 20))
        #expect(Self.post(server.url + "/mcp/faults/own", token: token, Self.ping).0 == 504)
        let rows = try h.mcpctl(["audit", "list", "--source", "mcp", "--app", "faults", "--json", "--limit", "100"]).stdout
        let parsed = (try JSONSerialization.jsonObject(with: Data(rows.utf8)) as? [[String: Any]]) ?? []
        #expect(parsed.count == 21)
        #expect(parsed.allSatisfy { $0["reason"] as? String == "upstream_timeout" && $0["status"] as? Int == 504 })
    }
}

/// Values collected from concurrent test threads.
final class Collected<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Value] = []
    func append(_ v: Value) { lock.lock(); items.append(v); lock.unlock() }
    var values: [Value] { lock.lock(); defer { lock.unlock() }; return items }
}

/// Polls `condition` every 50 ms for at most `seconds`; a bound against hangs, not a timing assertion.
func eventually(within seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
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
