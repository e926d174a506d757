import Foundation
import MCPAuth
import Testing

/// Runs the real `mcpctl` binary, `mcpctl serve`, and the Python MCP SDK scripts in Tests/Interop.
final class InteropHarness: @unchecked Sendable {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let scripts = root.appendingPathComponent("Tests/Interop")

    static let binary: String = {
        let fm = FileManager.default
        if let b = ProcessInfo.processInfo.environment["MCPCTL_BIN"], fm.isExecutableFile(atPath: b) { return b }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("mcpctl").path
            if fm.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return root.appendingPathComponent(".build/release/mcpctl").path
    }()

    /// The interpreter of one of the venvs made by .ci/setup-python ("mcp1" or "mcp2").
    static func python(_ sdk: String) throws -> String {
        let path = root.appendingPathComponent(".venv-\(sdk)/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw HarnessError("missing \(path): run .ci/setup-python (bash .ci/test does)")
        }
        return path
    }

    struct HarnessError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    let dir: URL
    let dbPath: String
    var environment: [String: String]
    private var children: [Process] = []
    private let lock = NSLock()

    init() {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mcpctl-interop-" + UUID().uuidString)
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        dbPath = InteropHarness.postgresURL.map(InteropHarness.freshSchema) ?? dir.appendingPathComponent("store/mcpctl.db").path
        var env = ProcessInfo.processInfo.environment
        env["MCPCTL_DB"] = dbPath
        env["NO_COLOR"] = "1"
        env.removeValue(forKey: "MCPCTL_PUBLIC_URL")
        env.removeValue(forKey: "MCPCTL_LISTEN")
        environment = env
    }

    /// The PostgreSQL database the suite runs against (`.ci/postgres` sets `MCPCTL_TEST_DB`), if any: each
    /// harness then gets a new empty schema there instead of a SQLite file.
    static let postgresURL: String? = ProcessInfo.processInfo.environment["MCPCTL_TEST_DB"].flatMap { $0.isEmpty ? nil : $0 }
    /// Whether stores are SQLite files (tests of files, modes, backups and the README's walkthrough apply only then).
    static var isSQLite: Bool { postgresURL == nil }

    /// A URL naming a new empty schema in the database `url` names.
    static func freshSchema(_ url: String) -> String {
        let schema = "i" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        do { try Database(path: url).execute("CREATE SCHEMA \(schema)") } catch { Issue.record("cannot create schema: \(error)") }
        return url + (url.contains("?") ? "&" : "?") + "options=-csearch_path%3D" + schema
    }

    deinit {
        for p in children where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: dir)
    }

    struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
        func json() -> [String: Any] {
            let line = stdout.split(separator: "\n").last.map(String.init) ?? ""
            return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        }
    }

    /// Runs a program to completion (bounded by `timeout`).
    func run(_ executable: String, _ args: [String], timeout: Double = 90) throws -> Output {
        let (p, out, err) = try spawn(executable, args)
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(5000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    @discardableResult
    func mcpctl(_ args: [String]) throws -> Output {
        let r = try run(InteropHarness.binary, args)
        if r.status != 0 { throw HarnessError("mcpctl \(args.joined(separator: " ")) failed: \(r.stderr)") }
        return r
    }

    /// Starts a child whose stdout and stderr go to files; returns it and those files.
    func spawn(_ executable: String, _ args: [String]) throws -> (Process, URL, URL) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        p.environment = environment
        let out = dir.appendingPathComponent("spawn-o-" + UUID().uuidString), err = dir.appendingPathComponent("spawn-e-" + UUID().uuidString)
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        p.standardInput = FileHandle.nullDevice
        try p.run()
        lock.lock(); children.append(p); lock.unlock()
        return (p, out, err)
    }

    /// Starts Tests/Interop/upstream_server.py over HTTP and returns its port (it prints `READY <port>`).
    func startUpstream(python: String) throws -> Int {
        let (p, out, err) = try spawn(python, [InteropHarness.scripts.appendingPathComponent("upstream_server.py").path,
                                               "--transport", "http", "--port", "0", "--log-level", "WARNING"])
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("READY ") }), let port = Int(line.dropFirst(6)) { return port }
            if !p.isRunning { break }
            usleep(50_000)
        }
        throw HarnessError("upstream did not start: \((try? String(contentsOf: err, encoding: .utf8)) ?? "")")
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Starts `mcpctl serve` on a free loopback port (or `port`, to restart on the same address) and waits
    /// for /healthz; returns the base URL.
    func startServer(_ extra: [String] = [], port chosen: Int? = nil) throws -> (url: String, process: Process, log: URL) {
        let port = chosen ?? InteropHarness.freePort()
        let (p, _, err) = try spawn(InteropHarness.binary, ["serve", "--listen", "127.0.0.1:\(port)"] + extra)
        let base = "http://127.0.0.1:\(port)"
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let data = try? Data(contentsOf: URL(string: base + "/healthz")!), String(decoding: data, as: UTF8.self).contains("ok") {
                return (base, p, err)
            }
            if !p.isRunning { break }
            usleep(50_000)
        }
        throw HarnessError("serve did not start: \((try? String(contentsOf: err, encoding: .utf8)) ?? "")")
    }

    /// Adds a user with a password (given on stdin, as a person would type it).
    func addUser(_ email: String, password: String) throws {
        let add = try run("/bin/sh", ["-c", "printf '%s\\n' \"$1\" | \"$0\" user add \"$2\" --password-stdin", InteropHarness.binary, password, email])
        if add.status != 0 { throw HarnessError("user add \(email) failed: \(add.stderr)") }
    }

    /// Stops a child with SIGTERM and waits for it (a server restart keeps the store).
    func stop(_ p: Process) {
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
    }

    /// Runs Tests/Interop/client_check.py (the MCP SDK's own client) and returns exit code and its JSON line.
    func client(_ python: String, url: String, headers: [String], _ action: [String]) throws -> (Int32, [String: Any]) {
        var args = [InteropHarness.scripts.appendingPathComponent("client_check.py").path, "--url", url, "--timeout", "40"]
        for h in headers { args += ["--header", h] }
        let r = try run(python, args + action)
        return (r.status, r.json())
    }
}

extension InteropHarness {
    /// The HTTP status of an MCP `initialize` sent with this bearer token (curl, so no client library decides).
    func initializeStatus(_ url: String, _ token: String) throws -> Int {
        let body = #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}"#
        let r = try run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", url, "-H", "Authorization: Bearer \(token)",
                                          "-H", "Content-Type: application/json", "-H", "Accept: application/json, text/event-stream", "-d", body])
        return Int(r.stdout) ?? -1
    }

    /// The gateway's audit rows (source mcp), newest first, as `audit list --json` gives them.
    func mcpAuditRows() throws -> [[String: Any]] {
        try JSONSerialization.jsonObject(with: Data(try mcpctl(["audit", "list", "--source", "mcp", "--limit", "1000", "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
    }
}
