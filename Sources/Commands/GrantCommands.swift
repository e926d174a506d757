import MCPAuth

/// `mcpctl grant add|list|revoke`.
enum GrantCommands {
    static func run(_ c: Context) throws -> Int32 {
        let grants = Grants(store: try c.store())
        switch c.parsed.path[1] {
        case "add":
            let app = try c.require("app")
            let scopes: ScopeSet
            switch (c.option("role"), c.option("scopes")) {
            case (let role?, nil):
                guard let s = ScopeSet.role(role) else { throw CommandUsageError(message: "Invalid role '\(role)': use viewer, editor or admin") }
                scopes = s
            case (nil, let text?):
                scopes = try TokenCommands.parseScopes(text)
            case (nil, nil): throw CommandUsageError(message: "give '--role viewer|editor|admin' or '--scopes read,write'")
            default: throw CommandUsageError(message: "give '--role' or '--scopes', not both")
            }
            let g = try grants.add(email: c.argument(0), app: app, env: c.option("env") ?? "*", scopes: scopes)
            if c.json { c.out.emit(g.json) } else { c.out.line("Granted \(g.email) \(g.label) (scopes \(g.scopes))") }
        case "list":
            let list = try grants.list(email: c.option("email"), app: c.option("app"))
            if c.json { c.out.emit(.array(list.map(\.json))); break }
            c.out.table(["EMAIL", "APP", "ENV", "ROLE", "SCOPES", "CREATED"], list.map {
                [$0.email, $0.app, $0.env, Grant.roleName($0.scopes), $0.scopes.description, Output.time($0.createdAt)]
            }, empty: "No grants. Add one with: mcpctl grant add EMAIL --app APP --env ENV --role viewer")
        case "revoke":
            let app = try c.require("app")
            let n = try grants.revoke(email: c.argument(0), app: app, env: c.option("env"))
            if c.json { c.out.emit(.object([("email", .string(c.argument(0).lowercased())), ("app", .string(app)), ("env", .str(c.option("env"))), ("revoked", .int(Int64(n)))])) }
            else { c.out.line("Revoked \(n) grant\(n == 1 ? "" : "s") of \(c.argument(0).lowercased()) on \(app)\(c.option("env").map { "/\($0)" } ?? "")") }
        default: throw CommandUsageError(message: "Unknown command 'grant \(c.parsed.path[1])'")
        }
        return ExitCode.success
    }
}
