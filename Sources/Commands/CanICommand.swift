import MCPAuth

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
                                      ("scopes", .array(d.effective.list.map { .string($0) })), ("reason", .string(d.reason)),
                                      ("via", .str(d.via))]))
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
                                ("reason", .string(reason)), ("via", .str(d.via))]))
        } else {
            c.out.line(d.allowed ? "yes" : "no")
            c.out.line(reason)
        }
        return d.allowed ? ExitCode.success : ExitCode.failure
    }
}
