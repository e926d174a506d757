import Commands
import FuzzSupport

/// Fuzzes the command-line parser with the real command table (`CommandTable.parser`).
///
/// Input: the words of a command line, separated by NUL bytes.
/// Properties: help and errors always render; a help outcome names a command that exists; a command to
/// run is a real command that is not a group, with only options it accepts and its required ones given;
/// and written out canonically (`--name=value`, then `--` and the positionals) it parses the same.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzArguments(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let words = fuzzInput(data, size).split(separator: 0, omittingEmptySubsequences: false)
        .map { String(decoding: $0, as: UTF8.self) }
    let parser = CommandTable.parser
    do {
        switch try parser.parse(words) {
        case .help(let path):
            // `help help` asks for the help of the `help` command itself, which the table does not list.
            invariant(path == ["help"] || parser.command(at: path) != nil, "help for an unknown command path \(path)")
            invariant(!parser.helpText(for: path).isEmpty, "empty help for \(path)")
        case .version:
            break
        case .run(let parsed):
            check(parsed, parser: parser, words: words)
        }
    } catch {
        invariant(!parser.errorText(for: error).isEmpty, "empty error text for \(words)")
    }
    return 0
}

func check(_ parsed: ParsedCommand, parser: ArgumentParser, words: [String]) {
    guard let command = parser.command(at: parsed.path) else { fatalError("ran an unknown command path \(parsed.path)") }
    invariant(!command.isGroup, "ran the group \(parsed.path) for \(words)")
    let accepted = command.options + parser.globalOptions
    for (name, values) in parsed.options {
        guard let spec = accepted.first(where: { $0.long == name }) else { fatalError("accepted unknown option --\(name)") }
        invariant(!values.isEmpty && (spec.repeating || values.count == 1), "wrong value count for --\(name): \(values)")
        invariant(!spec.isFlag || values.allSatisfy { $0 == "true" }, "flag --\(name) has values \(values)")
    }
    for option in command.options where option.required {
        invariant(parsed.options[option.long] != nil, "required --\(option.long) missing in \(words)")
    }
    let canonical = canonicalWords(parsed, accepted: accepted)
    guard case .run(let again)? = try? parser.parse(canonical) else {
        fatalError("canonical form \(canonical) of \(words) does not parse to a command")
    }
    invariant(again == parsed, "canonical form \(canonical) parses differently from \(words)")
}

/// The command path, every option as `--name` or `--name=value`, then `--` and the positionals.
func canonicalWords(_ parsed: ParsedCommand, accepted: [OptionSpec]) -> [String] {
    var words = parsed.path
    for (name, values) in parsed.options.sorted(by: { $0.key < $1.key }) {
        let isFlag = accepted.first { $0.long == name }?.isFlag ?? false
        words += values.map { isFlag ? "--\(name)" : "--\(name)=\($0)" }
    }
    return words + ["--"] + parsed.arguments
}
