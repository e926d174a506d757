extension ArgumentParser {
    /// One piece of a usage line, rendered as plain text for the terminal and as roff for the man page.
    enum UsageElement: Equatable {
        case option(OptionSpec)
        case argument(ArgumentSpec)
        case subcommandPlaceholder
    }

    /// The longest prefix of `path` that names commands, and the command it ends at.
    func resolve(_ path: [String]) -> (path: [String], command: CommandSpec) {
        var resolved: [String] = []
        var command = root
        for name in path {
            guard let next = command.subcommand(named: name) else { break }
            resolved.append(name)
            command = next
        }
        return (resolved, command)
    }

    /// The elements after the command name: arguments, then the command's own options, then
    /// `<subcommand>` for commands that have subcommands. Global options are left out.
    func usageElements(of command: CommandSpec) -> [UsageElement] {
        var elements = command.arguments.map(UsageElement.argument)
        elements += command.options.map(UsageElement.option)
        if !command.subcommands.isEmpty {
            elements.append(.subcommandPlaceholder)
        }
        return elements
    }

    func plain(_ element: UsageElement) -> String {
        switch element {
        case .subcommandPlaceholder:
            return "<subcommand>"
        case .argument(let argument):
            let text = display(argument) + (argument.repeating ? " ..." : "")
            return argument.optional ? "[\(text)]" : text
        case .option(let option):
            let text = display(option) + (option.repeating ? " ..." : "")
            return option.required ? text : "[\(text)]"
        }
    }

    /// The usage of a command on one line, e.g. `mcpctl token create [--name <NAME>] --email <EMAIL>`.
    public func usageLine(for path: [String]) -> String {
        let (path, command) = resolve(path)
        return (([program] + path) + usageElements(of: command).map(plain)).joined(separator: " ")
    }

    /// The usage after `label` (`USAGE: `), wrapped at 80 columns with continuation lines aligned
    /// after the command name.
    func wrappedUsage(for path: [String], label: String) -> String {
        let (path, command) = resolve(path)
        let name = ([program] + path).joined(separator: " ")
        var indent = label.count + name.count + 1
        if indent > 40 {
            indent = label.count + 4
        }
        let words = [name] + usageElements(of: command).map(plain)
        return label + TextLayout.wrap(words: words, indent: indent, firstIndent: label.count).joined(separator: "\n")
    }

    // MARK: - Help

    /// The `--help` text of the command at `path` (unknown names at the end are ignored), ending in a newline.
    public func helpText(for path: [String]) -> String {
        if path == [Self.helpName], hasHelpCommand {
            return helpCommandText()
        }
        let (path, command) = resolve(path)
        var sections: [String] = []
        if !command.abstract.isEmpty {
            sections.append(TextLayout.wrap("OVERVIEW: " + command.abstract, indent: 0))
        }
        if let discussion = command.discussion, !discussion.isEmpty {
            sections.append(TextLayout.render(discussion: discussion, indent: 0))
        }
        sections.append(wrappedUsage(for: path, label: "USAGE: "))
        if !command.arguments.isEmpty {
            let rows = command.arguments.map { (display($0) + ($0.repeating ? " ..." : ""), $0.help) }
            sections.append("ARGUMENTS:\n" + Self.table(rows))
        }
        let optionRows = acceptedOptions(of: command).map { (optionLabel($0), $0.help) }
        sections.append("OPTIONS:\n" + Self.table(optionRows))
        if !command.subcommands.isEmpty {
            var rows = command.subcommands.map { ($0.name, $0.abstract) }
            if path.isEmpty, hasHelpCommand {
                rows.append((Self.helpName, Self.helpCommandAbstract))
            }
            let more = (["See '\(program) help"] + path + ["<subcommand>' for detailed help."]).joined(separator: " ")
            sections.append("SUBCOMMANDS:\n" + Self.table(rows) + "\n\n  " + more)
        }
        if !command.examples.isEmpty {
            sections.append("EXAMPLES:\n" + command.examples.map { "  " + $0 }.joined(separator: "\n"))
        }
        return sections.joined(separator: "\n\n") + "\n"
    }

    /// The help of `help` itself (`mcpctl help help`), which the table does not hold as a command.
    func helpCommandText() -> String {
        let usage = "USAGE: \(program) \(Self.helpName) [<subcommand> ...]"
        let arguments = "ARGUMENTS:\n" + Self.table([("<subcommand> ...", "The command to show help for, e.g. 'token create'.")])
        return ["OVERVIEW: " + Self.helpCommandAbstract, usage, arguments].joined(separator: "\n\n") + "\n"
    }

    /// `-e, --email <EMAIL>` or `--json`: an option as the `OPTIONS:` list shows it.
    func optionLabel(_ option: OptionSpec) -> String {
        let long = display(option)
        return option.short.map { "-\($0), \(long)" } ?? long
    }

    /// Column where help text starts in `ARGUMENTS:`, `OPTIONS:` and `SUBCOMMANDS:` lists.
    static let helpColumn = 26

    /// Two-column rows: the label indented by 2, the text from `helpColumn`, wrapped at 80; a
    /// label too wide for its column puts the text on the next line.
    static func table(_ rows: [(label: String, text: String)]) -> String {
        rows.map { row -> String in
            let label = "  " + row.label
            let words = row.text.split(whereSeparator: \.isWhitespace).map(String.init)
            if words.isEmpty {
                return label
            }
            let pad = String(repeating: " ", count: helpColumn)
            let lines = TextLayout.wrap(words: words, indent: helpColumn, firstIndent: helpColumn)
            if label.count + 2 <= helpColumn {
                let head = label + String(repeating: " ", count: helpColumn - label.count)
                return head + lines.joined(separator: "\n")
            }
            return label + "\n" + pad + lines.joined(separator: "\n")
        }.joined(separator: "\n")
    }

    // MARK: - Errors

    /// The text `main` prints to stderr for a usage error (then exits 64), ending in a newline:
    ///
    ///     Error: Unknown option '--emial'
    ///     Help:  Did you mean '--email'?
    ///     Usage: mcpctl token create --email <EMAIL> [--name <NAME>]
    ///       See 'mcpctl token create --help' for more help.
    public func errorText(for error: UsageError) -> String {
        let path = resolve(error.path).path
        // The message may quote a word from the command line: it is shown escaped, never raw.
        var lines = ["Error: " + TerminalText.escape(error.message)]
        if let suggestion = error.suggestion {
            lines.append("Help:  " + TerminalText.escape(suggestion))
        }
        lines.append(wrappedUsage(for: path, label: "Usage: "))
        lines.append("  See '" + (([program] + path) + ["--help"]).joined(separator: " ") + "' for more help.")
        return lines.joined(separator: "\n") + "\n"
    }
}
