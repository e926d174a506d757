import Commands
import Testing

/// A command table shaped like mcpctl's: nested groups, options with values, flags, repeating
/// options, optional and repeating arguments, completion hints and global options.
enum SampleTable {
    static func make(program: String = "mcpctl", root: CommandSpec = SampleTable.root, globals: [OptionSpec] = SampleTable.globals) -> ArgumentParser {
        ArgumentParser(program: program, version: "1.2.3", root: root, globalOptions: globals)
    }

    static let globals = [
        OptionSpec("db", value: "PATH", help: "Path of the SQLite store (default: ~/.mcpctl/mcpctl.db).", completion: .file),
        OptionSpec("json", help: "Print one JSON value on stdout."),
    ]

    static let email = OptionSpec("email", short: "e", value: "EMAIL", help: "Only credentials of this user.")

    static let root = CommandSpec(
        "mcpctl",
        abstract: "Authentication, authorization and audit for MCP servers.",
        discussion: """
            mcpctl administers the store that 'mcpctl serve' reads: users, tokens, connected
            applications, grants and the audit log.

            Every command accepts --db and --json.
            """,
        subcommands: [
            CommandSpec("init", abstract: "Create the store."),
            CommandSpec("user", abstract: "Manage users.", subcommands: [
                CommandSpec(
                    "add", abstract: "Add a user.",
                    arguments: [ArgumentSpec("EMAIL", help: "The user's email address.")],
                    options: [
                        OptionSpec("name", short: "n", value: "NAME", help: "Display name."),
                        OptionSpec("password-stdin", help: "Read the password from standard input."),
                    ]
                ),
                CommandSpec("list", abstract: "List users."),
            ]),
            CommandSpec("token", abstract: "Manage personal access tokens.", subcommands: [
                CommandSpec(
                    "create", abstract: "Create a token and print its secret.",
                    discussion: """
                        Only the secret goes to stdout, so T=$(mcpctl token create ...) works; a one-line
                        summary goes to stderr.
                        """,
                    options: [
                        OptionSpec("email", short: "e", value: "EMAIL", help: "Owner of the token.", required: true),
                        OptionSpec("name", value: "NAME", help: "A name to recognise the token by."),
                        OptionSpec("scopes", value: "SCOPES", help: "Comma-separated scopes.", completion: .values(["read", "write", "delete"])),
                        OptionSpec("print-config", help: "Print the MCP client configuration block."),
                    ],
                    examples: ["mcpctl token create --email ada@example.com --scopes read,write"]
                ),
                CommandSpec("list", abstract: "List tokens.", options: [email, OptionSpec("all", short: "a", help: "Include revoked and expired tokens.")]),
                CommandSpec(
                    "revoke", abstract: "Revoke tokens by id or secret.",
                    arguments: [ArgumentSpec("ID", help: "Token ids or secrets.", optional: true, repeating: true)],
                    options: [email, OptionSpec("all", help: "Every credential of --email.")]
                ),
                CommandSpec(
                    "scan", abstract: "Find tokens in files or standard input.",
                    arguments: [ArgumentSpec("FILE", help: "Files to scan; '-' or none reads stdin.", optional: true, repeating: true, completion: .file)]
                ),
            ]),
            CommandSpec("tool", abstract: "Inspect tools and set their scopes.", subcommands: [
                CommandSpec("scope", abstract: "Set the scope a tool requires.", arguments: [
                    ArgumentSpec("APP", help: "The application."),
                    ArgumentSpec("TOOL", help: "The tool name."),
                    ArgumentSpec("SCOPE", help: "read, write, delete or auto.", completion: .values(["read", "write", "delete", "auto"])),
                ]),
            ]),
            CommandSpec("app", abstract: "Manage applications.", subcommands: [
                CommandSpec("link", abstract: "Link two environments.", arguments: [
                    ArgumentSpec("FROM", help: "Source environment."),
                    ArgumentSpec("VIA", help: "Optional hop.", optional: true),
                    ArgumentSpec("TO", help: "Target environment."),
                ]),
            ]),
            CommandSpec("client", abstract: "Manage connected applications.", subcommands: [
                CommandSpec("register", abstract: "Register an OAuth client.", options: [
                    OptionSpec("name", value: "NAME", help: "Client name.", required: true),
                    OptionSpec("redirect-uri", value: "URI", help: "An allowed redirect URI.", repeating: true, required: true),
                    OptionSpec("confidential", help: "Issue a client secret."),
                ]),
            ]),
            CommandSpec("audit", abstract: "Query and export the audit log.", subcommands: [
                CommandSpec("tail", abstract: "Print the newest events.", options: [
                    OptionSpec("follow", short: "f", help: "Keep printing new events."),
                    OptionSpec("verbose", short: "v", help: "More detail; repeat for more.", repeating: true),
                    OptionSpec("limit", short: "l", value: "N", help: "How many events."),
                ]),
                CommandSpec(
                    "export", abstract: "Export events.",
                    arguments: [ArgumentSpec("DIR", help: "Directory to write to.", optional: true, completion: .directory)],
                    options: [
                        OptionSpec("format", value: "FORMAT", help: "Output format.", completion: .values(["jsonl", "csv"])),
                        OptionSpec("source", value: "SOURCE", help: "Only this source.", repeating: true, completion: .values(["mcp", "oauth", "cli"])),
                    ]
                ),
            ]),
            CommandSpec(
                "completion", abstract: "Print a shell completion script.",
                arguments: [ArgumentSpec("SHELL", help: "bash, zsh or fish.", completion: .values(["bash", "zsh", "fish"]))]
            ),
        ]
    )
}

/// Parses and expects a command to run.
private func run(_ words: [String], _ parser: ArgumentParser = SampleTable.make()) throws -> ParsedCommand {
    let outcome = try parser.parse(words)
    guard case .run(let command) = outcome else {
        Issue.record("expected .run, got \(outcome)")
        return ParsedCommand(path: [])
    }
    return command
}

/// Parses and expects a usage error.
private func failure(_ words: [String], _ parser: ArgumentParser = SampleTable.make()) -> UsageError? {
    do {
        let outcome = try parser.parse(words)
        Issue.record("expected a usage error, got \(outcome)")
        return nil
    } catch {
        return error
    }
}

// MARK: - Commands, options and values

@Test func aNestedSubcommandIsParsedWithItsOptions() throws {
    let command = try run(["token", "create", "--email", "ada@example.com", "--name", "laptop"])
    #expect(command.path == ["token", "create"])
    #expect(command.arguments.isEmpty)
    #expect(command.value("email") == "ada@example.com")
    #expect(command.value("name") == "laptop")
    #expect(command.value("scopes") == nil)
}

@Test func anOptionValueMayBeAttachedWithEquals() throws {
    let command = try run(["token", "create", "--email=ada@example.com", "--scopes=read,write", "--name="])
    #expect(command.value("email") == "ada@example.com")
    #expect(command.value("scopes") == "read,write")
    #expect(command.value("name") == "")
}

@Test func aValueStartingWithDashIsOnlyAcceptedInEqualsForm() throws {
    let command = try run(["token", "create", "--email", "a@b", "--name=-laptop-"])
    #expect(command.value("name") == "-laptop-")
    let error = failure(["token", "create", "--email", "a@b", "--name", "-laptop-"])
    #expect(error?.message == "Missing value for '--name <NAME>'")
    #expect(error?.suggestion == "A value starting with '-' must be attached: '--name=-laptop-'.")
}

@Test func aShortOptionTakesItsValueFromTheNextWordOrAfterEquals() throws {
    #expect(try run(["token", "create", "-e", "ada@example.com"]).value("email") == "ada@example.com")
    #expect(try run(["token", "create", "-e=ada@example.com"]).value("email") == "ada@example.com")
    #expect(try run(["user", "add", "-n", "Ada", "ada@example.com"]).value("name") == "Ada")
}

@Test func shortFlagsCanBeClusteredWithAValueOptionLast() throws {
    let command = try run(["audit", "tail", "-fvv", "-vl", "20"])
    #expect(command.flag("follow"))
    #expect(command.values("verbose") == ["true", "true", "true"])
    #expect(command.value("limit") == "20")
}

@Test func flagsArePresentAsTrueAndAbsentWithoutKey() throws {
    let command = try run(["token", "list", "--all", "--json"])
    #expect(command.flag("all"))
    #expect(command.flag("json"))
    #expect(command.options["all"] == ["true"])
    #expect(!command.flag("email"))
    #expect(command.options["email"] == nil)
}

@Test func aRepeatingOptionAccumulatesItsValuesInOrder() throws {
    let command = try run([
        "client", "register", "--name", "IDE", "--redirect-uri", "http://127.0.0.1/cb", "--redirect-uri=https://example.com/cb",
    ])
    #expect(command.values("redirect-uri") == ["http://127.0.0.1/cb", "https://example.com/cb"])
    #expect(command.value("redirect-uri") == "https://example.com/cb")
}

@Test func aNonRepeatingOptionGivenTwiceKeepsTheLastValue() throws {
    let command = try run(["token", "list", "--email", "a@b", "--email", "c@d"])
    #expect(command.values("email") == ["c@d"])
    #expect(command.value("email") == "c@d")
}

@Test func doubleDashTurnsEverythingAfterItIntoPositionals() throws {
    let command = try run(["token", "revoke", "abc", "--", "--json", "-x", "--", "--help"])
    #expect(command.arguments == ["abc", "--json", "-x", "--", "--help"])
    #expect(!command.flag("json"))
}

@Test func aSingleDashIsAPositional() throws {
    let command = try run(["token", "scan", "-", "notes.txt"])
    #expect(command.arguments == ["-", "notes.txt"])
    #expect(command.argumentValues("FILE") == ["-", "notes.txt"])
}

@Test func globalOptionsAreAcceptedBeforeAfterAndBetweenCommandWords() throws {
    let before = try run(["--db", "/tmp/a.db", "--json", "token", "list"])
    #expect(before.path == ["token", "list"])
    #expect(before.value("db") == "/tmp/a.db")
    #expect(before.flag("json"))

    let after = try run(["token", "list", "--db=/tmp/b.db", "--json"])
    #expect(after.value("db") == "/tmp/b.db")
    #expect(after.flag("json"))

    let between = try run(["token", "--json", "revoke", "id1", "--db", "/tmp/c.db", "id2"])
    #expect(between.path == ["token", "revoke"])
    #expect(between.arguments == ["id1", "id2"])
    #expect(between.value("db") == "/tmp/c.db")
    #expect(between.flag("json"))
}

@Test func optionalArgumentsAreFilledLeftToRightAfterRequiredOnes() throws {
    let two = try run(["app", "link", "dev", "prod"])
    #expect(two.argument("FROM") == "dev")
    #expect(two.argument("VIA") == nil)
    #expect(two.argument("TO") == "prod")

    let three = try run(["app", "link", "dev", "stage", "prod"])
    #expect(three.argument("VIA") == "stage")
    #expect(three.argument("TO") == "prod")
}

@Test func aRepeatingArgumentTakesAllRemainingPositionals() throws {
    let command = try run(["token", "revoke", "t1", "t2", "t3"])
    #expect(command.argumentValues("ID") == ["t1", "t2", "t3"])
    let none = try run(["token", "revoke", "--email", "a@b", "--all"])
    #expect(none.argumentValues("ID").isEmpty)
    #expect(none.argument("ID") == nil)
}

// MARK: - Help and version

@Test func helpFlagsAskForHelpOfTheCommandReachedSoFar() throws {
    let parser = SampleTable.make()
    #expect(try parser.parse(["-h"]) == .help([]))
    #expect(try parser.parse(["--help"]) == .help([]))
    #expect(try parser.parse(["token", "-h"]) == .help(["token"]))
    #expect(try parser.parse(["token", "create", "--email", "a@b", "--help"]) == .help(["token", "create"]))
    #expect(try parser.parse(["--help", "token", "create"]) == .help(["token", "create"]))
}

@Test func helpWinsOverErrorsAnywhereBeforeDoubleDash() throws {
    let parser = SampleTable.make()
    #expect(try parser.parse(["token", "create", "--bogus", "--help"]) == .help(["token", "create"]))
    #expect(try parser.parse(["token", "create", "-h"]) == .help(["token", "create"]))
    #expect(try parser.parse(["user", "add", "a", "b", "c", "-h"]) == .help(["user", "add"]))
    #expect(try parser.parse(["token", "revoke", "--", "--help"]) == .run(ParsedCommand(
        path: ["token", "revoke"], arguments: ["--help"], namedArguments: ["ID": ["--help"]]
    )))
}

@Test func theHelpCommandNamesACommandPath() throws {
    let parser = SampleTable.make()
    #expect(try parser.parse(["help"]) == .help([]))
    #expect(try parser.parse(["help", "token", "create"]) == .help(["token", "create"]))
    #expect(try parser.parse(["help", "token", "--json"]) == .help(["token"]))
    let error = failure(["help", "tokn"])
    #expect(error?.message == "Unknown command 'tokn'")
    #expect(error?.suggestion == "Did you mean 'token'?")
}

@Test func versionIsAcceptedAnywhere() throws {
    let parser = SampleTable.make()
    #expect(try parser.parse(["--version"]) == .version)
    #expect(try parser.parse(["token", "create", "--version"]) == .version)
    #expect(try parser.parse(["tokn", "--version"]) == .version)
}

@Test func aGroupWithoutSubcommandAsksForItsHelp() throws {
    let parser = SampleTable.make()
    #expect(try parser.parse([]) == .help([]))
    #expect(try parser.parse(["token"]) == .help(["token"]))
    #expect(try parser.parse(["--json", "user"]) == .help(["user"]))
}

// MARK: - Errors

@Test func anUnknownOptionSuggestsTheClosestOne() {
    let error = failure(["token", "create", "--emial", "ada@example.com"])
    #expect(error == UsageError(message: "Unknown option '--emial'", path: ["token", "create"], suggestion: "Did you mean '--email'?"))
    #expect(failure(["token", "list", "--jsno"])?.suggestion == "Did you mean '--json'?")
    #expect(failure(["token", "create", "--emial=x"])?.message == "Unknown option '--emial'")
}

@Test func anUnknownOptionThatIsAPrefixSuggestsTheOptionItStarts() {
    #expect(failure(["client", "register", "--conf"])?.suggestion == "Did you mean '--confidential'?")
    #expect(failure(["token", "create", "--print"])?.suggestion == "Did you mean '--print-config'?")
}

@Test func anUnknownOptionFarFromEveryNameHasNoSuggestion() {
    let error = failure(["token", "create", "--zzzzzzzz"])
    #expect(error?.message == "Unknown option '--zzzzzzzz'")
    #expect(error?.suggestion == nil)
}

@Test func aSingleDashLongOptionSuggestsTheDoubleDashOne() {
    let error = failure(["token", "create", "-email", "ada@example.com"])
    #expect(error?.message == "Unknown option '-email'")
    #expect(error?.suggestion == "Did you mean '--email'?")
    #expect(failure(["token", "list", "-z"])?.message == "Unknown option '-z'")
}

@Test func anUnknownCommandSuggestsTheClosestOneAtItsLevel() {
    let top = failure(["tokn", "list"])
    #expect(top == UsageError(message: "Unknown command 'tokn'", path: [], suggestion: "Did you mean 'token'?"))
    let nested = failure(["token", "craete"])
    #expect(nested == UsageError(message: "Unknown command 'craete'", path: ["token"], suggestion: "Did you mean 'create'?"))
    #expect(failure(["frobnicate"])?.suggestion == nil)
}

@Test func anOptionWithoutItsValueIsAMissingValue() {
    let atEnd = failure(["token", "create", "--email"])
    #expect(atEnd == UsageError(message: "Missing value for '--email <EMAIL>'", path: ["token", "create"]))
    let beforeOption = failure(["token", "create", "--email", "--json"])
    #expect(beforeOption?.message == "Missing value for '--email <EMAIL>'")
    #expect(beforeOption?.suggestion == "A value starting with '-' must be attached: '--email=--json'.")
    #expect(failure(["token", "create", "-e"])?.message == "Missing value for '-e <EMAIL>'")
}

@Test func aMissingRequiredArgumentIsNamed() {
    #expect(failure(["user", "add"]) == UsageError(message: "Missing expected argument '<EMAIL>'", path: ["user", "add"]))
    #expect(failure(["tool", "scope", "app"])?.message == "Missing expected argument '<TOOL>'")
    #expect(failure(["app", "link", "dev"])?.message == "Missing expected argument '<TO>'")
}

@Test func aMissingRequiredOptionIsNamed() {
    #expect(failure(["token", "create"]) == UsageError(message: "Missing expected argument '--email <EMAIL>'", path: ["token", "create"]))
    #expect(failure(["client", "register", "--name", "x"])?.message == "Missing expected argument '--redirect-uri <URI>'")
}

@Test func anExtraPositionalIsUnexpected() {
    #expect(failure(["user", "add", "a@b", "c@d"]) == UsageError(message: "Unexpected argument 'c@d'", path: ["user", "add"]))
    #expect(failure(["init", "now"])?.message == "Unexpected argument 'now'")
    #expect(failure(["help", "init", "now"])?.message == "Unexpected argument 'now'")
}

@Test func aFlagGivenAValueIsAnError() {
    #expect(failure(["token", "list", "--json=yes"]) == UsageError(message: "Flag '--json' does not take a value", path: ["token", "list"]))
    #expect(failure(["token", "list", "-a=1"])?.message == "Flag '-a' does not take a value")
}

// MARK: - Rendering of errors, usage and help

@Test func errorTextHasTheShapeOfSwiftArgumentParser() {
    let parser = SampleTable.make()
    let error = UsageError(message: "Unknown option '--emial'", path: ["token", "create"], suggestion: "Did you mean '--email'?")
    #expect(parser.errorText(for: error) == """
        Error: Unknown option '--emial'
        Help:  Did you mean '--email'?
        Usage: mcpctl token create --email <EMAIL> [--name <NAME>] [--scopes <SCOPES>]
                                   [--print-config]
          See 'mcpctl token create --help' for more help.

        """)
}

@Test func errorTextLeavesOutTheHelpLineWithoutASuggestion() {
    let parser = SampleTable.make()
    let text = parser.errorText(for: UsageError(message: "Missing expected argument '<EMAIL>'", path: ["user", "add"]))
    #expect(text == """
        Error: Missing expected argument '<EMAIL>'
        Usage: mcpctl user add <EMAIL> [--name <NAME>] [--password-stdin]
          See 'mcpctl user add --help' for more help.

        """)
    #expect(parser.errorText(for: UsageError(message: "x", path: [])).hasSuffix("  See 'mcpctl --help' for more help.\n"))
}

@Test func usageLinesShowArgumentsOptionsAndSubcommands() {
    let parser = SampleTable.make()
    #expect(parser.usageLine(for: []) == "mcpctl <subcommand>")
    #expect(parser.usageLine(for: ["token"]) == "mcpctl token <subcommand>")
    #expect(parser.usageLine(for: ["token", "revoke"]) == "mcpctl token revoke [<ID> ...] [--email <EMAIL>] [--all]")
    #expect(parser.usageLine(for: ["client", "register"]) == "mcpctl client register --name <NAME> --redirect-uri <URI> ... [--confidential]")
    #expect(parser.usageLine(for: ["app", "link"]) == "mcpctl app link <FROM> [<VIA>] <TO>")
}

@Test func helpOfACommandListsOverviewUsageArgumentsAndOptions() {
    let parser = SampleTable.make()
    #expect(parser.helpText(for: ["user", "add"]) == """
        OVERVIEW: Add a user.

        USAGE: mcpctl user add <EMAIL> [--name <NAME>] [--password-stdin]

        ARGUMENTS:
          <EMAIL>                 The user's email address.

        OPTIONS:
          -n, --name <NAME>       Display name.
          --password-stdin        Read the password from standard input.
          --db <PATH>             Path of the SQLite store (default:
                                  ~/.mcpctl/mcpctl.db).
          --json                  Print one JSON value on stdout.
          --version               Show the version.
          -h, --help              Show help information.

        """)
}

@Test func helpOfACommandIncludesDiscussionAndExamples() {
    let text = SampleTable.make().helpText(for: ["token", "create"])
    #expect(text.hasPrefix("""
        OVERVIEW: Create a token and print its secret.

        Only the secret goes to stdout, so T=$(mcpctl token create ...) works; a
        one-line summary goes to stderr.

        USAGE: mcpctl token create
        """))
    #expect(text.hasSuffix("""
        EXAMPLES:
          mcpctl token create --email ada@example.com --scopes read,write

        """))
}

@Test func helpOfAGroupListsItsSubcommands() {
    let text = SampleTable.make().helpText(for: ["token"])
    #expect(text.contains("""
        SUBCOMMANDS:
          create                  Create a token and print its secret.
          list                    List tokens.
          revoke                  Revoke tokens by id or secret.
          scan                    Find tokens in files or standard input.

          See 'mcpctl help token <subcommand>' for detailed help.
        """))
    #expect(!text.contains("ARGUMENTS:"))
}

@Test func helpOfTheRootListsTheHelpCommand() {
    let text = SampleTable.make().helpText(for: [])
    #expect(text.hasPrefix("OVERVIEW: Authentication, authorization and audit for MCP servers.\n\nmcpctl administers"))
    #expect(text.contains("USAGE: mcpctl <subcommand>"))
    #expect(text.contains("  help                    Show subcommand help information."))
    #expect(text.contains("  See 'mcpctl help <subcommand>' for detailed help."))
}

@Test func helpTextFitsInEightyColumns() {
    let parser = SampleTable.make()
    for path in [[], ["token"], ["token", "create"], ["client", "register"], ["audit", "export"]] {
        for line in parser.helpText(for: path).split(separator: "\n") {
            #expect(line.count <= 80, "\(path): \(line)")
        }
    }
}

@Test func longHelpLabelsPutTheirTextOnTheNextLine() {
    let root = CommandSpec("x", abstract: "X.", options: [
        OptionSpec("a-very-long-option-name", value: "VALUE", help: "Explained below the label."),
    ])
    let text = SampleTable.make(program: "x", root: root, globals: []).helpText(for: [])
    #expect(text.contains("""
          --a-very-long-option-name <VALUE>
                                  Explained below the label.
        """))
}

// MARK: - Table

@Test func theSampleTableIsValid() {
    #expect(SampleTable.make().validate() == [])
}

@Test func validationReportsAmbiguousTables() {
    let root = CommandSpec("x", abstract: "X.", subcommands: [
        CommandSpec("a", abstract: "A.", options: [OptionSpec("json", help: "Clashes."), OptionSpec("k", short: "h", help: "Clashes.")]),
        CommandSpec("a", abstract: "Twice."),
        CommandSpec("b c", abstract: "Space.", arguments: [
            ArgumentSpec("MANY", help: "Not last.", repeating: true), ArgumentSpec("LAST", help: "Last."),
        ]),
    ])
    let problems = SampleTable.make(program: "x", root: root).validate()
    #expect(problems.contains("x: two subcommands are named 'a'"))
    #expect(problems.contains("x a: '--json' is declared twice (commands may not redeclare a global option)"))
    #expect(problems.contains("x a: '-h' is declared twice"))
    #expect(problems.contains { $0.hasPrefix("x b c: command names use letters") })
    #expect(problems.contains("x b c: only the last argument may repeat ('MANY' does)"))
}

@Test func customHelpAndVersionOptionsReplaceTheDefaults() throws {
    let parser = SampleTable.make(globals: [
        OptionSpec("version", short: "V", help: "Print the version and exit."),
        OptionSpec("json", help: "JSON."),
    ])
    #expect(parser.globalOptions.map(\.long) == ["json", "version", "help"])
    #expect(try parser.parse(["-V"]) == .version)
    #expect(parser.helpText(for: ["init"]).contains("  -V, --version           Print the version and exit."))
}

@Test func aShortOptionTakingAValueMustEndItsCluster() {
    let error = failure(["audit", "tail", "-lf", "3"])
    #expect(error?.message == "Unknown option '-lf'")
    #expect(error?.suggestion == "'-l' takes a value; write it separately: '-l <N>'.")
}
