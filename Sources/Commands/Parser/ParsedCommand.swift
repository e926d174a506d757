/// The result of parsing a command line that names a runnable command: its path, positionals and options.
public struct ParsedCommand: Sendable, Equatable {
    /// The subcommand names from the root, e.g. `["token", "create"]`; empty for the root itself.
    public var path: [String]
    /// The positional arguments in the order given.
    public var arguments: [String]
    /// The options given (the command's own and the global ones), keyed by long name.
    ///
    /// An option with a value maps to its values in order: all of them for a repeating option,
    /// only the last one otherwise. A flag maps to `["true"]` (one `"true"` per occurrence when it
    /// is repeating). An option that was not given has no key.
    public var options: [String: [String]]
    /// The positional arguments grouped by the `ArgumentSpec` name they were assigned to.
    public var namedArguments: [String: [String]]

    public init(path: [String], arguments: [String] = [], options: [String: [String]] = [:], namedArguments: [String: [String]] = [:]) {
        self.path = path
        self.arguments = arguments
        self.options = options
        self.namedArguments = namedArguments
    }

    /// The last value given for the option, or nil when it was not given.
    public func value(_ long: String) -> String? {
        options[long]?.last
    }

    /// All values given for the option, in order; empty when it was not given.
    public func values(_ long: String) -> [String] {
        options[long] ?? []
    }

    /// Whether the flag (or option) was given.
    public func flag(_ long: String) -> Bool {
        options[long] != nil
    }

    /// The first positional assigned to the named argument (`argument("EMAIL")`).
    public func argument(_ name: String) -> String? {
        namedArguments[name]?.first
    }

    /// All positionals assigned to the named argument, for repeating arguments (`argumentValues("ID")`).
    public func argumentValues(_ name: String) -> [String] {
        namedArguments[name] ?? []
    }
}

/// What the command line asks for: run a command, show help for a command path, or show the version.
public enum ParseOutcome: Sendable, Equatable {
    case run(ParsedCommand)
    /// Help for this command path; print `ArgumentParser.helpText(for:)` to stdout and exit 0.
    case help([String])
    case version
}

/// A command line that cannot be parsed; `main` prints `ArgumentParser.errorText(for:)` and exits 64.
public struct UsageError: Error, Sendable, Equatable {
    /// One line without the `Error: ` prefix, e.g. `Unknown option '--emial'`.
    public var message: String
    /// The command path that was being parsed, for the usage line.
    public var path: [String]
    /// A full sentence printed after `Help:`, e.g. `Did you mean '--email'?`.
    public var suggestion: String?

    public init(message: String, path: [String], suggestion: String? = nil) {
        self.message = message
        self.path = path
        self.suggestion = suggestion
    }
}
