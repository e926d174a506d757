import MCPAuth

/// Narrows a `tools/list` result to the tools the caller may call, and tells the store what the upstream offers.
struct ToolListFilter {
    let store: Store
    let app: String
    let env: String
    let effective: ScopeSet
    /// Which tools are held until an operator approves them (tool pinning).
    var approval = ToolApproval.changed

    typealias SeenTool = (name: String, annotations: JSON?, description: String?)
    /// Narrows one JSON-RPC message from the upstream; throws when it cannot (then the answer is refused).
    typealias Apply = @Sendable (JSON) throws -> JSON

    /// MCP 2025-11-25 (server/tools): the notification a server sends when its tool list changed.
    static let listChanged = "notifications/tools/list_changed"

    enum Unusable: Error { case unparseable, tooLarge }

    /// Returns the filtered JSON-RPC message; anything that is not a tools/list result passes unchanged.
    /// `cursor` tells whether the request asked for a later page of a paginated list.
    func filter(_ message: JSON, cursor: Bool) throws -> JSON {
        guard let tools = message["result"]?["tools"]?.arrayValue else { return message }
        let scopes = ToolScopes(store: store)
        let held = try ToolListFilter.pin(store: store, app: app, env: env, tools: tools, approval: approval)
        var kept: [JSON] = []
        var seen: [SeenTool] = []
        var shown = Set<String>()
        for tool in tools {
            // A definition that gives a member twice (exactly, or in another case, which Go's encoding/json
            // folds) may be read as another tool by some client than the one decided here: not shown.
            guard let name = tool["name"]?.stringValue, AmbiguousKeys.clash(in: tool.objectValue ?? []) == nil else { continue }
            let annotations = tool["annotations"]
            seen.append((name, annotations, tool["description"]?.stringValue))
            // A tool whose definition changed since it was approved (or, under `--tool-approval new`, one
            // never approved) is not shown: its new description must not reach a model before an operator.
            // A name listed twice is shown once at most (the pins decide a name from all its entries).
            if held[name] != nil || shown.contains(name) { continue }
            let (needed, _) = try scopes.required(app: app, env: env, tool: name, annotations: annotations ?? .object([]))
            if effective.isSuperset(of: needed) {
                kept.append(tool)
                shown.insert(name)
            }
        }
        // A complete list replaces what is remembered; a page of a paginated list (MCP 2025-11-25
        // pagination: a cursor asked for, or a nextCursor given) only adds to it, so tools listed on a
        // later page keep the scope their annotations ask for instead of falling back to delete.
        let complete = !cursor && message["result"]?["nextCursor"] == nil
        try ToolListFilter.remember(store: store, app: app, env: env, tools: seen, replacing: complete)
        let result = ToolListFilter.replacing("tools", in: message["result"] ?? .object([]), with: .array(kept))
        return ToolListFilter.replacing("result", in: message, with: result)
    }

    /// `object` with every member named `key` removed and one `key: value` added: a member given twice
    /// must not survive beside the narrowed one (a receiver may read either; RFC 8259 §4 leaves it open).
    static func replacing(_ key: String, in object: JSON, with value: JSON) -> JSON {
        guard let pairs = object.objectValue else { return object }
        return .object(pairs.filter { $0.0 != key } + [(key, value)])
    }

    /// Pins the listed tools' definitions (the built-in app's are part of this program and are not pinned);
    /// returns the held ones among them, with the reason each is held.
    @discardableResult
    static func pin(store: Store, app: String, env: String, tools: [JSON], approval: ToolApproval) throws -> [String: String] {
        guard approval != .off, app != Apps.builtInApp else { return [:] }
        let held = try ToolPins(store: store).observe(app: app, env: env, tools: tools.compactMap(ToolDefinition.init(tool:)), approval: approval)
        return Dictionary(held.map { ($0.name, $0.refusalReason) }, uniquingKeysWith: { a, _ in a })
    }

    /// Records the tools an upstream listed unless the store already holds exactly that. Compared with the
    /// store itself, not a per-process cache: whatever the CLI removed (`app remove`, then `app add`) is
    /// recorded again on the next listing, since no cache may outlive a change to the store.
    static func remember(store: Store, app: String, env: String, tools: [SeenTool], replacing: Bool) throws {
        let scopes = ToolScopes(store: store)
        let stored: [SeenTool] = try scopes.list(app: app, env: env).filter { $0.tool.seenAt != 0 }
            .map { ($0.tool.name, $0.tool.annotations, $0.tool.description) }
        var wanted: [SeenTool] = []
        var names = Set<String>()
        for t in tools where names.insert(t.name).inserted { wanted.append(t) }
        if !replacing { wanted += stored.filter { !names.contains($0.name) } }
        func key(_ t: SeenTool) -> String {
            JSON.array([.string(t.name), t.annotations ?? .null, .str(t.description.map { String($0.prefix(500)) })]).encoded()
        }
        if Set(wanted.map(key)) == Set(stored.map(key)) && wanted.count == stored.count { return }
        try scopes.record(app: app, env: env, tools: wanted)
    }
}
