import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `serve --audit-forward`: audit events reach a real HTTP collector (Tests/Interop/siem_receiver.py) through
/// refusals and a `kill -9` of the server, each at least once, twice only within the batch that was in flight.
@Suite struct AuditForwardInteropTests {
    /// One POST the collector accepted.
    struct Batch {
        let seqs: [Int]
        let events: [[String: Any]]
        let headers: [String: String]
    }

    func batches(_ file: URL) -> [Batch] {
        let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else { return nil }
            return Batch(seqs: o["seqs"] as? [Int] ?? [], events: o["events"] as? [[String: Any]] ?? [], headers: o["headers"] as? [String: String] ?? [:])
        }
    }

    /// Starts the collector; returns its port and the file it appends accepted batches to.
    func startCollector(_ h: InteropHarness, failFirst: Int, delay: Double) throws -> (port: Int, out: URL) {
        let out = h.dir.appendingPathComponent("received.jsonl")
        let (p, stdout, stderr) = try h.spawn(try InteropHarness.python("mcp1"), [
            InteropHarness.scripts.appendingPathComponent("siem_receiver.py").path, "--out", out.path,
            "--fail-first", String(failFirst), "--delay", String(delay)])
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let text = (try? String(contentsOf: stdout, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("READY ") }), let port = Int(line.dropFirst(6)) { return (port, out) }
            if !p.isRunning { break }
            usleep(50_000)
        }
        throw InteropHarness.HarnessError("collector did not start: \((try? String(contentsOf: stderr, encoding: .utf8)) ?? "")")
    }

    func headSeq(_ h: InteropHarness) throws -> Int {
        let o = try h.mcpctl(["audit", "head", "--json"]).json()
        return o["seq"] as? Int ?? -1
    }

    func waitUntil(_ seconds: Double, _ condition: () throws -> Bool) rethrows {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline { if try condition() { return }; usleep(100_000) }
    }

    @Test func everyRowArrivesThroughRefusalsAndAKill9WithDuplicatesOnlyFromTheBatchInFlight() throws {
        let h = InteropHarness()
        try h.mcpctl(["user", "add", "alice@example.com"])
        for _ in 0..<3 { try h.mcpctl(["token", "create", "--email", "alice@example.com"]) }
        let collector = try startCollector(h, failFirst: 3, delay: 0.2)
        let secret = "Splunk siem-\(UUID().uuidString)"
        h.environment["SIEM_TOKEN"] = secret
        let args = ["--audit-forward", "http://127.0.0.1:\(collector.port)/services/collector",
                    "--audit-forward-header", "Authorization=env:SIEM_TOKEN", "--log-level", "debug"]
        let first = try h.startServer(args)
        // Rows keep coming from another process (every source is forwarded) while the server is killed.
        for i in 0..<12 { try h.mcpctl(["user", "add", "user\(i)@example.com"]) }
        waitUntil(20) { !batches(collector.out).isEmpty }
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        for i in 12..<24 { try h.mcpctl(["user", "add", "user\(i)@example.com"]) }
        let second = try h.startServer(args)
        let head = try headSeq(h)
        waitUntil(60) { Set(batches(collector.out).flatMap(\.seqs)).count >= head }
        h.stop(second.process)

        let received = batches(collector.out)
        let seqs = received.flatMap(\.seqs)
        #expect(Set(seqs) == Set(1...head), "missing: \(Set(1...head).subtracting(seqs).sorted())")
        let duplicates = Set(seqs.filter { s in seqs.filter { $0 == s }.count > 1 })
        #expect(duplicates.isEmpty || received.contains { Set($0.seqs).isSuperset(of: duplicates) },
                "duplicates \(duplicates.sorted()) are not one batch")
        #expect(seqs.allSatisfy { s in seqs.filter { $0 == s }.count <= 2 })
        #expect(received.allSatisfy { $0.headers["authorization"] == secret && $0.headers["content-type"] == "application/json" })
        // Each event has the keys of `audit list --json`, with the same values.
        let listed = try h.mcpctl(["audit", "list", "--json", "--limit", "1000"]).stdout
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [[String: Any]])
        let bySeq = Dictionary(entries.map { ($0["seq"] as? Int ?? 0, $0) }, uniquingKeysWith: { a, _ in a })
        for event in received.flatMap(\.events) {
            let seq = event["seq"] as? Int ?? 0
            #expect(NSDictionary(dictionary: event).isEqual(to: bySeq[seq] ?? [:]), "event \(seq) differs from audit list --json")
        }
        // The header's value never reaches the server's logs.
        for log in [first.log, second.log] {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            #expect(!text.contains(secret) && !text.contains("siem-"), "the forwarding header leaked into the log")
            #expect(text.contains("audit forwarding"))
        }
    }

    @Test func plainHTTPToACollectorOffThisHostIsRefusedSoRowsAndItsCredentialNeverCrossTheNetworkInClearText() throws {
        let h = InteropHarness()
        try h.mcpctl(["init"])
        h.environment["SIEM_TOKEN"] = "collector-credential"
        for url in ["http://siem.example.com/services/collector", "http://10.0.0.7:8088/x", "http://127.0.0.1.nip.io/x", "HTTP://[fd00::1]/x"] {
            let r = try h.run(InteropHarness.binary, ["serve", "--audit-forward", url, "--audit-forward-header", "Authorization=env:SIEM_TOKEN"])
            #expect(r.status == 64 && r.stderr.contains("use https") && !r.stderr.contains("collector-credential"), "\(url): \(r.status) \(r.stderr)")
        }
    }

    @Test func aHeaderValueIsTakenOnlyFromTheEnvironment() throws {
        let h = InteropHarness()
        try h.mcpctl(["init"])
        let literal = try h.run(InteropHarness.binary, ["serve", "--audit-forward", "http://127.0.0.1:9/x",
                                                       "--audit-forward-header", "Authorization=Bearer secret-on-the-command-line"])
        #expect(literal.status == 64 && literal.stderr.contains("NAME=env:VAR") && !literal.stderr.contains("secret-on-the-command-line"))
        let unset = try h.run(InteropHarness.binary, ["serve", "--audit-forward", "http://127.0.0.1:9/x",
                                                     "--audit-forward-header", "Authorization=env:MCPCTL_TEST_UNSET_VARIABLE"])
        #expect(unset.status == 1 && unset.stderr.contains("MCPCTL_TEST_UNSET_VARIABLE"))
        let badURL = try h.run(InteropHarness.binary, ["serve", "--audit-forward", "ftp://example.com/"])
        #expect(badURL.status == 64)
        // The same from the environment, as a systemd EnvironmentFile sets them.
        h.environment["MCPCTL_AUDIT_FORWARD"] = "http://127.0.0.1:9/x"
        h.environment["MCPCTL_AUDIT_FORWARD_HEADER"] = "Authorization=env:MCPCTL_TEST_UNSET_VARIABLE"
        let fromEnvironment = try h.run(InteropHarness.binary, ["serve"])
        #expect(fromEnvironment.status == 1 && fromEnvironment.stderr.contains("MCPCTL_TEST_UNSET_VARIABLE"))
    }

    @Test func requestsAreAnsweredAndAuditedWhileTheCollectorIsDown() throws {
        let h = InteropHarness()
        try h.mcpctl(["user", "add", "alice@example.com"])
        let server = try h.startServer(["--audit-forward", "http://127.0.0.1:\(InteropHarness.freePort())/down"])
        let before = try headSeq(h)
        var request = URLRequest(url: URL(string: server.url + "/mcp/mcpctl/local")!)
        request.httpMethod = "POST"
        request.httpBody = Data(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let status = try #require(Self.send(request))
        #expect(status == 401)
        #expect(try headSeq(h) == before + 1)
        h.stop(server.process)
        let log = (try? String(contentsOf: server.log, encoding: .utf8)) ?? ""
        #expect(log.contains("audit forwarding failed"))
    }

    static func send(_ request: URLRequest) -> Int? {
        final class Box: @unchecked Sendable { var status: Int? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { _, response, _ in
            box.status = (response as? HTTPURLResponse)?.statusCode
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 30)
        return box.status
    }
}
