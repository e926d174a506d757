/// The scope each MCP method and tool needs, the tools the gateway has seen, and the
/// operator's overrides.
public struct ToolScopes: Sendable {
    let store: Store
    var db: Database { store.db }

    public init(store: Store) { self.store = store }

    /// A tool as last listed by an upstream.
    public struct SeenTool: Sendable {
        public let app: String
        public let env: String
        public let name: String
        public let annotations: JSON?
        public let description: String?
        public let seenAt: Int64
    }

    /// Scope a tool needs from its annotations alone: `readOnlyHint: true` → read; `destructiveHint: false`
    /// → write; otherwise delete (MCP 2025-11-25 treats an unannotated tool as destructive).
    public static func fromAnnotations(_ annotations: JSON?) -> (ScopeSet, String) {
        if annotations?["readOnlyHint"]?.boolValue == true { return (.read, "annotated readOnlyHint") }
        if annotations?["destructiveHint"]?.boolValue == false { return (.write, "annotated destructiveHint: false") }
        if annotations?["destructiveHint"]?.boolValue == true { return (.delete, "annotated destructiveHint") }
        return (.delete, "no annotations: treated as destructive")
    }

    /// Scope a non-tool JSON-RPC method needs: reading and housekeeping → read; anything unknown → delete.
    public static func forMethod(_ method: String) -> ScopeSet {
        let readMethods: Set<String> = [
            "initialize", "ping", "tools/list", "resources/list", "resources/read", "resources/templates/list",
            "resources/subscribe", "resources/unsubscribe", "prompts/list", "prompts/get", "completion/complete",
            "logging/setLevel", "server/discover", "subscriptions/listen", "tasks/get", "tasks/list", "tasks/result", "tasks/cancel",
        ]
        if readMethods.contains(method) || method.hasPrefix("notifications/") { return .read }
        return .delete
    }

    public func override(app: String, tool: String) throws -> ScopeSet? {
        guard let row = try db.first("SELECT scope FROM tool_scopes WHERE app = ? AND tool = ?", [.text(app), .text(tool)]) else { return nil }
        guard let scope = ScopeSet.named(try row.text("scope", of: "tool_scopes")) else { throw MalformedRow(table: "tool_scopes", column: "scope") }
        return scope
    }

    /// The scope a call of `tool` needs: the operator's override first, else the annotations last seen.
    public func required(app: String, env: String, tool: String, annotations: JSON?) throws -> (ScopeSet, String) {
        let r = try requirement(app: app, env: env, tool: tool, annotations: annotations)
        return (r.scope, r.why)
    }

    /// What a call of `tool` needs, and whether that is known: an override, or a tool the upstream listed.
    /// An unknown tool needs delete (MCP 2025-11-25: no annotations means destructive), so the gateway
    /// asks the upstream for its list before it decides.
    public func requirement(app: String, env: String, tool: String, annotations: JSON?) throws -> (scope: ScopeSet, why: String, known: Bool) {
        if let o = try override(app: app, tool: tool) { return (o, "set by 'mcpctl tool scope'", true) }
        if let annotations {
            let (scope, why) = ToolScopes.fromAnnotations(annotations)
            return (scope, why, true)
        }
        let row = try db.first("SELECT annotations FROM tools WHERE app = ? AND env = ? AND name = ?", [.text(app), .text(env), .text(tool)])
        let (scope, why) = ToolScopes.fromAnnotations(try row.flatMap(ToolScopes.annotations))
        return (scope, why, row != nil)
    }

    /// Sets (or with nil clears) the operator's override; the tool need not have been seen yet.
    public func setOverride(app: String, tool: String, scope: ScopeSet?) throws {
        guard !tool.isEmpty, tool.count <= 128 else { throw DomainError.invalid("tool name must be 1-128 characters") }
        try db.write {
            guard try Apps(store: store).appID(app) != nil else { throw DomainError.notFound("no app named '\(app)' (see 'mcpctl app list')") }
            if let scope {
                try db.run("""
                    INSERT INTO tool_scopes (app, tool, scope, set_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(app, tool) DO UPDATE SET scope = excluded.scope, set_at = excluded.set_at
                    """, [.text(app), .text(tool), .text(scope.description), .integer(Clock.nowMillis())])
            } else {
                try db.run("DELETE FROM tool_scopes WHERE app = ? AND tool = ?", [.text(app), .text(tool)])
            }
            try AuditLog.append(.cli("tool.scope", app: app, target: tool, reason: scope.map { "scope=\($0)" } ?? "scope=auto"), to: db)
        }
    }

    /// Replaces the remembered tool list of app/env with what the upstream just listed.
    public func record(app: String, env: String, tools: [(name: String, annotations: JSON?, description: String?)]) throws {
        try db.write {
            let now = Clock.nowMillis()
            try db.run("DELETE FROM tools WHERE app = ? AND env = ?", [.text(app), .text(env)])
            for t in tools {
                try db.run("""
                    INSERT INTO tools (app, env, name, annotations, description, seen_at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (app, env, name) DO UPDATE SET annotations = excluded.annotations,
                        description = excluded.description, seen_at = excluded.seen_at
                    """,
                           [.text(app), .text(env), .text(t.name), .text(t.annotations?.encoded()), .text(t.description.map { String($0.prefix(500)) }), .integer(now)])
            }
        }
    }

    /// Tools seen on the app (optionally one environment), plus overridden tools not seen yet.
    public func list(app: String, env: String?) throws -> [(tool: SeenTool, scope: ScopeSet, why: String)] {
        var sql = "SELECT app, env, name, annotations, description, seen_at FROM tools WHERE app = ?"
        var args: [SQLValue] = [.text(app)]
        if let env { sql += " AND env = ?"; args.append(.text(env)) }
        var out: [(tool: SeenTool, scope: ScopeSet, why: String)] = []
        var names = Set<String>()
        for row in try db.query(sql + " ORDER BY env, name", args) {
            let t = SeenTool(app: app, env: try row.text("env", of: "tools"), name: try row.text("name", of: "tools"),
                             annotations: try ToolScopes.annotations(row), description: try row.optionalText("description", of: "tools"),
                             seenAt: try row.integer("seen_at", of: "tools"))
            let (scope, why) = try required(app: app, env: t.env, tool: t.name, annotations: t.annotations ?? .object([]))
            names.insert(t.name)
            out.append((t, scope, why))
        }
        for row in try db.query("SELECT tool, scope, set_at FROM tool_scopes WHERE app = ? ORDER BY tool", [.text(app)]) {
            let name = try row.text("tool", of: "tool_scopes")
            guard !names.contains(name) else { continue }
            guard let scope = ScopeSet.named(try row.text("scope", of: "tool_scopes")) else { throw MalformedRow(table: "tool_scopes", column: "scope") }
            out.append((SeenTool(app: app, env: env ?? "-", name: name, annotations: nil, description: nil, seenAt: 0),
                        scope, "set by 'mcpctl tool scope' (not seen yet)"))
        }
        return out
    }

    /// The annotations an upstream listed for a tool (a JSON object); nil when it listed none.
    static func annotations(_ row: Row) throws -> JSON? {
        guard let text = try row.optionalText("annotations", of: "tools") else { return nil }
        guard let json = try? JSON.parse(text) else { throw MalformedRow(table: "tools", column: "annotations") }
        return json
    }
}
