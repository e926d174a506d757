extension ArgumentParser {
    /// Problems in the command table that would make parsing ambiguous or break completions and
    /// the man page; empty when the table is sound. A test of the real table should expect none.
    public func validate() -> [String] {
        var problems: [String] = []
        problems += optionProblems(globalOptions, besides: [], at: "global options")
        for (path, command) in allCommands() {
            let place = ([program] + path).joined(separator: " ")
            if !path.isEmpty, !Self.isValidName(command.name, allowing: "._-") {
                problems.append("\(place): command names use letters, digits, '.', '_' and '-' and start with a letter or digit")
            }
            var seen: Set<String> = []
            for sub in command.subcommands where !seen.insert(sub.name).inserted {
                problems.append("\(place): two subcommands are named '\(sub.name)'")
            }
            if path.isEmpty, command.subcommand(named: Self.helpName) != nil {
                problems.append("\(place): 'help' is reserved for the built-in help command")
            }
            problems += optionProblems(command.options, besides: globalOptions, at: place)
            for (index, argument) in command.arguments.enumerated() {
                if argument.repeating, index != command.arguments.count - 1 {
                    problems.append("\(place): only the last argument may repeat ('\(argument.name)' does)")
                }
                if !Self.isValidName(argument.name, allowing: "_-") {
                    problems.append("\(place): argument name '\(argument.name)' must use letters, digits, '_' and '-'")
                }
            }
        }
        return problems
    }

    /// Problems of `options`, which must not reuse a name of each other or of `others`.
    private func optionProblems(_ options: [OptionSpec], besides others: [OptionSpec], at place: String) -> [String] {
        var problems: [String] = []
        var longs = Set(others.map(\.long))
        var shorts = Set(others.compactMap(\.short))
        for option in options {
            if !Self.isValidName(option.long, allowing: "-") {
                problems.append("\(place): option '--\(option.long)' must use letters, digits and '-' and start with a letter or digit")
            }
            if !longs.insert(option.long).inserted {
                problems.append("\(place): '--\(option.long)' is declared twice (commands may not redeclare a global option)")
            }
            if let short = option.short {
                if !(short.isASCII && (short.isLetter || short.isNumber)) {
                    problems.append("\(place): short name '-\(short)' must be an ASCII letter or digit")
                }
                if !shorts.insert(short).inserted {
                    problems.append("\(place): '-\(short)' is declared twice")
                }
            }
            if let value = option.valueName, value.isEmpty || value.contains(where: \.isWhitespace) {
                problems.append("\(place): value name '\(value)' of '--\(option.long)' must be one non-empty word")
            }
        }
        return problems
    }

    /// ASCII letters and digits plus `extra`, starting with a letter or digit: safe in shell scripts and roff.
    static func isValidName(_ name: String, allowing extra: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first.isNumber else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || extra.contains($0)) }
    }
}
