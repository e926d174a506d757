import MCPAuth

/// `mcpctl app add|update|show|list|remove`.
enum AppCommands {
    static func run(_ c: Context) throws -> Int32 {
        let apps = Apps(store: try c.store())
        switch c.parsed.path[1] {
        case "add":
            let env = try c.require("env")
            let command = try self.command(c)
            if (c.option("upstream") == nil) == (command == nil) {
                throw CommandUsageError(message: "give exactly one of '--upstream URL' or '--command CMD'")
            }
            try checkUpstream(c)
            let headers = try references(c, "upstream-header", kind: .header, allowRemoval: false).compactMap(\.credential)
            let variables = try references(c, "env-var", kind: .environmentVariable, allowRemoval: false).compactMap(\.credential)
            let e = try apps.add(app: c.argument(0), env: env, upstream: c.option("upstream"), command: command, timeoutSeconds: try timeout(c),
                                 headers: headers, environmentVariables: variables)
            if c.json { c.out.emit(e.json) } else { c.out.line("Added \(e.app)/\(e.env) → \(describe(e)); served at /mcp/\(e.app)/\(e.env)") }
        case "update":
            var change = Apps.Update()
            change.upstream = c.option("upstream")
            change.command = try command(c)
            try checkUpstream(c)
            if let t = try timeout(c) { change.timeoutSeconds = .some(t) }
            change.headers = try references(c, "upstream-header", kind: .header, allowRemoval: true)
            change.environmentVariables = try references(c, "env-var", kind: .environmentVariable, allowRemoval: true)
            let e = try apps.update(app: c.argument(0), env: try c.require("env"), change)
            if c.json { c.out.emit(e.json) } else { c.out.line("Updated \(e.app)/\(e.env) → \(describe(e))") }
        case "show":
            let list = try apps.list().filter { $0.app == c.argument(0) && (c.option("env") == nil || $0.env == c.option("env")) }
            guard !list.isEmpty else {
                if try apps.appID(c.argument(0)) == nil { throw DomainError.notFound("no app named '\(c.argument(0))' (see 'mcpctl app list')") }
                throw DomainError.notFound("app '\(c.argument(0))' has no environment '\(c.option("env") ?? "")' (see 'mcpctl app list')")
            }
            if c.json { c.out.emit(c.option("env") != nil ? list[0].json : .array(list.map(\.json))); break }
            for (i, e) in list.enumerated() {
                if i > 0 { c.out.line("") }
                show(e, c)
            }
        case "list":
            let list = try apps.list()
            if c.json { c.out.emit(.array(list.map(\.json))); break }
            c.out.table(["APP", "ENV", "UPSTREAM", "CREDENTIALS", "CREATED"], list.map {
                [$0.app, $0.env, describe($0), credentialNames($0), Output.time($0.createdAt)]
            })
        case "remove":
            try apps.remove(app: c.argument(0), env: c.option("env"))
            let what = c.option("env").map { "\(c.argument(0))/\($0)" } ?? c.argument(0)
            if c.json { c.out.emit(.object([("app", .string(c.argument(0))), ("env", .str(c.option("env"))), ("removed", .bool(true))])) }
            else { c.out.line("Removed \(what)") }
        default: throw CommandUsageError(message: "Unknown command 'app \(c.parsed.path[1])'")
        }
        return ExitCode.success
    }

    /// One environment, for people: where its upstream is and which references it sends (never values).
    static func show(_ e: AppEnvironment, _ c: Context) {
        c.out.line("\(e.app)/\(e.env)")
        c.out.line("  upstream:  \(describe(e))")
        c.out.line("  served at: /mcp/\(e.app)/\(e.env)")
        c.out.line("  timeout:   \(e.timeoutSeconds.map { "\(Int($0))s" } ?? "server default (--upstream-timeout)")")
        for h in e.upstreamHeaders { c.out.line("  header:    \(h.name) from \(h.reference)") }
        for v in e.environmentVariables { c.out.line("  env var:   \(v.name) from \(v.reference)") }
        c.out.line("  created:   \(Output.time(e.createdAt))")
    }

    static func credentialNames(_ e: AppEnvironment) -> String {
        let names = e.upstreamHeaders.map { "header \($0.name)" } + e.environmentVariables.map { "env \($0.name)" }
        return names.isEmpty ? "-" : names.joined(separator: ", ")
    }

    static func command(_ c: Context) throws -> [String]? {
        guard let text = c.option("command") else { return nil }
        do { return try ShellWords.split(text) } catch let e as ShellWords.SplitError {
            throw CommandUsageError(message: "Invalid '--command': \(e.message)")
        }
    }

    static func checkUpstream(_ c: Context) throws {
        if let upstream = c.option("upstream"), let problem = UpstreamURL.malformation(upstream) {
            throw CommandUsageError(message: "Invalid '--upstream': \(problem)")
        }
    }

    static func timeout(_ c: Context) throws -> Double? {
        guard let v = c.option("timeout") else { return nil }
        guard let secs = DurationText.seconds(v), secs >= 1, secs <= 86_400 else {
            throw CommandUsageError(message: "Invalid '--timeout' '\(v)': use a duration from 1s to 24h, e.g. 30s or 2m")
        }
        return Double(secs)
    }

    /// The `NAME=env:VAR` / `NAME=file:PATH` references given with `--<option>` (with `allowRemoval`,
    /// `NAME=` removes NAME).
    static func references(_ c: Context, _ option: String, kind: UpstreamCredential.Kind,
                           allowRemoval: Bool) throws -> [(name: String, credential: UpstreamCredential?)] {
        try c.parsed.values(option).map { text in
            do { return try UpstreamCredential.parse(text, kind: kind, allowRemoval: allowRemoval) } catch let e as DomainError {
                throw CommandUsageError(message: e.description)
            }
        }
    }

    static func describe(_ e: AppEnvironment) -> String {
        if e.isBuiltIn { return "(built in)" }
        if let u = e.upstreamURL { return u }
        return "stdio: " + (e.command ?? []).map { ShellWords.quote($0) }.joined(separator: " ")
    }
}
