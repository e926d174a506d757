/// What a shell may offer when completing a value: nothing, file names, directory names or fixed words.
public enum CompletionHint: Sendable, Equatable {
    case none
    case file
    case directory
    case values([String])
}

/// One `--long` / `-s` option of a command: a flag when `valueName` is nil, otherwise it takes a value.
public struct OptionSpec: Sendable, Equatable {
    /// The long name without dashes (`"email"` for `--email`).
    public var long: String
    /// The one-letter short name without the dash (`"f"` for `-f`).
    public var short: Character?
    /// The placeholder shown for the value (`"EMAIL"`), or nil for a flag.
    public var valueName: String?
    public var help: String
    /// Whether the option may be given several times; its values then accumulate in order.
    public var repeating: Bool
    /// Whether parsing fails when the option is absent (`Missing expected argument '--email <EMAIL>'`).
    public var required: Bool
    public var completion: CompletionHint

    public init(
        _ long: String,
        short: Character? = nil,
        value: String? = nil,
        help: String,
        repeating: Bool = false,
        required: Bool = false,
        completion: CompletionHint = .none
    ) {
        self.long = long
        self.short = short
        self.valueName = value
        self.help = help
        self.repeating = repeating
        self.required = required
        self.completion = completion
    }

    /// Whether the option is a flag (takes no value).
    public var isFlag: Bool { valueName == nil }
}

/// One positional argument of a command, such as `EMAIL` or `FILE…`.
public struct ArgumentSpec: Sendable, Equatable {
    /// The placeholder shown in usage and help (`"EMAIL"`, displayed as `<EMAIL>`).
    public var name: String
    public var help: String
    public var optional: Bool
    /// Whether the argument takes all remaining positionals: one or more, or zero or more when optional.
    public var repeating: Bool
    public var completion: CompletionHint

    public init(_ name: String, help: String, optional: Bool = false, repeating: Bool = false, completion: CompletionHint = .none) {
        self.name = name
        self.help = help
        self.optional = optional
        self.repeating = repeating
        self.completion = completion
    }
}

/// One node of the command table: a command with its arguments and options, or a group of subcommands.
public struct CommandSpec: Sendable, Equatable {
    public var name: String
    /// One line, shown in `OVERVIEW:`, in the parent's `SUBCOMMANDS:` list and in the man page.
    public var abstract: String
    /// Paragraphs separated by blank lines. A paragraph whose lines are all indented is kept as is
    /// (examples, tables); a paragraph whose first line is flush and the rest indented is a definition.
    public var discussion: String?
    public var arguments: [ArgumentSpec]
    public var options: [OptionSpec]
    public var subcommands: [CommandSpec]
    /// Complete command lines (starting with the program name), one per entry.
    public var examples: [String]

    public init(
        _ name: String,
        abstract: String,
        discussion: String? = nil,
        arguments: [ArgumentSpec] = [],
        options: [OptionSpec] = [],
        subcommands: [CommandSpec] = [],
        examples: [String] = []
    ) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.arguments = arguments
        self.options = options
        self.subcommands = subcommands
        self.examples = examples
    }

    /// Whether the command only dispatches to subcommands (it has subcommands and no arguments of its own).
    public var isGroup: Bool { !subcommands.isEmpty && arguments.isEmpty }

    /// The direct subcommand with this name.
    public func subcommand(named name: String) -> CommandSpec? {
        subcommands.first { $0.name == name }
    }
}
