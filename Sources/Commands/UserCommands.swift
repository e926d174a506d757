import MCPAuth

/// `mcpctl user add|list|show|disable|enable|remove|passwd`.
enum UserCommands {
    static func run(_ c: Context) throws -> Int32 {
        let users = Users(store: try c.store())
        switch c.parsed.path[1] {
        case "add":
            if let name = c.option("name") { try UserName.validate(name) }
            let password = try PasswordInput.read(fromStdin: c.flag("password-stdin"), confirm: true)
            let user = try users.add(email: c.argument(0), name: c.option("name"), password: password)
            if c.json { c.out.emit(user.json) } else {
                c.out.line("Added user \(user.email)" + (user.hasPassword ? "" : " (no password: tokens only until 'mcpctl user passwd')"))
            }
        case "list":
            let list = try users.list()
            if c.json { c.out.emit(.array(list.map(\.json))); break }
            c.out.table(["EMAIL", "NAME", "STATUS", "PASSWORD", "CREATED"], list.map {
                [$0.email, $0.name ?? "-", $0.disabledAt == nil ? "active" : "disabled", $0.hasPassword ? "set" : "-", Output.time($0.createdAt)]
            }, empty: "No users. Add one with: mcpctl user add EMAIL")
        case "show":
            let user = try users.require(c.argument(0))
            let store = try c.store()
            let grants = try Grants(store: store).list(email: user.email)
            let tokens = try Tokens(store: store).list(email: user.email, includeInactive: false)
            if c.json {
                var j = user.json
                j.set("grants", .array(grants.map(\.json)))
                j.set("tokens", .array(tokens.map(\.json)))
                c.out.emit(j)
                break
            }
            c.out.line("Email:    \(user.email)")
            c.out.line("Name:     \(user.name ?? "-")")
            c.out.line("Status:   \(user.disabledAt == nil ? "active" : "disabled since \(Output.time(user.disabledAt))")")
            c.out.line("Password: \(user.hasPassword ? "set" : "not set")")
            c.out.line("Created:  \(Output.time(user.createdAt))")
            c.out.line("Grants:   " + (grants.isEmpty ? "none" : grants.map(\.label).joined(separator: ", ")))
            c.out.line("Tokens:   \(tokens.count) live")
        case "disable":
            let n = try users.disable(email: c.argument(0))
            if c.json { c.out.emit(.object([("email", .string(c.argument(0).lowercased())), ("status", "disabled"), ("revoked", .int(Int64(n)))])) }
            else { c.out.line("Disabled \(c.argument(0).lowercased()); revoked \(n) credential\(n == 1 ? "" : "s")") }
        case "enable":
            try users.enable(email: c.argument(0))
            if c.json { c.out.emit(.object([("email", .string(c.argument(0).lowercased())), ("status", "active")])) }
            else { c.out.line("Enabled \(c.argument(0).lowercased())") }
        case "remove":
            try users.remove(email: c.argument(0))
            if c.json { c.out.emit(.object([("email", .string(c.argument(0).lowercased())), ("removed", .bool(true))])) }
            else { c.out.line("Removed \(c.argument(0).lowercased()) with their tokens, grants and consents") }
        case "passwd":
            _ = try users.require(c.argument(0))
            guard let password = try PasswordInput.read(fromStdin: c.flag("password-stdin"), confirm: true) else {
                throw CommandFailure(message: "no terminal to ask for a password; use --password-stdin", code: ExitCode.failure)
            }
            try users.setPassword(email: c.argument(0), password: password)
            if c.json { c.out.emit(.object([("email", .string(c.argument(0).lowercased())), ("password", "set")])) }
            else { c.out.line("Password set for \(c.argument(0).lowercased())") }
        default:
            throw CommandUsageError(message: "Unknown command 'user \(c.parsed.path[1])'")
        }
        return ExitCode.success
    }
}
