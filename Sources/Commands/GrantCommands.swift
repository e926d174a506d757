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

/// `mcpctl can-i EMAIL ACTION --app A --env E [--token ID] [--list]`, answered like `kubectl auth can-i`.
enum CanICommand {
    static func run(_ c: Context) throws -> Int32 {
        let store = try c.store()
        let user = try Users(store: store).require(c.argument(0))
        var tokenScopes: ScopeSet?
        var binding: (app: String?, env: String?) = (nil, nil)
        var tokenID: String?
        var tokenProblem: String?
        if let ref = c.option("token") {
            let t = try Tokens(store: store).resolve(ref)
            guard t.userID == user.id else { throw DomainError.invalid("token \(t.id) belongs to \(t.email), not \(user.email)") }
            tokenScopes = t.scopes
            binding = (t.app, t.env)
            tokenID = t.id
            if t.status() != .active { tokenProblem = "token \(t.id) is \(t.status().rawValue)" }
        }
        if user.disabledAt != nil { tokenProblem = "user \(user.email) is disabled" }

        if c.flag("list") {
            var rows: [[String]] = []
            var items: [JSON] = []
            for env in try Apps(store: store).list() {
                let d = try Policy.answer(AccessRequest(userID: user.id, app: env.app, env: env.env, action: .anything,
                                                        tokenScopes: tokenScopes, tokenID: tokenID, binding: binding), store: store)
                guard d.hasAccess, !d.effective.isEmpty, tokenProblem == nil else { continue }
                rows.append([env.app, env.env, d.effective.description, d.reason])
                items.append(.object([("app", .string(env.app)), ("env", .string(env.env)),
                                      ("scopes", .array(d.effective.list.map { .string($0) })), ("reason", .string(d.reason))]))
            }
            if c.json { c.out.emit(.array(items)) } else {
                c.out.table(["APP", "ENV", "SCOPES", "BECAUSE"], rows, empty: tokenProblem.map { "Nothing: \($0)." } ?? "Nothing: \(user.email) has no grants.")
            }
            return ExitCode.success
        }

        guard c.parsed.arguments.count >= 2 else { throw CommandUsageError(message: "Missing expected argument '<ACTION>' (or use --list)") }
        let app = try c.require("app")
        let env = try c.require("env")
        let action = c.argument(1)
        let asked: AccessRequest.Action
        if action.hasPrefix("tool/") {
            let tool = String(action.dropFirst(5))
            guard !tool.isEmpty else { throw CommandUsageError(message: "Invalid action 'tool/': name the tool, e.g. tool/search") }
            asked = .tool(tool)
        } else if let s = ScopeSet.named(action) {
            asked = .scope(s)
        } else {
            throw CommandUsageError(message: "Invalid action '\(action)': use read, write, delete or tool/NAME")
        }
        var d = try Policy.answer(AccessRequest(userID: user.id, app: app, env: env, action: asked, tokenScopes: tokenScopes, tokenID: tokenID,
                                                binding: binding), store: store)
        let needed = d.needed ?? []
        let why = d.neededBecause.map { " (\(action.dropFirst(5)) needs \(needed): \($0))" } ?? ""
        if let tokenProblem { d = AccessDecision(allowed: false, effective: [], needed: needed, reason: tokenProblem, hasAccess: d.hasAccess) }
        let reason = d.reason + why
        if c.json {
            c.out.emit(.object([("allowed", .bool(d.allowed)), ("email", .string(user.email)), ("app", .string(app)), ("env", .string(env)),
                                ("action", .string(action)), ("needed", .array(needed.list.map { .string($0) })),
                                ("effective_scopes", .array(d.effective.list.map { .string($0) })), ("token_id", .str(tokenID)),
                                ("reason", .string(reason))]))
        } else {
            c.out.line(d.allowed ? "yes" : "no")
            c.out.line(reason)
        }
        return d.allowed ? ExitCode.success : ExitCode.failure
    }
}
