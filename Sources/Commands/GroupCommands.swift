import MCPAuth

/// `mcpctl group add|list|show|remove` and `mcpctl group member add|remove`.
enum GroupCommands {
    static func run(_ c: Context) throws -> Int32 {
        let groups = Groups(store: try c.store())
        switch c.parsed.path[1] {
        case "add": try add(c, groups)
        case "list": try list(c, groups)
        case "show": try show(c, groups)
        case "remove": try remove(c, groups)
        case "member": try member(c, groups)
        default: throw CommandUsageError(message: "Unknown command 'group \(c.parsed.path[1])'")
        }
        return ExitCode.success
    }

    static func add(_ c: Context, _ groups: Groups) throws {
        let g = try groups.add(name: c.argument(0), idpGroup: c.option("idp-group"), idp: c.option("idp"))
        if c.json { c.out.emit(g.json); return }
        c.out.line("Added group \(g.name)" + (g.idpGroup.map { " (follows " + provider(g) + "'s group '\($0)')" } ?? ""))
        if g.idpGroup != nil && g.idp == nil { c.out.line("No identity provider yet: the mapping follows the first one added with 'mcpctl idp add'") }
    }

    static func list(_ c: Context, _ groups: Groups) throws {
        let list = try groups.list()
        if c.json { c.out.emit(.array(list.map(\.json))); return }
        c.out.table(["NAME", "IDP GROUP", "MEMBERS", "GRANTS", "CREATED"], list.map { g in
            [g.name, g.idpGroup.map { "\($0) (\(provider(g)))" } ?? "-", String(g.memberCount), String(g.grantCount), Output.time(g.createdAt)]
        }, empty: "No groups. Add one with: mcpctl group add NAME")
    }

    static func show(_ c: Context, _ groups: Groups) throws {
        let g = try groups.require(c.argument(0))
        let members = try groups.members(of: g.name)
        let grants = try Grants(store: try c.store()).list(group: g.name)
        if c.json {
            var j = g.json
            j.set("members", .array(members.map { .object([("email", .string($0.email)), ("status", .string($0.disabledAt == nil ? "active" : "disabled"))]) }))
            j.set("grants", .array(grants.map(\.json)))
            c.out.emit(j)
            return
        }
        c.out.line("Name:      \(g.name)")
        c.out.line("IdP group: \(g.idpGroup.map { "\($0) (\(provider(g)))" } ?? "-")")
        c.out.line("Created:   \(Output.time(g.createdAt))")
        c.out.line("Members:   " + (members.isEmpty ? "none" : members.map { $0.email + ($0.disabledAt == nil ? "" : " (disabled)") }.joined(separator: ", ")))
        c.out.line("Grants:    " + (grants.isEmpty ? "none" : grants.map { "\(Grant.roleName($0.scopes)) on \($0.app)/\($0.env)" }.joined(separator: ", ")))
    }

    static func remove(_ c: Context, _ groups: Groups) throws {
        let g = try groups.remove(c.argument(0))
        if c.json {
            c.out.emit(.object([("name", .string(g.name)), ("removed", .bool(true)), ("member_count", .int(g.memberCount)), ("grant_count", .int(g.grantCount))]))
            return
        }
        c.out.line("Removed group \(g.name) with its \(plural(g.memberCount, "membership")) and \(plural(g.grantCount, "grant"))")
    }

    /// `group member add|remove NAME EMAIL`.
    static func member(_ c: Context, _ groups: Groups) throws {
        let adding = c.parsed.path[2] == "add"
        let m = adding ? try groups.addMember(group: c.argument(0), email: c.argument(1))
                       : try groups.removeMember(group: c.argument(0), email: c.argument(1))
        if c.json {
            c.out.emit(.object([("group", .string(m.group)), ("email", .string(m.email)), ("member", .bool(adding))]))
            return
        }
        c.out.line(adding ? "Added \(m.email) to group \(m.group)" : "Removed \(m.email) from group \(m.group)")
    }

    /// The provider a mapping follows, as shown to the operator.
    static func provider(_ g: Group) -> String { g.idp ?? "no identity provider" }

    static func plural(_ n: Int64, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
}
