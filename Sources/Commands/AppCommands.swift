import MCPAuth

/// `mcpctl app add|list|remove`.
enum AppCommands {
    static func run(_ c: Context) throws -> Int32 {
        let apps = Apps(store: try c.store())
        switch c.parsed.path[1] {
        case "add":
            let env = try c.require("env")
            var command: [String]?
            if let text = c.option("command") {
                do { command = try ShellWords.split(text) } catch let e as ShellWords.SplitError {
                    throw CommandUsageError(message: "Invalid '--command': \(e.message)")
                }
            }
            if (c.option("upstream") == nil) == (command == nil) {
                throw CommandUsageError(message: "give exactly one of '--upstream URL' or '--command CMD'")
            }
            if let upstream = c.option("upstream"), let problem = UpstreamURL.malformation(upstream) {
                throw CommandUsageError(message: "Invalid '--upstream': \(problem)")
            }
            var timeout: Double?
            if let v = c.option("timeout") {
                guard let secs = DurationText.seconds(v), secs >= 1, secs <= 86_400 else {
                    throw CommandUsageError(message: "Invalid '--timeout' '\(v)': use a duration from 1s to 24h, e.g. 30s or 2m")
                }
                timeout = Double(secs)
            }
            let e = try apps.add(app: c.argument(0), env: env, upstream: c.option("upstream"), command: command, timeoutSeconds: timeout)
            if c.json { c.out.emit(e.json) } else { c.out.line("Added \(e.app)/\(e.env) → \(describe(e)); served at /mcp/\(e.app)/\(e.env)") }
        case "list":
            let list = try apps.list()
            if c.json { c.out.emit(.array(list.map(\.json))); break }
            c.out.table(["APP", "ENV", "UPSTREAM", "CREATED"], list.map { [$0.app, $0.env, describe($0), Output.time($0.createdAt)] })
        case "remove":
            try apps.remove(app: c.argument(0), env: c.option("env"))
            let what = c.option("env").map { "\(c.argument(0))/\($0)" } ?? c.argument(0)
            if c.json { c.out.emit(.object([("app", .string(c.argument(0))), ("env", .str(c.option("env"))), ("removed", .bool(true))])) }
            else { c.out.line("Removed \(what)") }
        default: throw CommandUsageError(message: "Unknown command 'app \(c.parsed.path[1])'")
        }
        return ExitCode.success
    }

    static func describe(_ e: AppEnvironment) -> String {
        if e.isBuiltIn { return "(built in)" }
        if let u = e.upstreamURL { return u }
        return "stdio: " + (e.command ?? []).map { ShellWords.quote($0) }.joined(separator: " ")
    }
}
