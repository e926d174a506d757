/// When the gateway holds a tool back until an operator approves it: `changed` (trust on first use, hold a
/// tool whose definition changed since), `new` (also hold every tool never seen before), `off` (no pins).
public enum ToolApproval: String, Sendable, CaseIterable {
    case changed, new, off
}

/// A tool name compared byte for byte (its UTF-8), as the store compares it. Swift's `String` equality
/// is Unicode canonical equivalence, under which a composed and a decomposed "résumé" are equal while
/// the store holds them as two tools; keyed by `String`, a pin of one would answer for the other.
public struct ToolName: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let bytes: [UInt8]
    public let text: String

    public init(_ text: String) { self.text = text; bytes = Array(text.utf8) }
    public init(stringLiteral value: String) { self.init(value) }

    public static func == (a: ToolName, b: ToolName) -> Bool { a.bytes == b.bytes }
    public func hash(into hasher: inout Hasher) { hasher.combine(bytes) }
    public var description: String { text }

    /// MCP 2025-11-25 (server/tools, "Tool names"): 1 to 128 characters, only ASCII letters, digits, `_`,
    /// `-` and `.`. A name outside these is never trusted on first use: it may be made to look like
    /// another tool's (Unicode normalisation, confusable letters, invisible characters).
    public var isConventional: Bool {
        (1...128).contains(bytes.count) && bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b == 0x5f || b == 0x2d || b == 0x2e
        }
    }
}

/// A tool's definition as far as pinning is concerned: the fields that tell a model what the tool does and
/// what it may be given (name, title, description, input and output schema, annotations; `_meta`, `icons`
/// and `execution` left out), as canonical JSON, and the SHA-256 of it.
public struct ToolDefinition: Sendable, Equatable {
    public static let pinnedFields = ["name", "title", "description", "inputSchema", "outputSchema", "annotations"]

    public let name: String
    /// Compact JSON with object keys sorted (RFC 8785 §3.2.3 order: UTF-16 code units) at every depth.
    public let canonical: String
    /// Lower-case hex SHA-256 of `canonical`'s UTF-8 bytes.
    public let hash: String

    /// The definition of one entry of a `tools/list` result, or nil when it has no name.
    public init?(tool: JSON) {
        guard let name = tool["name"]?.stringValue else { return nil }
        var fields: [(String, JSON)] = []
        for key in ToolDefinition.pinnedFields {
            if let value = tool[key] { fields.append((key, value)) }  // absent stays absent
        }
        self.init(name: name, canonical: ToolDefinition.canonicalize(.object(fields)).encoded())
    }

    init(name: String, canonical: String) {
        self.name = name
        self.canonical = canonical
        hash = Hex.encode(SHA256.hash(canonical))
    }

    /// `value` with the keys of every object sorted.
    public static func canonicalize(_ value: JSON) -> JSON {
        switch value {
        case .array(let items): return .array(items.map(canonicalize))
        case .object(let pairs):
            return .object(pairs.map { ($0.0, canonicalize($0.1)) }.sorted { $0.0.utf16.lexicographicallyPrecedes($1.0.utf16) })
        default: return value
        }
    }
}

/// The tool pins of every app/env: the definition hash an operator accepted for each tool, and the
/// definition an upstream now offers instead, if it differs (the tool is then quarantined: hidden from
/// `tools/list` and refused on `tools/call` until approved). Defends against a server that changes what
/// a tool says it does after it was trusted (a "rug pull").
public struct ToolPins: Sendable {
    let store: Store
    var db: Database { store.db }

    public init(store: Store) { self.store = store }

    /// Where a pinned tool stands.
    public enum State: String, Sendable {
        /// The upstream offers the definition that was accepted.
        case pinned
        /// The upstream offers a different definition than the one accepted: quarantined.
        case changed
        /// Never accepted (`--tool-approval new`): held.
        case new
    }

    /// One pin, with both definitions as canonical JSON.
    public struct Pin: Sendable {
        public let app: String
        public let env: String
        public let name: String
        public let approvedHash: String?
        public let approvedDefinition: String?
        public let pendingHash: String?
        public let pendingDefinition: String?
        public let pinnedAt: Int64
        public let changedAt: Int64?

        public var state: State {
            if pendingHash == nil { return .pinned }
            return approvedHash == nil ? .new : .changed
        }

        /// The audit reason of a call refused because of this pin.
        public var refusalReason: String { state == .new ? "tool_not_approved" : "tool_changed" }
    }

    static let columns = "app, env, name, approved_hash, approved_definition, pending_hash, pending_definition, pinned_at, changed_at"

    static func pin(_ row: Row) throws -> Pin {
        let t = "tool_pins"
        return Pin(app: try row.text("app", of: t), env: try row.text("env", of: t), name: try row.text("name", of: t),
                   approvedHash: try row.optionalText("approved_hash", of: t), approvedDefinition: try row.optionalText("approved_definition", of: t),
                   pendingHash: try row.optionalText("pending_hash", of: t), pendingDefinition: try row.optionalText("pending_definition", of: t),
                   pinnedAt: try row.integer("pinned_at", of: t), changedAt: try row.optionalInteger("changed_at", of: t))
    }

    /// Compares what an upstream just listed with the pins of app/env and records what is new or changed:
    /// a tool seen for the first time is pinned as accepted (`changed`) or held (`new`); a definition that
    /// differs from the accepted one is recorded as pending (quarantined); one that went back to the
    /// accepted definition is released. A name listed more than once with different definitions is held
    /// whatever its pin (a listing must not be able to offer the approved definition and another at once).
    /// Writes nothing when nothing changed (every write moves the policy generation). Returns the pins of
    /// the listed tools that are held.
    @discardableResult
    public func observe(app: String, env: String, tools: [ToolDefinition], approval: ToolApproval) throws -> [Pin] {
        guard approval != .off, !tools.isEmpty else { return [] }
        let current = try pins(app: app, env: env)
        let byName = Dictionary(current.map { (ToolName($0.name), $0) }, uniquingKeysWith: { a, _ in a })
        let updates = ToolPins.listed(tools).compactMap { name, definitions -> Update? in
            ToolPins.update(definitions, over: byName[name])
        }
        if !updates.isEmpty {
            try db.write {
                let now = Clock.nowMillis()
                for u in updates { try record(u.tool, over: u.pin, conflicting: u.conflicting, app: app, env: env, approval: approval, now: now) }
            }
        }
        let listed = Set(tools.map { ToolName($0.name) })
        return try pins(app: app, env: env).filter { listed.contains(ToolName($0.name)) && $0.state != .pinned }
    }

    /// One pin to write: the definition to record for a name, over its pin if it has one.
    struct Update {
        let tool: ToolDefinition
        let pin: Pin?
        /// The name was listed with more than one definition.
        let conflicting: Bool
    }

    /// The listed names in order of first appearance, each with its distinct definitions.
    static func listed(_ tools: [ToolDefinition]) -> [(ToolName, [ToolDefinition])] {
        var order: [ToolName] = []
        var byName: [ToolName: [ToolDefinition]] = [:]
        for tool in tools {
            let name = ToolName(tool.name)
            if byName[name] == nil { order.append(name) }
            if !(byName[name] ?? []).contains(where: { $0.hash == tool.hash }) { byName[name, default: []].append(tool) }
        }
        return order.map { ($0, byName[$0] ?? []) }
    }

    /// What to write for one name listed with `definitions` (distinct), or nil when its pin already says it.
    static func update(_ definitions: [ToolDefinition], over pin: Pin?) -> Update? {
        guard let first = definitions.first else { return nil }
        let conflicting = definitions.count > 1
        guard let pin else { return Update(tool: first, pin: nil, conflicting: conflicting) }
        if conflicting {
            // Held as changed: a pending definition already among the listed ones stays (no flip-flop).
            if let pending = pin.pendingHash, pending != pin.approvedHash, definitions.contains(where: { $0.hash == pending }) { return nil }
            guard let other = definitions.first(where: { $0.hash != pin.approvedHash }) else { return nil }
            return Update(tool: other, pin: pin, conflicting: true)
        }
        let wanted = first.hash == pin.approvedHash ? nil : first.hash
        return wanted == pin.pendingHash ? nil : Update(tool: first, pin: pin, conflicting: false)
    }

    private func record(_ tool: ToolDefinition, over pin: Pin?, conflicting: Bool, app: String, env: String, approval: ToolApproval, now: Int64) throws {
        guard let pin else {
            // Trust on first use needs one definition to trust (a name first seen with two is held) and a
            // name that cannot pass for another's (one outside the MCP tool-name characters is held).
            let held = approval == .new || conflicting || !ToolName(tool.name).isConventional
            try db.run("""
                INSERT INTO tool_pins (app, env, name, approved_hash, approved_definition, pending_hash, pending_definition, pinned_at, changed_at, approved_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(app, env, name) DO NOTHING
                """, [.text(app), .text(env), .text(tool.name), .text(held ? nil : tool.hash), .text(held ? nil : tool.canonical),
                      .text(held ? tool.hash : nil), .text(held ? tool.canonical : nil), .integer(now), held ? .integer(now) : .null,
                      held ? .null : .integer(now)])
            return
        }
        if tool.hash == pin.approvedHash {
            try db.run("UPDATE tool_pins SET pending_hash = NULL, pending_definition = NULL, changed_at = NULL WHERE app = ? AND env = ? AND name = ?",
                       [.text(app), .text(env), .text(tool.name)])
        } else {
            try db.run("UPDATE tool_pins SET pending_hash = ?, pending_definition = ?, changed_at = ? WHERE app = ? AND env = ? AND name = ?",
                       [.text(tool.hash), .text(tool.canonical), .integer(now), .text(app), .text(env), .text(tool.name)])
        }
    }

    public func pins(app: String, env: String? = nil) throws -> [Pin] {
        var sql = "SELECT \(ToolPins.columns) FROM tool_pins WHERE app = ?"
        var args: [SQLValue] = [.text(app)]
        if let env { sql += " AND env = ?"; args.append(.text(env)) }
        return try db.query(sql + " ORDER BY env, name", args).map(ToolPins.pin)
    }

    /// Names of the held tools of app/env (changed, or new and not yet approved), with the reason of each.
    public func held(app: String, env: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for row in try db.query("SELECT \(ToolPins.columns) FROM tool_pins WHERE app = ? AND env = ? AND pending_hash IS NOT NULL", [.text(app), .text(env)]) {
            let pin = try ToolPins.pin(row)
            out[pin.name] = pin.refusalReason
        }
        return out
    }

    /// Names of the tools of app/env that have an approved definition (whether or not a change is pending).
    /// Under `--tool-approval new` every other tool is held, listed or not.
    public func approved(app: String, env: String) throws -> Set<String> {
        Set(try approvedNames(app: app, env: env).map(\.text))
    }

    /// `held`, keyed byte for byte: what the gateway decides a call with.
    public func heldNames(app: String, env: String) throws -> [ToolName: String] {
        var out: [ToolName: String] = [:]
        for row in try db.query("SELECT \(ToolPins.columns) FROM tool_pins WHERE app = ? AND env = ? AND pending_hash IS NOT NULL", [.text(app), .text(env)]) {
            let pin = try ToolPins.pin(row)
            out[ToolName(pin.name)] = pin.refusalReason
        }
        return out
    }

    /// `approved`, byte for byte: what the gateway decides a call with.
    public func approvedNames(app: String, env: String) throws -> Set<ToolName> {
        Set(try db.query("SELECT name FROM tool_pins WHERE app = ? AND env = ? AND approved_hash IS NOT NULL", [.text(app), .text(env)])
            .map { ToolName(try $0.text("name", of: "tool_pins")) })
    }

    /// The held pins of `tool` on app (one environment or every one); throws when the app or tool is
    /// unknown, or nothing is waiting for approval.
    public func pending(app: String, tool: String, env: String?) throws -> [Pin] {
        guard try Apps(store: store).appID(app) != nil else { throw DomainError.notFound("no app named '\(app)' (see 'mcpctl app list')") }
        if let env, try Apps(store: store).environment(app: app, env: env) == nil {
            throw DomainError.notFound("app '\(app)' has no environment '\(env)'")
        }
        let all = try pins(app: app, env: env).filter { ToolName($0.name) == ToolName(tool) }
        guard !all.isEmpty else {
            throw DomainError.notFound("no tool '\(tool)' has been seen on \(app)\(env.map { "/" + $0 } ?? "") (see 'mcpctl tool list \(app)')")
        }
        let held = all.filter { $0.state != .pinned }
        guard !held.isEmpty else {
            throw DomainError.conflict("tool '\(tool)' on \(app)\(env.map { "/" + $0 } ?? "") is unchanged since it was approved: nothing to approve")
        }
        return held
    }

    /// Accepts the definitions the upstream now offers for `tool` (every held environment unless `env`):
    /// they become the pinned ones and the tool is served again. Audited.
    @discardableResult
    public func approve(app: String, tool: String, env: String?) throws -> [Pin] {
        try db.write {
            let held = try pending(app: app, tool: tool, env: env)
            let now = Clock.nowMillis()
            for pin in held {
                try db.run("""
                    UPDATE tool_pins SET approved_hash = pending_hash, approved_definition = pending_definition, pending_hash = NULL,
                        pending_definition = NULL, changed_at = NULL, approved_at = ? WHERE app = ? AND env = ? AND name = ? AND pending_hash = ?
                    """, [.integer(now), .text(app), .text(pin.env), .text(tool), .text(pin.pendingHash)])
                try AuditLog.append(.cli("tool.approve", app: app, env: pin.env, target: tool,
                                         reason: "sha256 \(pin.approvedHash?.prefix(12) ?? "none") -> \(pin.pendingHash?.prefix(12) ?? "")"), to: db)
            }
            return held
        }
    }
}
