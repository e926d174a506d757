import MCPAuth

/// `mcpctl tool diff APP TOOL [--env ENV]`: what changed in a held tool's definition, as a unified diff of
/// its canonical JSON (the approved definition against the one the upstream offers now). Exit 0 when a
/// change waits for approval, 1 when none does. Everything shown came from an upstream, so every line is
/// escaped for the terminal and cut to a readable length.
enum ToolDiffCommand {
    /// Longest line shown; the rest is counted, not printed (descriptions can be megabytes).
    static let maxLineCharacters = 400
    /// Most lines compared per definition; a longer definition is shown as removed and added whole.
    static let maxLines = 2_000

    static func run(_ c: Context, store: Store) throws -> Int32 {
        let pins = ToolPins(store: store)
        let held: [ToolPins.Pin]
        do {
            held = try pins.pending(app: c.argument(0), tool: c.argument(1), env: c.option("env"))
        } catch DomainError.conflict(let message) {
            if c.json { c.out.emit(.array([])) } else { c.out.line("No change pending: \(message)") }
            return ExitCode.failure
        }
        if c.json {
            c.out.emit(.array(held.map { pin in
                .object([("app", .string(pin.app)), ("env", .string(pin.env)), ("tool", .string(pin.name)), ("state", .string(pin.state.rawValue)),
                         ("approved_sha256", .str(pin.approvedHash)), ("pending_sha256", .str(pin.pendingHash)),
                         ("approved", pin.approvedDefinition.flatMap { try? JSON.parse($0) } ?? .null),
                         ("pending", pin.pendingDefinition.flatMap { try? JSON.parse($0) } ?? .null),
                         ("diff", .array(lines(pin).map { .string(cut($0)) }))])
            }))
            return ExitCode.success
        }
        for pin in held {
            for line in lines(pin) { Output.write(TerminalText.escape(cut(line)) + "\n") }
        }
        return ExitCode.success
    }

    /// The unified diff of one pin, headers included (whole-definition context: definitions are short).
    static func lines(_ pin: ToolPins.Pin) -> [String] {
        let old = pretty(pin.approvedDefinition), new = pretty(pin.pendingDefinition)
        let label = "\(pin.app)/\(pin.env) \(pin.name)"
        var out = ["--- \(label) approved" + (pin.approvedHash.map { " sha256:\($0)" } ?? " (never approved)"),
                   "+++ \(label) offered sha256:\(pin.pendingHash ?? "")" + (pin.changedAt.map { " since \(Clock.rfc3339($0))" } ?? ""),
                   "@@ -\(old.isEmpty ? 0 : 1),\(old.count) +\(new.isEmpty ? 0 : 1),\(new.count) @@"]
        out += diff(old, new)
        return out
    }

    /// Canonical JSON, one member per line (keys stay sorted), or nothing.
    static func pretty(_ canonical: String?) -> [String] {
        guard let canonical, let json = try? JSON.parse(canonical) else { return [] }
        return json.encoded(pretty: true).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    static func cut(_ line: String) -> String {
        guard line.count > maxLineCharacters else { return line }
        return String(line.prefix(maxLineCharacters)) + "… (\(line.count - maxLineCharacters) more characters)"
    }

    /// Lines of `a` and `b` as ' ', '-' and '+' lines: common head and tail kept, the middle aligned by a
    /// longest common subsequence (or, past `maxLines`, removed and added whole).
    static func diff(_ a: [String], _ b: [String]) -> [String] {
        var head = 0
        while head < a.count, head < b.count, a[head] == b[head] { head += 1 }
        var tail = 0
        while tail < a.count - head, tail < b.count - head, a[a.count - 1 - tail] == b[b.count - 1 - tail] { tail += 1 }
        let x = Array(a[head..<(a.count - tail)]), y = Array(b[head..<(b.count - tail)])
        var middle: [String] = []
        if x.count > maxLines || y.count > maxLines {
            middle = x.map { "-" + $0 } + y.map { "+" + $0 }
        } else {
            // lcs[i][j]: length of the longest common subsequence of x[i...] and y[j...].
            var lcs = Array(repeating: Array(repeating: 0, count: y.count + 1), count: x.count + 1)
            for i in stride(from: x.count - 1, through: 0, by: -1) {
                for j in stride(from: y.count - 1, through: 0, by: -1) {
                    lcs[i][j] = x[i] == y[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
                }
            }
            var i = 0, j = 0
            while i < x.count || j < y.count {
                if i < x.count, j < y.count, x[i] == y[j] { middle.append(" " + x[i]); i += 1; j += 1 }
                else if i < x.count, j == y.count || lcs[i + 1][j] >= lcs[i][j + 1] { middle.append("-" + x[i]); i += 1 }
                else { middle.append("+" + y[j]); j += 1 }
            }
        }
        return a[..<head].map { " " + $0 } + middle + a[(a.count - tail)...].map { " " + $0 }
    }
}
