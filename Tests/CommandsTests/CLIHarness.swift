import Foundation
import MCPAuth
import Testing

/// What one run of the built `mcpctl` binary printed and returned.
struct CLIResult {
    let stdout: String
    let stderr: String
    let status: Int32

    var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    func json() throws -> Any { try JSONSerialization.jsonObject(with: Data(stdout.utf8), options: [.fragmentsAllowed]) }
    func jsonObject() throws -> [String: Any] { try #require(try json() as? [String: Any], "stdout was not a JSON object: \(stdout)") }
    func jsonArray() throws -> [[String: Any]] { try #require(try json() as? [[String: Any]], "stdout was not a JSON array: \(stdout)") }
}

/// A fresh temporary store and a way to run the real binary against it.
final class CLIHarness: @unchecked Sendable {
    let dir: URL
    let dbPath: String
    var environment: [String: String]

    static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The binary under test: `$MCPCTL_BIN`, else the one next to the test bundle, else the newest under .build.
    static let binary: String = {
        let fm = FileManager.default
        if let b = ProcessInfo.processInfo.environment["MCPCTL_BIN"], fm.isExecutableFile(atPath: b) { return b }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("mcpctl").path
            if fm.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        let candidates = [".build/release/mcpctl", ".build/debug/mcpctl"].map { packageRoot.appendingPathComponent($0).path }
            .filter { fm.isExecutableFile(atPath: $0) }
        let newest = candidates.max { a, b in
            let da = (try? fm.attributesOfItem(atPath: a)[.modificationDate] as? Date) ?? .distantPast
            let db = (try? fm.attributesOfItem(atPath: b)[.modificationDate] as? Date) ?? .distantPast
            return da < db
        }
        return newest ?? "mcpctl"
    }()

    init() {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mcpctl-test-" + UUID().uuidString)
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        dbPath = CLIHarness.postgresURL.map(CLIHarness.freshSchema) ?? dir.appendingPathComponent("store/mcpctl.db").path
        var env = ProcessInfo.processInfo.environment
        env["MCPCTL_DB"] = dbPath
        env["NO_COLOR"] = "1"
        env["HOME"] = dir.path
        env.removeValue(forKey: "XDG_DATA_HOME")
        environment = env
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// `MCPCTL_TEST_DB=postgresql://…` (set by `.ci/postgres`) runs the CLI suites against PostgreSQL: each
    /// harness's store is a new empty schema there, which `MCPCTL_DB` names.
    static let postgresURL: String? = ProcessInfo.processInfo.environment["MCPCTL_TEST_DB"].flatMap { $0.isEmpty ? nil : $0 }
    /// Whether stores are SQLite files (tests of files, modes and backups apply only then).
    static var isSQLite: Bool { postgresURL == nil }

    /// A URL naming a new empty schema in the database `url` names (created with psql-free MCPAuth).
    static func freshSchema(_ url: String) -> String {
        let schema = "c" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        do { try Database(path: url).execute("CREATE SCHEMA \(schema)") } catch { Issue.record("cannot create schema: \(error)") }
        return url + (url.contains("?") ? "&" : "?") + "options=-csearch_path%3D" + schema
    }

    /// Runs `mcpctl ARGS…` with optional stdin; never hangs longer than `timeout`.
    @discardableResult
    func run(_ args: [String], stdin: String? = nil, env extra: [String: String] = [:], timeout: Double = 60) throws -> CLIResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLIHarness.binary)
        p.arguments = args
        p.environment = environment.merging(extra) { $1 }
        let outURL = dir.appendingPathComponent("out-\(UUID().uuidString)")
        let errURL = dir.appendingPathComponent("err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        p.standardOutput = out
        p.standardError = err
        let input = Pipe()
        p.standardInput = input
        try p.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(2000) }
        if p.isRunning { p.terminate(); Issue.record("mcpctl \(args.joined(separator: " ")) timed out") }
        p.waitUntilExit()
        try out.close(); try err.close()
        let stdout = String(decoding: try Data(contentsOf: outURL), as: UTF8.self)
        let stderr = String(decoding: try Data(contentsOf: errURL), as: UTF8.self)
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
        return CLIResult(stdout: stdout, stderr: stderr, status: p.terminationStatus)
    }

    /// Runs and expects exit 0, recording stderr otherwise.
    @discardableResult
    func ok(_ args: [String], stdin: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> CLIResult {
        let r = try run(args, stdin: stdin)
        #expect(r.status == 0, "mcpctl \(args.joined(separator: " ")) failed: \(r.stderr)", sourceLocation: sourceLocation)
        return r
    }

    /// Adds a user (no password) and returns its email.
    @discardableResult
    func user(_ email: String = "alice@example.com") throws -> String {
        try ok(["user", "add", email])
        return email
    }

    /// Creates a personal token and returns (secret, id).
    func token(_ email: String = "alice@example.com", _ extra: [String] = []) throws -> (secret: String, id: String) {
        let r = try ok(["token", "create", "--email", email, "--json"] + extra)
        let j = try r.jsonObject()
        return (j["token"] as? String ?? "", j["id"] as? String ?? "")
    }
}
