import Foundation
import Testing

/// The documentation is a test: every shell example of README.md and every man page example runs as
/// written (Tests/Docs/run_examples.py), in order, in a throwaway HOME and store, against the binary
/// under test. An example that exits non-zero without its text announcing it fails here.
@Suite("Documentation examples", .serialized)
struct DocsExamplesTests {
    static let runner = InteropHarness.root.appendingPathComponent("Tests/Docs/run_examples.py").path

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", runner, "--bin", InteropHarness.binary] + arguments
        p.currentDirectoryURL = InteropHarness.root
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func everyReadmeExampleRunsAsWritten() throws {
        let readme = InteropHarness.root.appendingPathComponent("README.md").path
        let (status, output) = try DocsExamplesTests.run(["--readme", readme])
        #expect(status == 0, "README examples failed:\n\(output)")
        #expect(output.contains(" commands, 0 failed"), "\(output)")
    }

    @Test func everyManPageExampleRunsAsWritten() throws {
        let man = InteropHarness.root.appendingPathComponent("man/mcpctl.1").path
        let (status, output) = try DocsExamplesTests.run(["--man", man])
        #expect(status == 0, "man page examples failed:\n\(output)")
        #expect(output.contains(" commands, 0 failed"), "\(output)")
    }

    /// The runner itself must catch a failing example, or the two tests above prove nothing.
    @Test func aFailingExampleFailsTheRun() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mcpctl-docs-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let doc = dir.appendingPathComponent("doc.md")
        try """
            ```sh
            mcpctl user add a@example.com
            mcpctl can-i a@example.com read --app nope --env x     # exits 1: no grant
            mcpctl token revoke tok_doesnotexist
            ```
            """.write(to: doc, atomically: true, encoding: .utf8)
        let (status, output) = try DocsExamplesTests.run(["--readme", doc.path])
        #expect(status == 1, "\(output)")
        #expect(output.contains("ok    doc.md:3 (exit 1, announced)"), "\(output)")
        #expect(output.contains("FAIL  doc.md:4: exit 1"), "\(output)")
        #expect(output.contains("3 commands, 1 failed"), "\(output)")
    }
}
