import MCPAuth

/// The held tools (quarantined: changed since approved, or new under `--tool-approval new`) of every
/// app/env, read from the store's tool pins and kept for one value of the store's policy generation
/// (every change to a pin moves it), so that a `tools/call` costs no extra store read while nothing changes.
final class HeldTools: Sendable {
    /// What the pins of one app/env say.
    private struct Environment {
        /// Held tools (changed, or listed and never approved), with the reason of each; byte for byte.
        var held: [ToolName: String]
        /// Tools with an approved definition; byte for byte.
        var approved: Set<ToolName>
    }

    private struct Snapshot {
        var generation: Int64?
        var byEnvironment: [String: Environment] = [:]
    }

    private let snapshot = Guarded(Snapshot())

    /// Why `tool` on app/env is held, or nil when it may be served. Under `--tool-approval new` a tool
    /// without an approved definition is held even when it was never listed: an upstream may run a tool
    /// it leaves out of its list. So is, under any approval but `off`, a name outside the MCP tool-name
    /// characters that was never approved: it may pass for an approved tool's name. Names compare byte
    /// for byte. `generation` is the policy generation the request was authorized under; a snapshot of
    /// another generation is read again.
    func reason(tool: String, app: String, env: String, approval: ToolApproval, generation: Int64?, pool: StorePool) throws -> String? {
        let pins = try environment(app: app, env: env, generation: generation, pool: pool)
        let name = ToolName(tool)
        if let reason = pins.held[name] { return reason }
        if approval == .new || !name.isConventional, !pins.approved.contains(name) { return "tool_not_approved" }
        return nil
    }

    private func environment(app: String, env: String, generation: Int64?, pool: StorePool) throws -> Environment {
        let key = app + "\u{0}" + env
        if let generation, let hit = snapshot.withLock({ $0.generation == generation ? $0.byEnvironment[key] : nil }) {
            return hit
        }
        let (readAt, found) = try pool.with { store in
            try store.db.read {
                let pins = ToolPins(store: store)
                return (try store.db.first("SELECT value FROM policy_generation WHERE id = 1")?[0].int,
                        Environment(held: try pins.heldNames(app: app, env: env), approved: try pins.approvedNames(app: app, env: env)))
            }
        }
        snapshot.withLock { s in
            if s.generation != readAt { s = Snapshot(generation: readAt) }
            if s.byEnvironment.count >= 10_000 { s.byEnvironment.removeAll() }
            s.byEnvironment[key] = found
        }
        return found
    }
}

extension Gateway {
    /// Refuses a `tools/call` of a held tool: 403 with a JSON-RPC error (not `insufficient_scope`: no
    /// other token would help), audited with the reason `tool_changed` (or `tool_not_approved`).
    func refuseHeldTool(_ message: MCPMessage?, environment: AppEnvironment, app: String, env: String) throws {
        guard configuration.toolApproval != .off, let tool = message?.toolName, !environment.isBuiltIn else { return }
        let reason: String?
        do {
            reason = try heldTools.reason(tool: tool, app: app, env: env, approval: configuration.toolApproval, generation: access.generation, pool: pool)
        } catch {
            log.error("store error while checking tool pins: \(error)")
            throw GatewayRefusal.unavailable(id: message?.id)
        }
        guard let reason else { return }
        let what = reason == "tool_changed" ? "changed since it was approved" : "not approved yet"
        throw GatewayRefusal.jsonRPC(403, id: message?.id, code: -32003,
                                     "Tool '\(Gateway.capped(tool, 128))' is held: its definition was \(what); an operator must review it ('mcpctl tool diff') and approve it ('mcpctl tool approve')",
                                     reason: reason)
    }
}
