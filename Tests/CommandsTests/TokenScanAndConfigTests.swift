import Foundation
import MCPAuth
import Testing

/// `token scan` over directory trees and unreadable paths, `--print-config` choosing the app, `token list`
/// showing the last four characters, and help texts that name values and ranges.
@Suite struct TokenScanAndConfigTests {
    func write(_ text: String, _ relative: String, in h: CLIHarness) throws -> URL {
        let url = h.dir.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return url
    }

    @Test func scanWalksDirectoriesButSkipsGitBinariesAndSymlinks() throws {
        let h = CLIHarness()
        try h.user()
        let found = try h.token(), inGit = try h.token(), inBinary = try h.token(), behindLink = try h.token()
        _ = try write("KEY=\(found.secret)\n", "repo/deep/er/.env", in: h)
        _ = try write("token = \(inGit.secret)\n", "repo/.git/config", in: h)
        _ = try write("\u{0}\u{1}ELF\(inBinary.secret)", "repo/bin/tool", in: h)
        let outside = try write("T=\(behindLink.secret)\n", "elsewhere/secret.txt", in: h)
        try FileManager.default.createSymbolicLink(atPath: h.dir.appendingPathComponent("repo/link.txt").path, withDestinationPath: outside.path)
        let r = try h.run(["token", "scan", h.dir.appendingPathComponent("repo").path, "--json"])
        #expect(r.status == 1, "\(r.stderr)")
        let findings = try r.jsonArray()
        #expect(findings.count == 1)
        #expect(findings.first?["id"] as? String == found.id)
        #expect((findings.first?["source"] as? String)?.hasSuffix("repo/deep/er/.env") == true)
        for s in [found.secret, inGit.secret, inBinary.secret, behindLink.secret] { #expect(!r.stdout.contains(s) && !r.stderr.contains(s)) }
    }

    @Test func scanReadsAFileNamedOnTheCommandLineEvenThroughALink() throws {
        let h = CLIHarness()
        try h.user()
        let t = try h.token()
        let target = try write("T=\(t.secret)\n", "a/secret.txt", in: h)
        let link = h.dir.appendingPathComponent("link.txt").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target.path)
        #expect(try h.run(["token", "scan", link, "--json"]).jsonArray().count == 1)
    }

    @Test func scanReportsUnreadablePathsOnStderrAndGoesOn() throws {
        let h = CLIHarness()
        try h.user()
        let dead = try h.token()
        try h.ok(["token", "revoke", dead.id])
        let file = try write("OLD=\(dead.secret)\n", "old.env", in: h)
        let missing = h.dir.appendingPathComponent("no-such-dir").path
        let r = try h.run(["token", "scan", missing, file.path])
        #expect(r.status == 2, "unreadable path and no live token: \(r.stderr)")
        #expect(r.stderr.contains(missing))
        #expect(r.stdout.contains("revoked"), "the scan went on after the unreadable path")

        let live = try h.token()
        let liveFile = try write("NEW=\(live.secret)\n", "new.env", in: h)
        #expect(try h.run(["token", "scan", missing, liveFile.path]).status == 1, "a live token outranks an unreadable path")
        #expect(try h.run(["token", "scan", file.path]).status == 0)
    }

    @Test func printConfigUsesTheOneAppTheUserHasAGrantOnAndSaysSo() throws {
        let h = CLIHarness()
        try h.user()
        try h.ok(["app", "add", "notes", "--env", "production", "--upstream", "http://127.0.0.1:9000/mcp"])
        try h.ok(["grant", "add", "alice@example.com", "--app", "notes", "--env", "production", "--role", "viewer"])
        let r = try h.ok(["token", "create", "--email", "alice@example.com", "--print-config", "--url", "https://mcp.example.com"])
        let servers = try #require(try r.jsonObject()["mcpServers"] as? [String: Any])
        let entry = try #require(servers["notes-production"] as? [String: Any])
        #expect(entry["url"] as? String == "https://mcp.example.com/mcp/notes/production")
        #expect(r.stderr.contains("notes/production"))
    }

    @Test func printConfigWithGrantsOnSeveralAppsIsAUsageErrorListingThemAndCreatesNoToken() throws {
        let h = CLIHarness()
        try h.user()
        try h.ok(["app", "add", "notes", "--env", "production", "--upstream", "http://127.0.0.1:9000/mcp"])
        try h.ok(["app", "add", "notes", "--env", "staging", "--upstream", "http://127.0.0.1:9001/mcp"])
        try h.ok(["grant", "add", "alice@example.com", "--app", "notes", "--role", "viewer"])
        let r = try h.run(["token", "create", "--email", "alice@example.com", "--print-config"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--app") && r.stderr.contains("notes/production") && r.stderr.contains("notes/staging"))
        #expect(try h.ok(["token", "list", "--json"]).jsonArray().isEmpty)
        let chosen = try h.ok(["token", "create", "--email", "alice@example.com", "--print-config", "--app", "notes", "--env", "staging"])
        #expect((try chosen.jsonObject()["mcpServers"] as? [String: Any])?["notes-staging"] != nil)
    }

    @Test func tokenListShowsTheLastFourCharactersButNeverTheSecret() throws {
        let h = CLIHarness()
        try h.user()
        let t = try h.token()
        let r = try h.ok(["token", "list"])
        #expect(r.lines.first?.contains("LAST4") == true)
        #expect(r.stdout.contains("…" + t.secret.suffix(4)))
        #expect(!r.stdout.contains(t.secret) && !r.stdout.contains(t.secret.dropLast(4)))
    }

    @Test func helpHelpShowsTheHelpCommandInsteadOfAnError() throws {
        let r = try CLIHarness().run(["help", "help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("USAGE: mcpctl help") && !r.stderr.contains("Unknown command"))
    }

    /// The help text with its wrapping undone, so phrases can be searched across line breaks.
    func help(_ h: CLIHarness, _ args: [String]) throws -> String {
        try h.ok(args + ["--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    @Test func helpTextsNameValuesRangesDefaultsAndTheCABundle() throws {
        let h = CLIHarness()
        #expect(try help(h, ["audit", "list"]).contains("allow or deny"))
        let serve = try help(h, ["serve"])
        #expect(serve.contains("1024 to 268435456") && serve.contains("MCPCTL_CA_BUNDLE"))
        #expect(try help(h, ["token", "create"]).contains("public URL of the last 'mcpctl serve'"))
        let scan = try help(h, ["token", "scan"])
        #expect(scan.contains("recursively") && scan.contains("2 if a path could not be read"))
        let man = try String(contentsOf: CLIHarness.packageRoot.appendingPathComponent("man/mcpctl.1"), encoding: .utf8)
        let environment = try #require(man.range(of: "ENVIRONMENT"))
        #expect(man[environment.upperBound...].contains("MCPCTL_CA_BUNDLE"))
    }
}
