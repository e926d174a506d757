import Foundation
import MCPAuth
import Testing

/// `mcpctl doctor`: one line per check, a fix for each problem, exit 1 when a check fails.
@Suite struct DoctorCommandTests {
    func checks(_ r: CLIResult) throws -> [String: [String: Any]] {
        let list = try r.jsonArray()
        return Dictionary(list.map { ($0["check"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
    }

    @Test func aHealthyStorePassesEveryCheck() throws {
        let h = CLIHarness()
        try h.user()
        _ = try h.token()
        let r = try h.run(["doctor", "--json"])
        #expect(r.status == 0, "doctor failed: \(r.stdout) \(r.stderr)")
        let c = try checks(r)
        for name in ["store permissions", "migrations", "integrity", "audit chain"] { #expect(c[name]?["status"] as? String == "ok", "\(name): \(c[name] ?? [:])") }
        #expect(c["public url"]?["status"] as? String == "skip")
        let text = try h.run(["doctor"])
        #expect(text.status == 0 && text.stdout.contains("OK    audit chain: 2 rows verified"))
    }

    @Test(.enabled(if: CLIHarness.isSQLite, "a SQLite store's files, modes and backups"))
    func aWorldReadableStoreFailsAndNamesTheFix() throws {
        let h = CLIHarness()
        try h.user()
        chmod(h.dbPath, 0o644)
        let r = try h.run(["doctor"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("FAIL  store permissions") && r.stdout.contains("chmod 600 '\(h.dbPath)'"), "\(r.stdout)")
    }

    @Test func anUnreachableUpstreamFails() throws {
        let h = CLIHarness()
        try h.ok(["app", "add", "notes", "--env", "production", "--upstream", "http://127.0.0.1:9/mcp"])
        try h.ok(["app", "add", "files", "--env", "local", "--command", "/nonexistent/mcp-server --root /srv"])
        let r = try h.run(["doctor", "--json"])
        #expect(r.status == 1)
        let c = try checks(r)
        #expect(c["upstream notes/production"]?["status"] as? String == "fail")
        #expect((c["upstream notes/production"]?["fix"] as? String)?.contains("http://127.0.0.1:9/mcp") == true)
        #expect(c["upstream files/local"]?["status"] as? String == "fail")
        #expect(c["audit chain"]?["status"] as? String == "ok")
    }

    @Test func anUnresolvableCredentialReferenceFailsNamingTheReferenceButNoValue() throws {
        let h = CLIHarness()
        try h.ok(["app", "add", "gh", "--env", "prod", "--upstream", "http://127.0.0.1:9/mcp",
                  "--upstream-header", "Authorization=env:DOCTOR_TEST_GH_KEY"])
        let missing = try h.run(["doctor", "--json"])
        #expect(missing.status == 1)
        let c = try checks(missing)
        #expect(c["upstream credentials"]?["status"] as? String == "fail", "\(c)")
        let detail = c["upstream credentials"]?["detail"] as? String ?? ""
        #expect(detail.contains("DOCTOR_TEST_GH_KEY"), "\(detail)")
        let secret = "ghp_doctorSecretValue123"
        let present = try h.run(["doctor", "--json"], env: ["DOCTOR_TEST_GH_KEY": secret])
        let d = try checks(present)
        #expect(d["upstream credentials"]?["status"] as? String == "ok", "\(d)")
        #expect(!present.stdout.contains(secret) && !present.stderr.contains(secret))
    }

    @Test func aTamperedAuditRowFailsTheChainCheck() throws {
        let h = CLIHarness()
        try h.user()
        _ = try h.token()
        try Store(path: h.dbPath).db.run("UPDATE audit SET email = 'mallory@example.com' WHERE seq = 1")
        let r = try h.run(["doctor"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("FAIL  audit chain: broken at seq 1"), "\(r.stdout)")
    }

    @Test func thePublicURLMustServeMetadataWithAByteIdenticalIssuer() throws {
        let h = CLIHarness()
        try h.user()
        let port = Self.freePort()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLIHarness.binary)
        p.arguments = ["serve", "--listen", "127.0.0.1:\(port)", "--log-level", "error"]
        p.environment = h.environment
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        let base = "http://127.0.0.1:\(port)"
        var waited = 0.0
        while (try? Data(contentsOf: URL(string: base + "/healthz")!)) == nil && waited < 30 { Thread.sleep(forTimeInterval: 0.1); waited += 0.1 }
        let good = try h.run(["doctor", "--json", "--public-url", base])
        let c = try checks(good)
        #expect(good.status == 0, "\(good.stdout)")
        #expect(c["public url"]?["status"] as? String == "ok" && c["clock skew"]?["status"] as? String == "ok")
        // The same server reached under another name: its issuer is not the URL the client used.
        let other = try h.run(["doctor", "--public-url", "http://localhost:\(port)"], env: ["MCPCTL_PUBLIC_URL": ""])
        #expect(other.status == 1 && other.stdout.contains("FAIL  public url: issuer is \(base)"), "\(other.stdout)")
        let down = try h.run(["doctor", "--public-url", "http://127.0.0.1:9"])
        #expect(down.status == 1 && down.stdout.contains("FAIL  public url"))
    }

    /// A metadata server whose clock is `offset` seconds off: the check warns past 5 s and fails past 60 s.
    @Test func aServerClockFarFromThisHostsWarnsThenFails() throws {
        let h = CLIHarness()
        try h.ok(["init"])
        let script = #"""
        import email.utils, http.server, json, sys, time
        offset = float(sys.argv[1])
        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def date_time_string(self, timestamp=None): return email.utils.formatdate(time.time() + offset, usegmt=True)
            def do_GET(self):
                body = json.dumps({"issuer": "http://127.0.0.1:%d" % self.server.server_address[1]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        http.server.HTTPServer(("127.0.0.1", int(sys.argv[2])), H).serve_forever()
        """#
        for (offset, status) in [(0, "ok"), (-30, "warn"), (600, "fail")] {
            let port = Self.freePort()
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3", "-c", script, String(offset), String(port)]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            defer { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
            var waited = 0.0
            while (try? Data(contentsOf: URL(string: "http://127.0.0.1:\(port)/")!)) == nil && waited < 30 { Thread.sleep(forTimeInterval: 0.1); waited += 0.1 }
            let r = try h.run(["doctor", "--json", "--public-url", "http://127.0.0.1:\(port)"])
            let c = try checks(r)
            #expect(c["public url"]?["status"] as? String == "ok", "offset \(offset): \(r.stdout)")
            #expect(c["clock skew"]?["status"] as? String == status, "offset \(offset): \(r.stdout)")
            if status == "fail" { #expect(r.status == 1) }
        }
    }

    /// The MCP Python SDK's FastMCP server from Tests/Interop, over stdio and over Streamable HTTP (SSE answers).
    @Test func upstreamsThatAnswerListTheirTools() throws {
        let python = CLIHarness.packageRoot.appendingPathComponent(".venv-mcp1/bin/python").path
        let script = CLIHarness.packageRoot.appendingPathComponent("Tests/Interop/upstream_server.py").path
        try #require(FileManager.default.isExecutableFile(atPath: python), "missing \(python): run .ci/setup-python")
        let h = CLIHarness()
        try h.ok(["app", "add", "notes", "--env", "stdio", "--command", "\(python) \(script) --transport stdio"])
        let port = Self.freePort()
        let upstream = Process()
        upstream.executableURL = URL(fileURLWithPath: python)
        upstream.arguments = [script, "--transport", "http", "--port", String(port)]
        upstream.standardInput = FileHandle.nullDevice
        upstream.standardOutput = FileHandle.nullDevice
        upstream.standardError = FileHandle.nullDevice
        try upstream.run()
        defer { kill(upstream.processIdentifier, SIGKILL); upstream.waitUntilExit() }
        var waited = 0.0
        while !Self.accepts(port: port) && waited < 30 { Thread.sleep(forTimeInterval: 0.1); waited += 0.1 }
        try h.ok(["app", "add", "notes", "--env", "http", "--upstream", "http://127.0.0.1:\(port)/mcp"])
        let r = try h.run(["doctor", "--json"])
        let c = try checks(r)
        #expect(r.status == 0, "\(r.stdout)")
        for env in ["stdio", "http"] {
            #expect(c["upstream notes/\(env)"]?["status"] as? String == "ok", "\(c["upstream notes/\(env)"] ?? [:])")
            #expect((c["upstream notes/\(env)"]?["detail"] as? String)?.contains(" tools listed") == true)
        }
    }

    /// A stdio MCP server that writes the environment it was started with to a file, then answers the handshake.
    static let environmentDumper = """
        import json, os, sys
        with open(sys.argv[1], "w") as f:
            json.dump(dict(os.environ), f)
        for line in sys.stdin:
            m = json.loads(line)
            if "id" not in m:
                continue
            r = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "env", "version": "1"}} \\
                if m["method"] == "initialize" else {"tools": [{"name": "t", "inputSchema": {"type": "object"}}]}
            print(json.dumps({"jsonrpc": "2.0", "id": m["id"], "result": r}), flush=True)
        """

    @Test func doctorStartsAStdioUpstreamWithServesCleanEnvironmentNotTheOperatorsOwn() throws {
        let h = CLIHarness()
        let script = h.dir.appendingPathComponent("dump_env.py").path, dump = h.dir.appendingPathComponent("env.json").path
        try Self.environmentDumper.write(toFile: script, atomically: true, encoding: .utf8)
        let python = CLIHarness.packageRoot.appendingPathComponent(".venv-mcp1/bin/python").path   // a real interpreter, not a shim that adds variables
        try h.ok(["app", "add", "files", "--env", "local", "--command", "\(python) \(script) \(dump)", "--env-var", "API_KEY=env:FILES_API_KEY"])
        // The operator's shell holds cloud credentials; only the upstream's own reference may reach it.
        let r = try h.run(["doctor", "--json"], env: ["AWS_SECRET_ACCESS_KEY": "operator-cloud-secret", "FILES_API_KEY": "files-key"])
        #expect(try checks(r)["upstream files/local"]?["status"] as? String == "ok", "\(r.stdout)")
        let seen = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dump))) as? [String: String])
        #expect(seen["AWS_SECRET_ACCESS_KEY"] == nil && seen["FILES_API_KEY"] == nil, "the operator's environment leaked: \(seen.keys.sorted())")
        #expect(seen["API_KEY"] == "files-key" && seen["PATH"] != nil)
        // Python may add LC_CTYPE itself (PEP 538); nothing else beyond serve's list.
        #expect(Set(seen.keys).subtracting(["PATH", "HOME", "LANG", "TZ", "API_KEY", "LC_CTYPE"]).isEmpty, "\(seen.keys.sorted())")
    }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }

    static func freePort() -> Int {
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
}
