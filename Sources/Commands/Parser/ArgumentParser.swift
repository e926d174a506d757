/// Parses command lines against one declarative command table, which also drives help, completions and the man page.
///
/// Rules, in the shape swift-argument-parser users know:
/// - subcommands nest (`mcpctl token create …`); a group invoked without a subcommand,
///   like the program without arguments, asks for its help (`.help(path)`);
/// - `--opt value`, `--opt=value`, `-o value`, `-o=value`, clustered short flags (`-fv`);
///   an option value may start with `-` only in the `=` form;
/// - `--` ends options; a lone `-` is a positional (stdin);
/// - global options are accepted anywhere before `--`: before, after or between the
///   command's own words;
/// - `-h`/`--help` anywhere (also `help <command path>`) and `--version` win over any other error.
public struct ArgumentParser: Sendable {
    public let program: String
    public let version: String
    public let root: CommandSpec
    /// The global options in display order: those given to `init`, then `--version` and `-h, --help`.
    public let globalOptions: [OptionSpec]

    /// Creates a parser; `globalOptions` may include `help` and `version` entries to change their
    /// help text or short names, otherwise `-h, --help` and `--version` are added.
    public init(program: String, version: String, root: CommandSpec, globalOptions: [OptionSpec]) {
        self.program = program
        self.version = version
        self.root = root
        let versionOption = globalOptions.first { $0.long == Self.versionName }
            ?? OptionSpec(Self.versionName, help: "Show the version.")
        let helpOption = globalOptions.first { $0.long == Self.helpName }
            ?? OptionSpec(Self.helpName, short: "h", help: "Show help information.")
        self.globalOptions = globalOptions.filter { $0.long != Self.helpName && $0.long != Self.versionName }
            + [versionOption, helpOption]
    }

    static let helpName = "help"
    static let versionName = "version"
    static let helpCommandAbstract = "Show subcommand help information."

    /// Whether `help <command path>` is available: the root has subcommands and none named `help`.
    var hasHelpCommand: Bool {
        !root.subcommands.isEmpty && root.subcommand(named: Self.helpName) == nil
    }

    /// The command at `path`, or nil when a name on the way is unknown.
    public func command(at path: [String]) -> CommandSpec? {
        var command = root
        for name in path {
            guard let next = command.subcommand(named: name) else { return nil }
            command = next
        }
        return command
    }

    /// Every command of the table with its path, depth first in table order, the root first.
    public func allCommands() -> [(path: [String], command: CommandSpec)] {
        var result: [(path: [String], command: CommandSpec)] = []
        func visit(_ command: CommandSpec, _ path: [String]) {
            result.append((path, command))
            for sub in command.subcommands {
                visit(sub, path + [sub.name])
            }
        }
        visit(root, [])
        return result
    }

    /// The options accepted at `command`: its own, then the global ones.
    func acceptedOptions(of command: CommandSpec) -> [OptionSpec] {
        command.options + globalOptions
    }

    // MARK: - Parsing

    /// Parses `arguments` (without `argv[0]`).
    public func parse(_ arguments: [String]) throws(UsageError) -> ParseOutcome {
        if hasHelpCommand, arguments.first == Self.helpName {
            return try parseHelpCommand(Array(arguments.dropFirst()))
        }
        var scanner = LineScanner(parser: self, words: arguments)
        scanner.scan()
        if scanner.wantsHelp {
            return .help(scanner.path)
        }
        if scanner.wantsVersion {
            return .version
        }
        if let failure = scanner.failure {
            throw failure
        }
        let command = scanner.command
        if command.isGroup, scanner.positionals.isEmpty {
            return .help(scanner.path)
        }
        let named = try assign(scanner.positionals, to: command.arguments, path: scanner.path)
        for option in command.options where option.required && scanner.options[option.long] == nil {
            throw UsageError(message: "Missing expected argument '\(display(option))'", path: scanner.path)
        }
        return .run(ParsedCommand(path: scanner.path, arguments: scanner.positionals, options: scanner.options, namedArguments: named))
    }

    /// `help token create`: the words name a command path; options are ignored.
    private func parseHelpCommand(_ words: [String]) throws(UsageError) -> ParseOutcome {
        var path: [String] = []
        var command = root
        for word in words {
            if word == "--" { break }
            if word.hasPrefix("-"), word != "-" { continue }
            if path.isEmpty, word == Self.helpName { return .help([Self.helpName]) }
            guard let next = command.subcommand(named: word) else {
                if command.subcommands.isEmpty {
                    throw UsageError(message: "Unexpected argument '\(word)'", path: path)
                }
                throw unknownCommand(word, at: command, path: path)
            }
            path.append(word)
            command = next
        }
        return .help(path)
    }

    /// Distributes positionals over the argument specs: required ones first, optional ones
    /// left to right, a repeating one takes the rest.
    private func assign(_ positionals: [String], to specs: [ArgumentSpec], path: [String]) throws(UsageError) -> [String: [String]] {
        let minimum = specs.map { $0.optional ? 0 : 1 }
        let maximum = specs.map { $0.repeating ? Int.max : 1 }
        var spare = positionals.count - minimum.reduce(0, +)
        if spare < 0 {
            var available = positionals.count
            for (index, spec) in specs.enumerated() where minimum[index] > 0 {
                if available == 0 {
                    throw UsageError(message: "Missing expected argument '\(display(spec))'", path: path)
                }
                available -= 1
            }
        }
        var named: [String: [String]] = [:]
        var next = 0
        for (index, spec) in specs.enumerated() {
            let extra = min(maximum[index] - minimum[index], max(spare, 0))
            let count = minimum[index] + extra
            spare -= extra
            if count > 0 {
                named[spec.name, default: []] += positionals[next..<(next + count)]
                next += count
            }
        }
        if next < positionals.count {
            throw UsageError(message: "Unexpected argument '\(positionals[next])'", path: path)
        }
        return named
    }

    func unknownCommand(_ word: String, at command: CommandSpec, path: [String]) -> UsageError {
        var names = command.subcommands.map(\.name)
        if path.isEmpty, hasHelpCommand {
            names.append(Self.helpName)
        }
        let suggestion = Suggestions.closest(to: word, among: names).map { "Did you mean '\($0)'?" }
        return UsageError(message: "Unknown command '\(word)'", path: path, suggestion: suggestion)
    }

    /// `--email <EMAIL>`, `--json`: an option as usage and error messages show it.
    func display(_ option: OptionSpec) -> String {
        option.valueName.map { "--\(option.long) <\($0)>" } ?? "--\(option.long)"
    }

    /// `<EMAIL>`: an argument as usage and error messages show it.
    func display(_ argument: ArgumentSpec) -> String {
        "<\(argument.name)>"
    }
}

extension ArgumentParser {
    /// One left-to-right pass over the words; stops at the first error but keeps looking for `--help` and `--version`.
    struct LineScanner {
        let parser: ArgumentParser
        let words: [String]
        var index = 0
        var path: [String] = []
        var command: CommandSpec
        var positionals: [String] = []
        var options: [String: [String]] = [:]
        var wantsHelp = false
        var wantsVersion = false
        var failure: UsageError?

        init(parser: ArgumentParser, words: [String]) {
            self.parser = parser
            self.words = words
            self.command = parser.root
        }

        mutating func scan() {
            var onlyPositionals = false
            while index < words.count, failure == nil {
                let word = words[index]
                index += 1
                if onlyPositionals {
                    positionals.append(word)
                } else if word == "--" {
                    onlyPositionals = true
                } else if word.hasPrefix("--") {
                    scanLong(word)
                } else if word.hasPrefix("-"), word != "-" {
                    scanShort(word)
                } else if positionals.isEmpty, let next = command.subcommand(named: word) {
                    path.append(word)
                    command = next
                } else if command.isGroup, positionals.isEmpty {
                    failure = parser.unknownCommand(word, at: command, path: path)
                } else {
                    positionals.append(word)
                }
            }
            if failure != nil {
                lookForHelpOrVersion()
            }
        }

        /// After an error, `--help` or `--version` later on the line still wins.
        private mutating func lookForHelpOrVersion() {
            let help = option(long: ArgumentParser.helpName)
            let version = option(long: ArgumentParser.versionName)
            for word in words[index...] {
                if word == "--" { break }
                if word == "--\(ArgumentParser.helpName)" || help?.short.map({ word == "-\($0)" }) == true {
                    wantsHelp = true
                }
                if word == "--\(ArgumentParser.versionName)" || version?.short.map({ word == "-\($0)" }) == true {
                    wantsVersion = true
                }
            }
        }

        private func option(long name: String) -> OptionSpec? {
            command.options.first { $0.long == name } ?? parser.globalOptions.first { $0.long == name }
        }

        private func option(short name: Character) -> OptionSpec? {
            command.options.first { $0.short == name } ?? parser.globalOptions.first { $0.short == name }
        }

        private func longNames() -> [String] {
            parser.acceptedOptions(of: command).map(\.long)
        }

        private mutating func scanLong(_ word: String) {
            let body = word.dropFirst(2)
            let name: String
            let inlineValue: String?
            if let split = Self.splitAtEquals(body) {
                name = split.name
                inlineValue = split.value
            } else {
                name = String(body)
                inlineValue = nil
            }
            guard let spec = option(long: name) else {
                let suggestion = Suggestions.closest(to: name, among: longNames()).map { "Did you mean '--\($0)'?" }
                failure = UsageError(message: "Unknown option '--\(name)'", path: path, suggestion: suggestion)
                return
            }
            accept(spec, typed: "--\(name)", inlineValue: inlineValue)
        }

        private mutating func scanShort(_ word: String) {
            let body = word.dropFirst()
            var cluster = Substring(body)
            var inlineValue: String?
            if let split = Self.splitAtEquals(body) {
                cluster = Substring(split.name)
                inlineValue = split.value
            }
            let letters = Array(cluster)
            guard !letters.isEmpty else {
                failure = UsageError(message: "Unknown option '\(word)'", path: path)
                return
            }
            for (position, letter) in letters.enumerated() {
                let isLast = position == letters.count - 1
                guard let spec = option(short: letter), spec.isFlag || isLast else {
                    failure = unknownShort(word, letter: letter, cluster: String(cluster))
                    return
                }
                accept(spec, typed: "-\(letter)", inlineValue: isLast ? inlineValue : nil)
                if failure != nil { return }
            }
        }

        /// `-email` is probably `--email`; otherwise name the letter that is not an option.
        private func unknownShort(_ word: String, letter: Character, cluster: String) -> UsageError {
            if cluster.count > 1, let long = Suggestions.closest(to: cluster, among: longNames()) {
                return UsageError(message: "Unknown option '\(word)'", path: path, suggestion: "Did you mean '--\(long)'?")
            }
            if cluster.count > 1, let spec = option(short: letter), !spec.isFlag {
                return UsageError(
                    message: "Unknown option '\(word)'", path: path,
                    suggestion: "'-\(letter)' takes a value; write it separately: '-\(letter) \(parser.placeholder(spec))'."
                )
            }
            return UsageError(message: "Unknown option '-\(letter)'", path: path)
        }

        private mutating func accept(_ spec: OptionSpec, typed: String, inlineValue: String?) {
            if spec.isFlag {
                if inlineValue != nil {
                    failure = UsageError(message: "Flag '\(typed)' does not take a value", path: path)
                    return
                }
                switch spec.long {
                case ArgumentParser.helpName where parser.globalOptions.contains(spec):
                    wantsHelp = true
                case ArgumentParser.versionName where parser.globalOptions.contains(spec):
                    wantsVersion = true
                default:
                    record(spec, "true")
                }
                return
            }
            if let inlineValue {
                record(spec, inlineValue)
                return
            }
            if index < words.count, !Self.looksLikeOption(words[index]) {
                record(spec, words[index])
                index += 1
                return
            }
            var suggestion: String?
            if index < words.count {
                suggestion = "A value starting with '-' must be attached: '\(typed)=\(words[index])'."
            }
            failure = UsageError(
                message: "Missing value for '\(typed) \(parser.placeholder(spec))'", path: path, suggestion: suggestion
            )
        }

        private mutating func record(_ spec: OptionSpec, _ value: String) {
            if spec.repeating {
                options[spec.long, default: []].append(value)
            } else {
                options[spec.long] = [value]
            }
        }

        /// `name=value` split at the first `=`, found among Unicode scalars: as a Character, `=` followed
        /// by a combining mark (`--name=\u{301}x`) would not match.
        static func splitAtEquals(_ text: Substring) -> (name: String, value: String)? {
            let scalars = text.unicodeScalars
            guard let equals = scalars.firstIndex(of: "=") else { return nil }
            return (String(scalars[..<equals]), String(scalars[scalars.index(after: equals)...]))
        }

        static func looksLikeOption(_ word: String) -> Bool {
            word.hasPrefix("-") && word != "-"
        }
    }

    /// `<EMAIL>` for an option's value.
    func placeholder(_ option: OptionSpec) -> String {
        "<\(option.valueName ?? "VALUE")>"
    }
}
