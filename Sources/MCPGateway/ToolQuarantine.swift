import MCPAuth

/// The held tools (quarantined: changed since approved, or new under `--tool-approval new`) of every
/// app/env, read from the store's tool pins and kept for one value of the store's policy generation
/// (every change to a pin moves it), so that a `tools/call` costs no extra store read while nothing changes.
final class HeldTools: Sendable {
    private struct Snapshot {
        var generation: Int64?
        var byEnvironment: [String: [String: String]] = [:]
    }

    private let snapshot = Guarded(Snapshot())

    /// Why `tool` on app/env is held, or nil when it may be served. `generation` is the policy generation
    /// the request was authorized under; a snapshot of another generation is read again.
    func reason(tool: String, app: String, env: String, generation: Int64?, pool: StorePool) throws -> String? {
        let key = app + "\u{0}" + env
        if let generation, let hit = snapshot.withLock({ $0.generation == generation ? $0.byEnvironment[key] : nil }) {
            return hit[tool]
        }
        let (readAt, held) = try pool.with { store in
            try store.db.read {
                (try store.db.first("SELECT value FROM policy_generation WHERE id = 1")?[0].int, try ToolPins(store: store).held(app: app, env: env))
            }
        }
        snapshot.withLock { s in
            if s.generation != readAt { s = Snapshot(generation: readAt) }
            if s.byEnvironment.count >= 10_000 { s.byEnvironment.removeAll() }
            s.byEnvironment[key] = held
        }
        return held[tool]
    }
}

extension Gateway {
    /// Refuses a `tools/call` of a held tool: 403 with a JSON-RPC error (not `insufficient_scope`: no
    /// other token would help), audited with the reason `tool_changed` (or `tool_not_approved`).
    func refuseHeldTool(_ message: MCPMessage?, environment: AppEnvironment, app: String, env: String) throws {
        guard configuration.toolApproval != .off, let tool = message?.toolName, !environment.isBuiltIn else { return }
        let reason: String?
        do {
            reason = try heldTools.reason(tool: tool, app: app, env: env, generation: access.generation, pool: pool)
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
