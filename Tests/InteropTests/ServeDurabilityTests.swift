import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// DESIGN.md §8: every acknowledged request has its audit row, even after `kill -9` of the server.
@Suite struct ServeDurabilityTests {
    final class Counter: @unchecked Sendable {
        let lock = NSLock()
        var acknowledged = 0
        func add() { lock.lock(); acknowledged += 1; lock.unlock() }
    }

    @Test func everyAcknowledgedRequestHasItsRowAfterKill9() throws {
        let h = InteropHarness()
        try h.mcpctl(["user", "add", "alice@example.com"])
        try h.mcpctl(["grant", "add", "alice@example.com", "--app", "mcpctl", "--env", "local", "--role", "viewer"])
        let token = try h.mcpctl(["token", "create", "--email", "alice@example.com"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let server = try h.startServer(["--log-level", "error"])
        let counter = Counter()
        let stop = Date().addingTimeInterval(2)
        let group = DispatchGroup()
        for worker in 0..<8 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                var i = 0
                while Date() < stop {
                    i += 1
                    var req = URLRequest(url: URL(string: server.url + "/mcp/mcpctl/local")!)
                    req.httpMethod = "POST"
                    req.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
                    req.setValue("application/json", forHTTPHeaderField: "Content-Type")
                    req.httpBody = Data(#"{"jsonrpc":"2.0","id":\#(worker * 100000 + i),"method":"ping"}"#.utf8)
                    let done = DispatchSemaphore(value: 0)
                    URLSession.shared.dataTask(with: req) { _, response, _ in
                        if (response as? HTTPURLResponse)?.statusCode == 200 { counter.add() }
                        done.signal()
                    }.resume()
                    done.wait()
                }
            }
        }
        // Kill the server while requests are in flight.
        Thread.sleep(forTimeInterval: 1.2)
        kill(server.process.processIdentifier, SIGKILL)
        group.wait()
        server.process.waitUntilExit()
        let rows = try JSONSerialization.jsonObject(with: Data(try h.mcpctl(["audit", "list", "--source", "mcp", "--decision", "allow",
                                                                             "--limit", "1000000", "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
        #expect(counter.acknowledged > 0)
        #expect(rows.count >= counter.acknowledged, "\(counter.acknowledged) requests acknowledged, \(rows.count) rows")
        #expect(try h.mcpctl(["audit", "verify"]).status == 0)
    }

    @Test func nonLoopbackListenWithoutHTTPSNeedsInsecureHTTP() throws {
        let h = InteropHarness()
        let refused = try h.run(InteropHarness.binary, ["serve", "--listen", "0.0.0.0:0"])
        #expect(refused.status == 1 && refused.stderr.contains("--insecure-http"))
        let bad = try h.run(InteropHarness.binary, ["serve", "--listen", "nonsense"])
        #expect(bad.status == 64)
        var env = h.environment
        env["MCPCTL_LISTEN"] = "nonsense"
        h.environment = env
        #expect(try h.run(InteropHarness.binary, ["serve"]).status == 64)
    }
}
