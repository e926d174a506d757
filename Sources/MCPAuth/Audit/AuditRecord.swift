/// One stored audit row as queries return it.
public struct AuditRecord: Sendable {
    public let seq: Int64
    public let values: [SQLValue]   // AuditChain.columns order, exactly as stored
    public let prevHash: [UInt8]
    public let hash: [UInt8]
    public let at: Int64
    public let source: AuditSource
    public let decision: AuditDecision?

    static let select = "SELECT seq, " + AuditChain.columns.joined(separator: ", ") + ", prev_hash, hash FROM audit"

    /// `MalformedRow` for a row mcpctl cannot have written: no seq, time or hashes, or a source or decision
    /// that names no case. `audit verify` does not come here: it hashes `storedValues`, whatever they hold.
    init(row: Row) throws {
        seq = try row.integer("seq", of: "audit")
        values = AuditRecord.storedValues(row)
        prevHash = try row.blob("prev_hash", of: "audit")
        hash = try row.blob("hash", of: "audit")
        at = try row.integer("at", of: "audit")
        source = try row.word("source", of: "audit")
        decision = try row.optionalWord("decision", of: "audit")
    }

    /// The hashed columns of a row read with `select`, untyped: what the chain covers.
    static func storedValues(_ row: Row) -> [SQLValue] {
        Array(row.values[1...AuditChain.columns.count])
    }

    /// Column name → position in `values` (the first, should a name ever repeat), so lookups are O(1).
    private static let columnIndex: [String: Int] =
        Dictionary(AuditChain.columns.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })

    public func value(_ column: String) -> SQLValue {
        guard let i = AuditRecord.columnIndex[column] else { return .null }
        return values[i]
    }

    /// The `--json` keys of an audit event in order (keys may be added, never renamed), then `actor`, `target` and `args_digest`.
    public static let keys = ["seq", "at", "source", "action", "email", "token_id", "client_id", "app", "env", "method", "tool",
                              "decision", "reason", "status", "duration_ms", "remote_addr", "actor", "target", "args_digest"]

    public var json: JSON {
        .object(AuditRecord.keys.map { key in
            switch key {
            case "seq": return (key, .int(seq))
            case "at": return (key, .string(Clock.rfc3339Millis(at)))
            default:
                switch value(key) {
                case .null: return (key, .null)
                case .integer(let i): return (key, .int(i))
                case .real(let d): return (key, .double((d * 1000).rounded() / 1000))
                case .text(let s): return (key, .string(s))
                case .blob(let b): return (key, .string(Hex.encode(b)))
                }
            }
        })
    }

    private static let keySet = Set(keys)

    /// The same fields as text for CSV and tables ("" for null): `json[key]` as text, computed for the one key
    /// instead of building the whole object per cell.
    public func text(_ key: String) -> String {
        switch key {
        case "seq": return String(seq)
        case "at": return Clock.rfc3339Millis(at)
        default:
            guard AuditRecord.keySet.contains(key) else { return "" }
            switch value(key) {
            case .null: return ""
            case .integer(let i): return String(i)
            case .real(let d): return String((d * 1000).rounded() / 1000)
            case .text(let s): return s
            case .blob(let b): return Hex.encode(b)
            }
        }
    }
}
