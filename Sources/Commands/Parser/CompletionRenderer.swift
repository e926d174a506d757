/// Renders shell completion scripts (bash, zsh, fish) from the parser's command table.
///
/// All three scripts share one model and one algorithm: walk the words before the cursor,
/// descending into subcommands while no positional has been seen, skipping the values of options
/// that take one, and counting positionals; then offer the value of a pending option, options
/// (when the word starts with `-`), subcommands, or the hint of the positional at that position.
/// `help <command path>` completes command names.
public enum CompletionRenderer {
    /// The shells `render(shell:parser:)` knows.
    public static let shells = ["bash", "zsh", "fish"]

    /// The completion script for `shell`, or nil for a shell not in `shells`.
    public static func render(shell: String, parser: ArgumentParser) -> String? {
        let model = Model(parser: parser)
        switch shell {
        case "bash": return BashCompletion(model: model).render()
        case "zsh": return ZshCompletion(model: model).render()
        case "fish": return FishCompletion(model: model).render()
        default: return nil
        }
    }

    /// The command tree flattened for script generation, in table order.
    struct Model {
        struct Node {
            /// Subcommand names joined by one space; `""` for the root.
            var key: String
            var subcommands: [(name: String, abstract: String)]
            var options: [OptionSpec]
            var arguments: [ArgumentSpec]
        }

        var program: String
        /// `_mcpctl`: the program name made safe for shell function names.
        var function: String
        var nodes: [Node]
        var globals: [OptionSpec]
        var hasHelpCommand: Bool

        init(parser: ArgumentParser) {
            program = parser.program
            function = "_" + String(parser.program.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
            globals = parser.globalOptions
            hasHelpCommand = parser.hasHelpCommand
            nodes = parser.allCommands().map { path, command in
                var subcommands = command.subcommands.map { (name: $0.name, abstract: $0.abstract) }
                if path.isEmpty, parser.hasHelpCommand {
                    subcommands.append((ArgumentParser.helpName, ArgumentParser.helpCommandAbstract))
                }
                return Node(key: path.joined(separator: " "), subcommands: subcommands, options: command.options, arguments: command.arguments)
            }
        }

        /// The groups whose subcommands `help …` completes, as (key after `help`, names).
        var helpTargets: [(key: String, names: [(name: String, abstract: String)])] {
            guard hasHelpCommand else { return [] }
            return nodes.filter { !$0.subcommands.isEmpty }.map { node in
                (node.key, node.subcommands.filter { !(node.key.isEmpty && $0.name == ArgumentParser.helpName) })
            }
        }
    }

    /// `--email` then `-e`: every spelling of an option.
    static func spellings(_ option: OptionSpec) -> [String] {
        ["--" + option.long] + (option.short.map { ["-\($0)"] } ?? [])
    }

    /// Positional hints worth emitting: (index, whether it repeats, hint).
    static func argumentHints(_ arguments: [ArgumentSpec]) -> [(index: Int, repeating: Bool, hint: CompletionHint)] {
        arguments.enumerated().compactMap { index, argument in
            argument.completion == .none ? nil : (index, argument.repeating, argument.completion)
        }
    }

    /// A word for bash or zsh: bare when it only holds safe characters, otherwise single-quoted.
    static func shellWord(_ text: String) -> String {
        let safe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:@%+=,-"
        if !text.isEmpty, text.allSatisfy({ safe.contains($0) }) {
            return text
        }
        return shellQuoted(text)
    }

    /// Single-quoted for bash or zsh, always.
    static func shellQuoted(_ text: String) -> String {
        "'" + replacing("'", with: "'\\''", in: text) + "'"
    }

    /// One line of description text: newlines and tabs become spaces.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: { $0 == "\n" || $0 == "\t" || $0 == "\r" }).joined(separator: " ")
    }

    static func generatedNote(program: String, shell: String) -> String {
        "# Generated from \(program)'s command table by '\(program) completion \(shell)'; do not edit."
    }

    /// A word for fish: bare when it only holds safe characters, otherwise single-quoted.
    static func fishWord(_ text: String) -> String {
        let safe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:@%+=,-"
        if !text.isEmpty, text.allSatisfy({ safe.contains($0) }) {
            return text
        }
        return fishQuoted(text)
    }

    /// Single-quoted for fish, always: only backslash and the quote are escaped.
    static func fishQuoted(_ text: String) -> String {
        "'" + replacing("'", with: "\\'", in: replacing("\\", with: "\\\\", in: text)) + "'"
    }

    /// `text` with every `target` replaced, without Foundation.
    static func replacing(_ target: Character, with replacement: String, in text: String) -> String {
        var result = ""
        for character in text {
            if character == target {
                result += replacement
            } else {
                result.append(character)
            }
        }
        return result
    }
}
