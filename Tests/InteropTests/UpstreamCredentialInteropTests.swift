import Foundation
import Testing

/// Upstreams that need their own key get it by reference (`--upstream-header`, `--env-var`): `serve`
/// reads the value, sends it only to that upstream, and never stores, logs, audits or prints it; the
/// caller's own credentials never reach the upstream.
@Suite(.serialized) struct UpstreamCredentialInteropTests {
    static func secret() -> String { "sk-live-" + UUID().uuidString.replacingOccurrences(of: "-", with: "") }

    @Test func anUpstreamThatInsistsOnItsKeyWorksOnlyThroughTheConfiguredReferenceAndTheKeyIsWrittenNowhere() throws {
        let h = InteropHarness()
        let python = try InteropHarness.python("mcp1")
        let key = UpstreamCredentialInteropTests.secret()
        h.environment["KEYED_UPSTREAM_KEY"] = key          // what the upstream expects
        h.environment["NOTES_AUTHORIZATION"] = "Bearer \(key)"  // what serve reads for the reference
        let seen = try h.file("seen.jsonl", "")
        let upstream = try h.startKeyedUpstream(["--key-env", "KEYED_UPSTREAM_KEY", "--seen-file", seen])
        try h.mcpctl(["user", "add", "alice@example.com"])
        try h.mcpctl(["app", "add", "notes", "--env", "prod", "--upstream", "http://127.0.0.1:\(upstream.port)/mcp"])
        try h.mcpctl(["grant", "add", "alice@example.com", "--app", "notes", "--role", "viewer"])
        let token = try h.mcpctl(["token", "create", "--email", "alice@example.com"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let callerHeaders = ["Authorization: Bearer \(token)", "Cookie: session=caller-cookie"]

        // Without the reference the upstream refuses the gateway, and the caller gets 502, not a 401 to chase.
        var server = try h.startServer()
        let (refusedStatus, refused) = try h.client(python, url: "\(server.url)/mcp/notes/prod", headers: callerHeaders, ["list-tools"])
        #expect(refusedStatus != 0 && refused["status"] as? Int == 502, "\(refused)")
        h.stopNow(server.process)

        // With it, the same caller works; the upstream saw its own key and never the caller's token or cookie.
        let shown = try h.mcpctl(["app", "update", "notes", "--env", "prod", "--upstream-header", "Authorization=env:NOTES_AUTHORIZATION", "--json"]).stdout
        #expect(shown.contains("env:NOTES_AUTHORIZATION") && !shown.contains(key))
        server = try h.startServer(["--log-level", "debug"])
        let (listStatus, listed) = try h.client(python, url: "\(server.url)/mcp/notes/prod", headers: callerHeaders, ["list-tools"])
        #expect(listStatus == 0 && (listed["tools"] as? [String])?.contains("report") == true, "\(listed)")
        let (callStatus, called) = try h.client(python, url: "\(server.url)/mcp/notes/prod", headers: ["Email: alice@example.com", "Token: \(token)"],
                                                ["call", "report"])
        #expect(callStatus == 0 && (called["content"] as? [String]) == ["all notes are fine"], "\(called)")
        let received = try String(contentsOfFile: seen, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(!received.isEmpty)
        for line in received where line.contains("authorization") {
            #expect(line.contains("[\"Bearer \(key)\"]"), "only the configured key reaches the upstream: \(line)")
        }
        let all = received.joined()
        #expect(!all.contains(token) && !all.contains("caller-cookie") && !all.contains("\"email\"") && !all.contains("\"token\""), "\(all)")

        // The key is nowhere mcpctl writes: store, WAL, audit log, serve's log, app show, app list.
        h.stopNow(server.process)
        let show = try h.mcpctl(["app", "show", "notes", "--json"]).stdout + (try h.mcpctl(["app", "show", "notes"]).stdout)
            + (try h.mcpctl(["app", "list", "--json"]).stdout)
        #expect(show.contains("env:NOTES_AUTHORIZATION"))
        let written = try h.everythingWritten(also: [server.log]) + show
        #expect(!written.contains(key), "the upstream key leaked into something mcpctl wrote")
        #expect(written.contains("tools/list"), "the audit export and log were read")
    }

    @Test func aMissingReferenceStopsServeNamingTheAppTheEnvironmentAndTheReferenceButNoValue() throws {
        let h = InteropHarness()
        let key = UpstreamCredentialInteropTests.secret()
        let keyFile = try h.file("key", key + "\n", mode: 0o644)
        try h.mcpctl(["app", "add", "notes", "--env", "prod", "--upstream", "http://127.0.0.1:9/mcp",
                      "--upstream-header", "X-Api-Key=file:\(keyFile)", "--upstream-header", "Authorization=env:NOT_SET_ANYWHERE"])
        // A readable-by-others key file and an unset variable: serve refuses to start and says why.
        let r = try h.run(InteropHarness.binary, ["serve", "--listen", "127.0.0.1:0"], timeout: 30)
        #expect(r.status == 1)
        #expect(r.stderr.contains("notes/prod") && r.stderr.contains("env:NOT_SET_ANYWHERE") && r.stderr.contains("file:\(keyFile)")
                && r.stderr.contains("group or others"), "\(r.stderr)")
        #expect(!r.stderr.contains(key) && !r.stdout.contains(key))
        // The reference itself may be changed from the shell; a value given in its place is refused unechoed.
        let bad = try h.run(InteropHarness.binary, ["app", "update", "notes", "--env", "prod", "--upstream-header", "Authorization=\(key)"])
        #expect(bad.status == 64 && !bad.stderr.contains(key), "\(bad.stderr)")
        let pasted = try h.run(InteropHarness.binary, ["app", "update", "notes", "--env", "prod", "--upstream-header", "Authorization: Bearer \(key)"])
        #expect(pasted.status == 64 && !pasted.stderr.contains(key), "\(pasted.stderr)")
        #expect(!(try h.everythingWritten()).contains(key))
    }

    @Test func aStdioUpstreamGetsItsEnvironmentVariableAndNothingElseOfServesEnvironment() throws {
        let h = InteropHarness()
        let python = try InteropHarness.python("mcp1")
        let key = UpstreamCredentialInteropTests.secret()
        let keyFile = try h.file("notes-key", key + "\n")
        h.environment["SERVE_ONLY_SECRET"] = UpstreamCredentialInteropTests.secret()
        try h.mcpctl(["user", "add", "alice@example.com"])
        try h.mcpctl(["app", "add", "notes", "--env", "local", "--command", "\(python) \(InteropHarness.keyedServer) --transport stdio",
                      "--env-var", "NOTES_API_KEY=file:\(keyFile)"])
        try h.mcpctl(["grant", "add", "alice@example.com", "--app", "notes", "--role", "viewer"])
        let token = try h.mcpctl(["token", "create", "--email", "alice@example.com"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let server = try h.startServer()
        let (status, called) = try h.client(python, url: "\(server.url)/mcp/notes/local", headers: ["Authorization: Bearer \(token)"], ["call", "env_report"])
        #expect(status == 0, "\(called)")
        let report = (called["content"] as? [String])?.first.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [String: Any] ?? [:]
        let expected = Data(key.utf8).sha256Hex
        #expect(report["key_sha256"] as? String == expected, "the file's value, its trailing newline stripped")
        let names = Set(report["names"] as? [String] ?? [])
        #expect(names.contains("NOTES_API_KEY") && names.contains("PATH"))
        #expect(!names.contains("SERVE_ONLY_SECRET") && !names.contains("MCPCTL_DB"), "serve's own environment leaked: \(names)")

        // A rotated key file is read again on SIGHUP; new processes get the new key.
        let rotated = UpstreamCredentialInteropTests.secret()
        _ = try h.file("notes-key", rotated)
        kill(server.process.processIdentifier, SIGHUP)
        var latest = ""
        for _ in 0..<50 where latest != Data(rotated.utf8).sha256Hex {
            usleep(100_000)
            let (_, again) = try h.client(python, url: "\(server.url)/mcp/notes/local", headers: ["Authorization: Bearer \(token)"], ["call", "env_report"])
            let json = (again["content"] as? [String])?.first.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [String: Any]
            latest = json?["key_sha256"] as? String ?? ""
        }
        #expect(latest == Data(rotated.utf8).sha256Hex)
        #expect(server.process.isRunning, "SIGHUP does not stop the server")
        h.stopNow(server.process)
        let written = try h.everythingWritten(also: [server.log])
        #expect(!written.contains(key) && !written.contains(rotated))
    }
}

extension Data {
    /// Lower-case hex SHA-256, computed by the system's sha256sum (the test does not trust mcpctl's own).
    var sha256Hex: String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sha256sum"]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try? p.run()
        input.fileHandleForWriting.write(self)
        try? input.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: out, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }
}
