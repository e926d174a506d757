import Foundation
import MCPAuth
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Text from outside through the real binary: it never reaches a terminal raw, bad names and addresses
/// are refused with the store unchanged, and JSON output stays valid with the same characters escaped.
@Suite struct HostileInputCLITests {
    /// Characters that act on a terminal instead of being shown: ESC (CSI/OSC sequences), BEL, CR, LF,
    /// TAB, DEL, the C1 CSI, and bidirectional overrides and isolates.
    static let attack: [Unicode.Scalar] = ["\u{1B}", "\u{07}", "\r", "\n", "\t", "\u{7F}", "\u{9B}", "\u{202E}", "\u{2066}"]
    static let hostile = "evil\u{1B}]0;pwned\u{07}\u{1B}[2J\r\nFAKE\tROW\u{7F}\u{9B}31m\u{202E}exe.txt\u{2066}"

    /// Every attack character in `text` other than the line breaks that end lines.
    static func raw(_ text: String) -> [Unicode.Scalar] {
        text.unicodeScalars.filter { $0 != "\n" && attack.contains($0) }
    }

    static func expectEscaped(_ r: CLIResult, lines: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(raw(r.stdout).isEmpty, "raw control characters reached stdout: \(r.stdout.debugDescription)", sourceLocation: sourceLocation)
        #expect(raw(r.stderr).isEmpty, "raw control characters reached stderr: \(r.stderr.debugDescription)", sourceLocation: sourceLocation)
        #expect(r.stdout.contains("\\x1b") && r.stdout.contains("\\u202e") && r.stdout.contains("\\x9b") && r.stdout.contains("\\n"),
                "escapes missing: \(r.stdout)", sourceLocation: sourceLocation)
        if let lines { #expect(r.lines.count == lines, "a newline in a value made extra lines: \(r.stdout)", sourceLocation: sourceLocation) }
    }

    /// A gateway-style audit row whose method, tool and reason came from a hostile client.
    func hostileAuditRow(_ h: CLIHarness) throws {
        try h.ok(["init"])
        let store = try Store(path: h.dbPath)
        try AuditLog.append(AuditEvent(source: .mcp, action: "tools/call", email: "eve@example.com", clientID: Self.hostile,
                                       app: "notes", env: "prod", method: "tools/call" + Self.hostile, tool: Self.hostile,
                                       decision: .deny, reason: Self.hostile, status: 403), to: store.db)
    }

    @Test func auditListAndTailShowControlCharactersAndBidiOverridesAsVisibleEscapes() throws {
        let h = CLIHarness()
        try hostileAuditRow(h)
        Self.expectEscaped(try h.ok(["audit", "list", "--source", "mcp"]), lines: 2)
        Self.expectEscaped(try h.ok(["audit", "tail", "--source", "mcp"]), lines: 1)
    }

    @Test func auditJSONStaysValidWithControlAndBidiCharactersEscaped() throws {
        let h = CLIHarness()
        try hostileAuditRow(h)
        for args in [["audit", "list", "--source", "mcp", "--json"], ["audit", "tail", "--source", "mcp", "--json"],
                     ["audit", "export", "--source", "mcp"]] {
            let r = try h.ok(args)
            #expect(Self.raw(r.stdout).isEmpty, "\(args): \(r.stdout.debugDescription)")
            #expect(r.stdout.contains("\\u202e") && r.stdout.contains("\\u001b") && r.stdout.contains("\\u009b"))
            let line = try #require(r.stdout.split(separator: "\n").last.map(String.init))
            let value = try JSONSerialization.jsonObject(with: Data(line.utf8))
            let event = try #require((value as? [[String: Any]])?.first ?? value as? [String: Any])
            #expect(event["reason"] as? String == Self.hostile, "the JSON value must be the stored text, escaped losslessly")
        }
    }

    @Test func userTokenAndClientListsEscapeNamesStoredBeforeNamesWereChecked() throws {
        let h = CLIHarness()
        try h.user()
        let token = try h.token()
        let store = try Store(path: h.dbPath)
        _ = try Clients(store: store).register(name: "Plain", redirectURIs: ["http://127.0.0.1/cb"], confidential: false, registration: .cli)
        try store.db.run("UPDATE users SET name = ?", [.text(Self.hostile)])
        try store.db.run("UPDATE tokens SET name = ?", [.text(Self.hostile)])
        try store.db.run("UPDATE clients SET name = ?", [.text(Self.hostile)])
        Self.expectEscaped(try h.ok(["user", "list"]), lines: 2)
        Self.expectEscaped(try h.ok(["token", "list"]), lines: 2)
        Self.expectEscaped(try h.ok(["client", "list"]), lines: 2)
        Self.expectEscaped(try h.ok(["user", "show", "alice@example.com"]))
        Self.expectEscaped(try h.ok(["token", "show", token.id]))
        let json = try h.ok(["user", "list", "--json"])
        #expect(Self.raw(json.stdout).isEmpty)
        #expect(try json.jsonArray().first?["name"] as? String == Self.hostile)
    }

    @Test func errorMessagesQuoteHostileArgumentsEscaped() throws {
        let h = CLIHarness()
        try h.ok(["init"])
        for args in [["user", "show", "\u{1B}[2J\u{202E}x@example.com"], ["token", "list", "--emial\u{1B}[2J"]] {
            let r = try h.run(args)
            #expect(r.status != 0)
            #expect(Self.raw(r.stderr).isEmpty, "\(r.stderr.debugDescription)")
            #expect(r.stderr.contains("\\x1b"))
        }
    }

    @Test(arguments: ["Eve\u{1B}[31m", "Alice\nBob", "Carol\rMallory", "tab\tname", "gnp\u{202E}exe", "iso\u{2067}late",
                      "c1\u{9B}2J", String(repeating: "n", count: 257)])
    func userAddRefusesHostileNamesAndChangesNothing(name: String) throws {
        let h = CLIHarness()
        try h.ok(["init"])
        let head = try h.ok(["audit", "head"]).stdout
        let r = try h.run(["user", "add", "eve@example.com", "--name", name])
        #expect(r.status == 1)
        #expect(r.stderr.contains("Error:") && r.stderr.contains("name"))
        #expect(Self.raw(r.stderr).isEmpty)
        #expect(try h.ok(["user", "list", "--json"]).jsonArray().isEmpty)
        #expect(try h.ok(["audit", "head"]).stdout == head)
    }

    @Test func userAddAcceptsANameOf256Characters() throws {
        let h = CLIHarness()
        let name = String(repeating: "ü", count: 256)
        try h.ok(["user", "add", "zoe@example.com", "--name", name])
        #expect(try h.ok(["user", "list", "--json"]).jsonArray().first?["name"] as? String == name)
    }

    @Test(arguments: ["http://h:99999/mcp", "http://h:0/mcp", "http://h:65536/mcp", "http://h:123456789012345678901/mcp",
                      "http://h:-1/mcp", "http://[::1]:70000/mcp", "nonsense"])
    func appAddRefusesMalformedUpstreamsAsUsageErrors(url: String) throws {
        let h = CLIHarness()
        try h.ok(["init"])
        let before = try h.ok(["app", "list", "--json"]).jsonArray().count
        let r = try h.run(["app", "add", "notes", "--env", "prod", "--upstream", url])
        #expect(r.status == 64, "\(url): \(r.stderr)")
        #expect(r.stderr.contains("--upstream"))
        #expect(try h.ok(["app", "list", "--json"]).jsonArray().count == before)
    }

    @Test func appAddAcceptsPorts1And65535() throws {
        let h = CLIHarness()
        try h.ok(["app", "add", "notes", "--env", "low", "--upstream", "http://127.0.0.1:1/mcp"])
        try h.ok(["app", "add", "notes", "--env", "high", "--upstream", "http://127.0.0.1:65535/mcp"])
    }

    @Test func serveRefusesAListenPortAbove65535ButPicksAFreePortFor0() throws {
        let h = CLIHarness()
        try h.ok(["init"])
        for bad in ["127.0.0.1:99999", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:"] {
            let r = try h.run(["serve", "--listen", bad])
            #expect(r.status == 64, "\(bad): \(r.stderr)")
        }
        let log = h.dir.appendingPathComponent("serve.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLIHarness.binary)
        p.arguments = ["serve", "--listen", "127.0.0.1:0"]
        p.environment = h.environment
        p.standardError = try FileHandle(forWritingTo: log)
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { p.terminate() }; p.waitUntilExit() }
        var seen = ""
        let deadline = Date().addingTimeInterval(30)
        while !seen.contains("listening"), p.isRunning, Date() < deadline {
            usleep(20_000)
            seen = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        }
        #expect(seen.contains("listening"), "serve --listen 127.0.0.1:0 did not start: \(seen)")
    }

    /// The status line of a request sent to 127.0.0.1:`port` over a plain socket ("" when none came).
    static func statusLine(port: Int, _ request: String) -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var wait = timeval(tv_sec: 10, tv_usec: 0)  // a server that hangs fails the test instead of hanging it
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0, send(fd, request, request.utf8.count, 0) == request.utf8.count else { return "" }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return "" }
        return String(decoding: buffer[0..<n], as: UTF8.self).components(separatedBy: "\r\n").first ?? ""
    }

    @Test func serveKeepsAnsweringWhenWhatReadsItsStderrIsGone() throws {
        let h = CLIHarness()
        try h.ok(["init"])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLIHarness.binary)
        p.arguments = ["serve", "--listen", "127.0.0.1:0", "--log-level", "info"]
        p.environment = h.environment
        let stderr = Pipe()
        // No other child started meanwhile by a test running beside this one keeps a copy of the read end
        // (serve gets its write end as fd 2, a dup without the flag).
        for end in [stderr.fileHandleForReading, stderr.fileHandleForWriting] { _ = fcntl(end.fileDescriptor, F_SETFD, FD_CLOEXEC) }
        p.standardError = stderr
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { p.terminate() }; p.waitUntilExit() }
        // Read up to the "listening" line (for at most 30 s), then close the only read end of the pipe.
        var seen = ""
        let deadline = Date().addingTimeInterval(30)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !seen.contains("public_url"), Date() < deadline {
            var ready = pollfd(fd: stderr.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 200) == 1 else { continue }
            let n = read(stderr.fileHandleForReading.fileDescriptor, &buffer, buffer.count)
            if n <= 0 { break }
            seen += String(decoding: buffer[0..<n], as: UTF8.self)
        }
        let port = try #require(seen.firstMatch(of: /address=127\.0\.0\.1:(\d+)/).flatMap { Int($0.1) }, "no listening line: \(seen)")
        try stderr.fileHandleForReading.close()
        // Every request below logs a line at info level into a pipe nobody reads any more (EPIPE).
        for _ in 0..<5 {
            #expect(Self.statusLine(port: port, "POST /mcp/x/y HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").hasPrefix("HTTP/1.1 401"))
            usleep(100_000)
        }
        #expect(Self.statusLine(port: port, "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n") == "HTTP/1.1 200 OK")
        #expect(p.isRunning)
    }
}
