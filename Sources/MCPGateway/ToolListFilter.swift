import MCPAuth

/// Narrows a `tools/list` result to the tools the caller may call, and tells the store what the upstream offers.
struct ToolListFilter {
    let store: Store
    let app: String
    let env: String
    let effective: ScopeSet

    /// Returns the filtered JSON-RPC message; anything that is not a tools/list result passes unchanged.
    func filter(_ message: JSON, record: Bool) throws -> JSON {
        guard let tools = message["result"]?["tools"]?.arrayValue else { return message }
        let scopes = ToolScopes(store: store)
        var kept: [JSON] = []
        var seen: [(name: String, annotations: JSON?, description: String?)] = []
        for tool in tools {
            guard let name = tool["name"]?.stringValue else { continue }
            let annotations = tool["annotations"]
            seen.append((name, annotations, tool["description"]?.stringValue))
            let (needed, _) = try scopes.required(app: app, env: env, tool: name, annotations: annotations ?? .object([]))
            if effective.isSuperset(of: needed) { kept.append(tool) }
        }
        if record { try ToolScopes.recordIfChanged(store: store, app: app, env: env, tools: seen) }
        var result = message["result"] ?? .object([])
        result.set("tools", .array(kept))
        var out = message
        out.set("result", result)
        return out
    }
}
