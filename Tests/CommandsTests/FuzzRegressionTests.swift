import Commands
import Testing

/// Inputs the fuzz targets under Tests/Fuzz found to break a property, kept so the fix stays.
@Suite("Fuzz regressions (Commands)")
struct FuzzRegressionTests {
    /// FuzzArguments: `--expires=\u{33D}h` was read as an unknown option named `expires=̽h`, because `=`
    /// followed by a combining mark is one Character; the same value as a separate word was accepted.
    @Test func anAttachedValueStartingWithACombiningMarkIsSplitOffItsOptionName() throws {
        let parser = CommandTable.parser
        let words = ["token", "create", "--email=a@example.com", "--app=notes", "--json"]
        guard case .run(let attached) = try parser.parse(words + ["--expires=\u{33D}h"]),
              case .run(let separate) = try parser.parse(words + ["--expires", "\u{33D}h"]) else {
            Issue.record("token create did not parse to a command")
            return
        }
        #expect(attached.value("expires") == "\u{33D}h")
        #expect(attached == separate)
    }

    @Test func aShortOptionsAttachedValueStartingWithACombiningMarkIsSplitOffToo() throws {
        let parser = SampleTable.make()
        guard case .run(let command) = try parser.parse(["token", "create", "-e=\u{301}ada"]) else {
            Issue.record("token create did not parse to a command")
            return
        }
        #expect(command.value("email") == "\u{301}ada")
    }
}
