import Foundation

/// Tests/Interop/keyed_server.py, the upstream that insists on its own API key and whose tools change
/// between starts, started by the interop harness.
extension InteropHarness {
    static let keyedServer = scripts.appendingPathComponent("keyed_server.py").path

    /// Starts keyed_server.py over HTTP with `args`; returns the process and its port.
    func startKeyedUpstream(_ args: [String]) throws -> (process: Process, port: Int) {
        let (p, out, err) = try spawn(try InteropHarness.python("mcp1"), [InteropHarness.keyedServer, "--transport", "http", "--port", "0"] + args)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("READY ") }), let port = Int(line.dropFirst(6)) { return (p, port) }
            if !p.isRunning { break }
            usleep(50_000)
        }
        throw HarnessError("keyed upstream did not start: \((try? String(contentsOf: err, encoding: .utf8)) ?? "")")
    }

    /// Stops a child this harness started and waits for it (SIGKILL: uvicorn may wait on the gateway's
    /// pooled keep-alive connections for ever).
    func stopNow(_ p: Process) {
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
    }

    /// Writes `text` to a new file in the test's directory with `mode`; returns its path.
    func file(_ name: String, _ text: String, mode: Int = 0o600) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try? FileManager.default.removeItem(atPath: path)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    /// Every byte mcpctl wrote about this test: the store (and its WAL), the audit export and `files`.
    func everythingWritten(also files: [URL] = []) throws -> String {
        var all = Data()
        let storeDir = URL(fileURLWithPath: dbPath).deletingLastPathComponent()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: storeDir.path)) ?? [] {
            all += (try? Data(contentsOf: storeDir.appendingPathComponent(name))) ?? Data()
        }
        for f in files { all += (try? Data(contentsOf: f)) ?? Data() }
        all += Data(try run(InteropHarness.binary, ["audit", "export"]).stdout.utf8)
        return String(decoding: all, as: UTF8.self)
    }
}
