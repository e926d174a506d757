/// An extra top-level section of the man page, such as ENVIRONMENT, FILES, EXIT STATUS, EXAMPLES or SEE ALSO.
public struct ManSection: Sendable, Equatable {
    public var title: String
    public var body: String
    /// Whether `body` is roff, inserted as is, rather than plain text.
    public var isRoff: Bool

    /// A section written in plain text, escaped for roff. Paragraphs are separated by blank lines;
    /// a paragraph whose lines are all indented is kept line by line (commands, tables); a
    /// paragraph whose first line is a single word (or flush while the others are indented) is a
    /// definition, rendered as a tagged paragraph:
    ///
    ///     MCPCTL_DB
    ///       Path of the store, like --db.
    public init(title: String, body: String) {
        self.title = title
        self.body = body
        self.isRoff = false
    }

    /// A section written in roff, inserted as is after its `.SH` line.
    public init(title: String, roff: String) {
        self.title = title
        self.body = roff
        self.isRoff = true
    }
}

/// Renders the roff man page (section 1) from the parser's command table.
public enum ManPageRenderer {
    /// The whole page: NAME, SYNOPSIS, DESCRIPTION, COMMANDS (one `.SS` per command path),
    /// GLOBAL OPTIONS, then `sections` in the order given. `date` goes into `.TH` as given.
    public static func render(parser: ArgumentParser, date: String, sections: [ManSection]) -> String {
        let program = parser.program
        let root = parser.root
        var out: [String] = [
            ".\\\" Generated from \(program)'s command table by the ManPageRenderer; do not edit.",
            ".TH \(argument(program.uppercased())) 1 \(argument(date)) \(argument("\(program) \(parser.version)")) \(argument("User Commands"))",
            // Left-aligned and unhyphenated: usage lines and option names must read as typed.
            ".ad l",
            ".nh",
            ".SH NAME",
            textLine(code(program) + " \\- " + prose(nameLine(root.abstract))),
            ".SH SYNOPSIS",
        ]
        if root.subcommands.isEmpty {
            out.append(textLine(usage(parser, [])))
        } else {
            var synopsis = bold(program) + " [" + italic("options") + "] " + italic("command")
            if parser.allCommands().contains(where: { !$0.command.arguments.isEmpty }) {
                synopsis += " [" + italic("arguments") + "]"
            }
            out.append(textLine(synopsis))
        }
        out.append(".SH DESCRIPTION")
        if let discussion = root.discussion, !discussion.isEmpty {
            out += paragraphs(discussion, first: true)
        } else {
            out.append(textLine(prose(root.abstract)))
        }
        if !root.arguments.isEmpty || !root.options.isEmpty {
            out.append(".SH OPTIONS")
            out += definitions(parser, root, first: true)
        }
        let commands = parser.allCommands().dropFirst()
        if !commands.isEmpty {
            out.append(".SH COMMANDS")
            for (path, command) in commands {
                out.append(".SS " + argument(([program] + path).joined(separator: " "), asCode: true))
                out.append(textLine(usage(parser, path)))
                if !command.abstract.isEmpty {
                    out.append(".PP")
                    out.append(textLine(prose(command.abstract)))
                }
                if let discussion = command.discussion, !discussion.isEmpty {
                    out += paragraphs(discussion, first: false)
                }
                out += definitions(parser, command, first: false)
                if !command.examples.isEmpty {
                    out.append(".PP")
                    out.append("Examples:")
                    out += preformatted(command.examples)
                }
            }
        }
        out.append(".SH " + argument("GLOBAL OPTIONS"))
        out.append(textLine("These options are accepted by every command, before or after its name."))
        for option in parser.globalOptions {
            out += [".TP", textLine(optionTag(option)), textLine(prose(option.help))]
        }
        for section in sections {
            out.append(".SH " + argument(section.title.uppercased()))
            if section.isRoff {
                out += section.body.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
            } else {
                out += paragraphs(section.body, first: true)
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// The NAME line's description: by convention it does not end with a period.
    private static func nameLine(_ abstract: String) -> String {
        abstract.hasSuffix(".") ? String(abstract.dropLast()) : abstract
    }

    /// `.TP` entries for a command's arguments and own options.
    private static func definitions(_ parser: ArgumentParser, _ command: CommandSpec, first: Bool) -> [String] {
        var lines: [String] = []
        for spec in command.arguments {
            let tag = italic(spec.name) + (spec.repeating ? " ..." : "")
            lines += [".TP", textLine(tag), textLine(prose(spec.help))]
        }
        for option in command.options {
            lines += [".TP", textLine(optionTag(option)), textLine(prose(option.help))]
        }
        if !command.subcommands.isEmpty, !first {
            let names = command.subcommands.map { bold($0.name) }.joined(separator: ", ")
            lines += [".PP", textLine("Subcommands: " + names + ".")]
        }
        return lines
    }

    /// `\fB\-e\fR, \fB\-\-email\fR \fIEMAIL\fR`.
    private static func optionTag(_ option: OptionSpec) -> String {
        var tag = option.short.map { bold("-\($0)") + ", " } ?? ""
        tag += bold("--" + option.long)
        if let value = option.valueName {
            tag += " " + italic(value)
        }
        return tag
    }

    /// A usage line in roff fonts; each element is kept on one output line with unbreakable spaces.
    private static func usage(_ parser: ArgumentParser, _ path: [String]) -> String {
        let (path, command) = parser.resolve(path)
        let name = bold(([parser.program] + path).joined(separator: " "))
        let elements = parser.usageElements(of: command).map { element -> String in
            switch element {
            case .subcommandPlaceholder:
                return italic("subcommand")
            case .argument(let spec):
                let text = italic(spec.name) + (spec.repeating ? "\\ ..." : "")
                return spec.optional ? "[" + text + "]" : text
            case .option(let spec):
                var text = bold("--" + spec.long)
                if let value = spec.valueName {
                    text += "\\ " + italic(value)
                }
                if spec.repeating {
                    text += "\\ ..."
                }
                return spec.required ? text : "[" + text + "]"
            }
        }
        return ([name] + elements).joined(separator: " ")
    }

    /// Plain-text paragraphs (see `ManSection.init(title:body:)`) as roff.
    private static func paragraphs(_ text: String, first: Bool) -> [String] {
        var lines: [String] = []
        var isFirst = first
        for paragraph in ArgumentParser.TextLayout.paragraphs(text) {
            switch paragraph {
            case .prose(let text):
                if !isFirst { lines.append(".PP") }
                lines.append(textLine(prose(text)))
            case .preformatted(let block):
                lines += preformatted(block)
            case .definition(let term, let body):
                lines += [".TP", textLine(bold(term)), textLine(prose(body))]
            }
            isFirst = false
        }
        return lines
    }

    /// Lines kept as they are, indented, in no-fill mode.
    private static func preformatted(_ block: [String]) -> [String] {
        [".PP", ".RS 4", ".nf"] + block.map { textLine(code($0)) } + [".fi", ".RE"]
    }

    // MARK: - Escaping

    /// A text line that roff will not mistake for a request: a leading `.` or `'` gets `\&`.
    static func textLine(_ line: String) -> String {
        if let first = line.first, first == "." || first == "'" {
            return "\\&" + line
        }
        return line
    }

    /// Code (option names, commands, examples): every hyphen becomes a minus sign `\-`.
    static func code(_ text: String) -> String {
        var result = ""
        for character in text {
            result += escape(character, minus: true)
        }
        return result
    }

    /// Prose: words that start with `-` (options) get `\-`, other hyphens stay hyphens.
    static func prose(_ text: String) -> String {
        var result = ""
        var inOption = false
        var previous: Character = " "
        for character in text {
            if previous.isWhitespace || "('`\"[".contains(previous) {
                inOption = character == "-"
            } else if character.isWhitespace {
                inOption = false
            }
            result += escape(character, minus: inOption)
            previous = character
        }
        return result
    }

    /// One character for roff: `\e` for a backslash, `\-` for a hyphen used as a minus sign,
    /// `\[uXXXX]` for anything outside ASCII (so the page needs no input encoding).
    static func escape(_ character: Character, minus: Bool) -> String {
        switch character {
        case "\\": return "\\e"
        case "-": return minus ? "\\-" : "-"
        case _ where character.isASCII: return String(character)
        default:
            return character.unicodeScalars.map { scalar -> String in
                let hex = String(scalar.value, radix: 16, uppercase: true)
                return "\\[u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "]"
            }.joined()
        }
    }

    /// A macro argument in double quotes; `asCode` turns hyphens into minus signs.
    static func argument(_ text: String, asCode: Bool = false) -> String {
        let escaped = asCode ? code(text) : prose(text)
        return "\"" + ArgumentParser.TextLayout.trim(escaped).split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\\(dq") + "\""
    }

    static func bold(_ text: String) -> String { "\\fB" + code(text) + "\\fR" }
    static func italic(_ text: String) -> String { "\\fI" + code(text) + "\\fR" }
}
