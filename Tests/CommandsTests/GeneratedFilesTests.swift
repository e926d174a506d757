import Commands
import Foundation
import Testing

/// The committed completions and man page are exactly what the binary's command table renders.
/// Run with MCPCTL_REGENERATE=1 to rewrite them after changing the table.
@Suite struct GeneratedFilesTests {
    static let files = [("bash", "completions/mcpctl.bash"), ("zsh", "completions/_mcpctl"), ("fish", "completions/mcpctl.fish")]

    static func check(_ relative: String, _ generated: String) throws {
        let url = CLIHarness.packageRoot.appendingPathComponent(relative)
        if ProcessInfo.processInfo.environment["MCPCTL_REGENERATE"] == "1" {
            try generated.write(to: url, atomically: true, encoding: .utf8)
        }
        let committed = try String(contentsOf: url, encoding: .utf8)
        #expect(committed == generated, "\(relative) drifted from the command table: run MCPCTL_REGENERATE=1 swift test --filter GeneratedFilesTests")
    }

    @Test(arguments: files) func completionFileMatchesTheBinary(shell: String, path: String) throws {
        let h = CLIHarness()
        let r = try h.ok(["completion", shell])
        try GeneratedFilesTests.check(path, r.stdout)
    }

    @Test func manPageMatchesTheCommandTable() throws {
        try GeneratedFilesTests.check("man/mcpctl.1", ManPage.render())
    }

    @Test func manPageDocumentsEveryCommandAndOption() throws {
        let man = try String(contentsOf: CLIHarness.packageRoot.appendingPathComponent("man/mcpctl.1"), encoding: .utf8)
            .replacingOccurrences(of: "\\-", with: "-")
        for (path, command) in CommandTable.parser.allCommands() where !path.isEmpty {
            #expect(man.contains("mcpctl " + path.joined(separator: " ")), "man page lacks \(path)")
            for option in command.options { #expect(man.contains("--" + option.long), "man page lacks --\(option.long) of \(path)") }
        }
        for section in ["ENVIRONMENT", "FILES", "EXIT STATUS", "MCPCTL_DB"] { #expect(man.contains(section)) }
    }

    @Test func manPageRendersWithoutWarnings() throws {
        guard let groff = ["/usr/bin/groff"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            Issue.record("groff is not installed (the CI setup installs groff-base)")
            return
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: groff)
        p.arguments = ["-man", "-Tutf8", "-ww", "-z", CLIHarness.packageRoot.appendingPathComponent("man/mcpctl.1").path]
        let err = Pipe()
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        let warnings = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 0 && warnings.isEmpty, "groff: \(warnings)")
    }

    @Test(arguments: [("bash", ["-c", "source \"$0\" && complete -p mcpctl"]),
                      ("zsh", ["-c", "autoload -U compinit && compinit -u -D && source \"$0\""]),
                      ("fish", ["-c", "source $argv[1]; or exit 1; complete -C 'mcpctl tok'"])])
    func completionLoadsInItsShell(shell: String, args: [String]) throws {
        let path = "/usr/bin/\(shell)"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            Issue.record("\(shell) is not installed (the CI setup installs bash, zsh and fish)")
            return
        }
        let file = CLIHarness.packageRoot.appendingPathComponent(GeneratedFilesTests.files.first { $0.0 == shell }!.1).path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = shell == "fish" ? args + [file] : args + [file]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.environment = ["HOME": FileManager.default.temporaryDirectory.path, "PATH": "/usr/bin:/bin"]
        try p.run()
        p.waitUntilExit()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 0 && stderr.isEmpty, "\(shell): \(stderr)")
        if shell == "fish" { #expect(stdout.contains("token")) }
    }
}
