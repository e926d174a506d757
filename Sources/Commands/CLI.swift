import Foundation
import MCPAuth
#if canImport(Glibc)
import Glibc
#endif

/// Exit codes: 0 success, 1 failure (incl. not found and "no"), 64 usage error.
enum ExitCode {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let usage: Int32 = 64
}

/// A usage problem found after parsing (e.g. conflicting options), reported like the parser's own errors.
struct CommandUsageError: Error {
    let message: String
}

/// Failure with a message already printed (or to print) and a given exit code.
struct CommandFailure: Error {
    let message: String?
    let code: Int32
}

/// What every command handler receives: the parsed invocation, output, and the store (opened lazily).
final class Context {
    let parsed: ParsedCommand
    let out: Output
    let environment: [String: String]
    private var opened: Store?

    init(parsed: ParsedCommand, environment: [String: String]) {
        self.parsed = parsed
        self.environment = environment
        self.out = Output(json: parsed.flag("json"))
    }

    var json: Bool { out.json }
    var storePath: String { parsed.value("db") ?? Store.defaultPath(environment: environment) }

    /// The commands that may create a missing store: they set one up or add its first record. Every other
    /// command on a missing store is an error that names the path and how to create one.
    static let creatingCommands: Set<String> = ["init", "user add", "app add"]

    var mayCreateStore: Bool {
        let command = parsed.path.joined(separator: " ")
        return Context.creatingCommands.contains(command) || (command == "serve" && ServeCommand.flag(self, "quickstart"))
    }

    func store() throws -> Store {
        if let opened { return opened }
        let s = try Store(path: storePath, create: mayCreateStore)
        opened = s
        return s
    }

    func argument(_ i: Int) -> String { parsed.arguments[i] }
    func option(_ name: String) -> String? { parsed.value(name) }
    func flag(_ name: String) -> Bool { parsed.flag(name) }

    /// A required option; missing → usage error.
    func require(_ name: String) throws -> String {
        guard let v = parsed.value(name), !v.isEmpty else {
            throw CommandUsageError(message: "Missing expected option '--\(name)'")
        }
        return v
    }

    func duration(_ name: String) throws -> Int64? {
        guard let text = parsed.value(name) else { return nil }
        guard let s = DurationText.seconds(text) else {
            throw CommandUsageError(message: "Invalid duration '\(text)' for '--\(name)': use a number with s, m, h, d or w (e.g. 24h, 90d)")
        }
        return s
    }
}

/// The entry point: parse, dispatch, map errors to messages and exit codes.
public enum CLI {
    /// Standard input, output and error that were closed (`2>&-`) are opened on /dev/null: otherwise the
    /// next file or socket opened would take their number, and log lines or output would be written into
    /// the store or a client's connection. open(2) returns the lowest free descriptor.
    static func openStandardDescriptors() {
        for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) == -1 {
            let opened = open("/dev/null", O_RDWR)
            if opened >= 0 && opened != fd { close(opened) }  // only fills the gap it was opened for
        }
    }

    public static func main(_ arguments: [String] = Array(CommandLine.arguments.dropFirst()),
                            environment: [String: String] = ProcessInfo.processInfo.environment) -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        openStandardDescriptors()
        let parser = CommandTable.parser
        let outcome: ParseOutcome
        do {
            outcome = try parser.parse(arguments)
        } catch {
            usage(parser.errorText(for: error))
            return ExitCode.usage
        }
        switch outcome {
        case .version:
            Output.write("\(CommandTable.version)\n")
            return ExitCode.success
        case .help(let path):
            Output.write(parser.helpText(for: path))
            return ExitCode.success
        case .run(let parsed):
            let context = Context(parsed: parsed, environment: environment)
            do {
                return try dispatch(context)
            } catch let error as CommandUsageError {
                usage(parser.errorText(for: UsageError(message: error.message, path: parsed.path, suggestion: nil)))
                return ExitCode.usage
            } catch let error as CommandFailure {
                if let m = error.message { Output.error(m) }
                return error.code
            } catch let error as DomainError {
                Output.error(error.description)
                return ExitCode.failure
            } catch let error as StoreError {
                Output.error(error.description)
                return ExitCode.failure
            } catch let error as StoreBackupError {
                Output.error(error.description)
                return ExitCode.failure
            } catch let error as DatabaseError {
                Output.error("store: \(error.message)")
                return ExitCode.failure
            } catch {
                Output.error("\(error)")
                return ExitCode.failure
            }
        }
    }

    static func usage(_ text: String) {
        Output.write(text.hasSuffix("\n") ? text : text + "\n", to: STDERR_FILENO)
    }

    static func dispatch(_ c: Context) throws -> Int32 {
        switch c.parsed.path.first ?? "" {
        case "init": return try InitCommand.run(c)
        case "user": return try UserCommands.run(c)
        case "token": return try TokenCommands.run(c)
        case "app": return try AppCommands.run(c)
        case "tool": return try ToolCommands.run(c)
        case "grant": return try GrantCommands.run(c)
        case "group": return try GroupCommands.run(c)
        case "issuer": return try IssuerCommands.run(c)
        case "idp": return try IdpCommands.run(c)
        case "can-i": return try CanICommand.run(c)
        case "client": return try ClientCommands.run(c)
        case "audit": return try AuditCommands.run(c)
        case "serve": return try ServeCommand.run(c)
        case "doctor": return try DoctorCommand.run(c)
        case "store": return try StoreCommands.run(c)
        case "completion": return try CompletionCommand.run(c)
        default: throw CommandUsageError(message: "Unknown command '\(c.parsed.path.joined(separator: " "))'")
        }
    }
}
