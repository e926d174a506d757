import Foundation
import Testing

/// `audit tail --format jsonl`: every line, the backlog and what follows, is one `audit list --json` entry.
@Suite struct AuditTailJSONLTests {
    /// Parses each line of `text` as one JSON object.
    func objects(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }
    }

    @Test func backlogLinesAreTheSameObjectsAsAuditListJSON() throws {
        let h = CLIHarness()
        try h.user()
        _ = try h.token()
        _ = try h.token()
        let lines = try objects(try h.ok(["audit", "tail", "--format", "jsonl", "-n", "2"]).stdout)
        let listed = try h.ok(["audit", "list", "--json", "--limit", "2"]).jsonArray().reversed()
        #expect(lines.count == 2)
        for (line, entry) in zip(lines, listed) {
            #expect(NSDictionary(dictionary: line).isEqual(to: entry), "tail line \(line) differs from list entry \(entry)")
        }
    }

    @Test func followingWritesNewEventsAsJSONLinesToo() throws {
        let h = CLIHarness()
        try h.user()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLIHarness.binary)
        p.arguments = ["audit", "tail", "-f", "--format", "jsonl"]
        p.environment = h.environment
        let outURL = h.dir.appendingPathComponent("tail.out")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        p.standardInput = FileHandle.nullDevice
        try p.run()
        defer { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        func output() -> String { (try? String(contentsOf: outURL, encoding: .utf8)) ?? "" }
        var waited = 0.0
        while !output().contains("user.add") && waited < 20 { Thread.sleep(forTimeInterval: 0.05); waited += 0.05 }
        try h.user("bob@example.com")
        waited = 0
        while !output().contains("bob@example.com") && waited < 20 { Thread.sleep(forTimeInterval: 0.05); waited += 0.05 }
        let lines = try objects(output())
        #expect(lines.count == 2)
        #expect(lines.map { $0["action"] as? String } == ["user.add", "user.add"])
        #expect(lines.last?["email"] as? String == "bob@example.com")
        #expect(lines.map { $0["seq"] as? Int } == [1, 2])
    }

    @Test func anUnknownFormatIsAUsageError() throws {
        let h = CLIHarness()
        try h.user()
        let r = try h.run(["audit", "tail", "--format", "xml"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("use text or jsonl"))
    }
}
