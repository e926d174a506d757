import MCPAuth

/// `mcpctl grant add|list|revoke`, to a user (EMAIL) or to a group (`--group NAME`).
enum GrantCommands {
    static func run(_ c: Context) throws -> Int32 {
        let grants = Grants(store: try c.store())
        switch c.parsed.path[1] {
        case "add": try add(c, grants)
        case "list": try list(c, grants)
        case "revoke": try revoke(c, grants)
        default: throw CommandUsageError(message: "Unknown command 'grant \(c.parsed.path[1])'")
        }
        return ExitCode.success
    }

    /// Who a grant is for: the EMAIL argument or `--group NAME`, exactly one.
    enum Grantee {
        case user(String)
        case group(String)

        init(_ c: Context) throws {
            switch (c.parsed.arguments.first, c.option("group")) {
            case (let email?, nil): self = .user(email)
            case (nil, let group?): self = .group(group)
            case (nil, nil): throw CommandUsageError(message: "Missing expected argument '<EMAIL>' (or '--group NAME')")
            default: throw CommandUsageError(message: "give an EMAIL or '--group NAME', not both")
            }
        }
    }

    static func scopes(_ c: Context) throws -> ScopeSet {
        switch (c.option("role"), c.option("scopes")) {
        case (let role?, nil):
            guard let s = ScopeSet.role(role) else { throw CommandUsageError(message: "Invalid role '\(role)': use viewer, editor or admin") }
            return s
        case (nil, let text?):
            return try TokenCommands.parseScopes(text)
        case (nil, nil): throw CommandUsageError(message: "give '--role viewer|editor|admin' or '--scopes read,write'")
        default: throw CommandUsageError(message: "give '--role' or '--scopes', not both")
        }
    }

    static func add(_ c: Context, _ grants: Grants) throws {
        let grantee = try Grantee(c)
        let app = try c.require("app")
        let scopes = try scopes(c)
        let env = c.option("env") ?? "*"
        switch grantee {
        case .user(let email):
            let g = try grants.add(email: email, app: app, env: env, scopes: scopes)
            if c.json { c.out.emit(g.json) } else { c.out.line("Granted \(g.email) \(g.label) (scopes \(g.scopes))") }
        case .group(let name):
            let g = try grants.add(group: name, app: app, env: env, scopes: scopes)
            if c.json { c.out.emit(g.json) } else {
                c.out.line("Granted group \(g.group ?? name) \(Grant.roleName(g.scopes)) on \(g.app)/\(g.env) (scopes \(g.scopes))")
            }
        }
    }

    static func list(_ c: Context, _ grants: Grants) throws {
        let list = try grants.list(email: c.option("email"), app: c.option("app"), group: c.option("group"))
        if c.json { c.out.emit(.array(list.map(\.json))); return }
        c.out.table(["EMAIL", "GROUP", "APP", "ENV", "ROLE", "SCOPES", "CREATED"], list.map {
            [$0.email.isEmpty ? "-" : $0.email, $0.group ?? "-", $0.app, $0.env, Grant.roleName($0.scopes), $0.scopes.description,
             Output.time($0.createdAt)]
        }, empty: "No grants. Add one with: mcpctl grant add EMAIL --app APP --env ENV --role viewer")
    }

    static func revoke(_ c: Context, _ grants: Grants) throws {
        let grantee = try Grantee(c)
        let app = try c.require("app")
        let env = c.option("env")
        let (n, email, group): (Int, String?, String?)
        switch grantee {
        case .user(let e): (n, email, group) = (try grants.revoke(email: e, app: app, env: env), e.lowercased(), nil)
        case .group(let g): (n, email, group) = (try grants.revoke(group: g, app: app, env: env), nil, g)
        }
        if c.json {
            c.out.emit(.object([("email", .str(email)), ("group", .str(group)), ("app", .string(app)), ("env", .str(env)), ("revoked", .int(Int64(n)))]))
            return
        }
        let who = email ?? "group \(group ?? "")"
        c.out.line("Revoked \(n) grant\(n == 1 ? "" : "s") of \(who) on \(app)\(env.map { "/\($0)" } ?? "")")
    }
}
