import MCPAuth

/// `mcpctl tool list|scope|approve|diff`.
enum ToolCommands {
    static func run(_ c: Context) throws -> Int32 {
        let store = try c.store()
        let tools = ToolScopes(store: store)
        switch c.parsed.path[1] {
        case "list":
            guard try Apps(store: store).appID(c.argument(0)) != nil else { throw DomainError.notFound("no app named '\(c.argument(0))'") }
            let list = try tools.list(app: c.argument(0), env: c.option("env"))
            let pins = Dictionary(try ToolPins(store: store).pins(app: c.argument(0), env: c.option("env")).map { ($0.env + "\u{0}" + $0.name, $0) },
                                  uniquingKeysWith: { a, _ in a })
            let pin = { (t: ToolScopes.SeenTool) in pins[t.env + "\u{0}" + t.name] }
            if c.json {
                c.out.emit(.array(list.map { t in
                    .object([("app", .string(t.tool.app)), ("env", .string(t.tool.env)), ("tool", .string(t.tool.name)),
                             ("scope", .string(t.scope.description)), ("why", .string(t.why)), ("annotations", t.tool.annotations ?? .null),
                             ("seen_at", t.tool.seenAt > 0 ? .string(Clock.rfc3339(t.tool.seenAt)) : .null),
                             ("pin", .str(pin(t.tool)?.state.rawValue)), ("pinned_sha256", .str(pin(t.tool)?.approvedHash))])
                }))
                break
            }
            c.out.table(["ENV", "TOOL", "SCOPE", "WHY", "PIN", "SEEN"], list.map {
                [$0.tool.env, $0.tool.name, $0.scope.description, $0.why, pinText(pin($0.tool)), $0.tool.seenAt > 0 ? Output.ago($0.tool.seenAt) : "-"]
            }, empty: "No tools seen yet on \(c.argument(0)): they appear after a client lists them through the gateway.")
        case "scope":
            let scopeText = c.argument(2)
            let scope: ScopeSet?
            if scopeText == "auto" { scope = nil } else {
                guard let s = ScopeSet.named(scopeText) else {
                    throw CommandUsageError(message: "Invalid scope '\(scopeText)': use read, write, delete or auto")
                }
                scope = s
            }
            try tools.setOverride(app: c.argument(0), tool: c.argument(1), scope: scope)
            if c.json { c.out.emit(.object([("app", .string(c.argument(0))), ("tool", .string(c.argument(1))), ("scope", .string(scopeText))])) }
            else { c.out.line(scope.map { "Tool \(c.argument(1)) on \(c.argument(0)) now needs \($0)" } ?? "Tool \(c.argument(1)) on \(c.argument(0)) follows its annotations again") }
        case "approve":
            let approved = try ToolPins(store: store).approve(app: c.argument(0), tool: c.argument(1), env: c.option("env"))
            if c.json {
                c.out.emit(.array(approved.map { .object([("app", .string($0.app)), ("env", .string($0.env)), ("tool", .string($0.name)),
                                                          ("sha256", .str($0.pendingHash)), ("approved", .bool(true))]) }))
            } else {
                for p in approved { c.out.line("Approved \(p.name) on \(p.app)/\(p.env) (sha256 \(p.pendingHash?.prefix(12) ?? "")…); it is served again") }
            }
        case "diff":
            return try ToolDiffCommand.run(c, store: store)
        default: throw CommandUsageError(message: "Unknown command 'tool \(c.parsed.path[1])'")
        }
        return ExitCode.success
    }

    static func pinText(_ pin: ToolPins.Pin?) -> String {
        switch pin?.state {
        case nil: return "-"
        case .pinned: return "pinned"
        case .changed: return "CHANGED (held)"
        case .new: return "new (held)"
        }
    }
}
