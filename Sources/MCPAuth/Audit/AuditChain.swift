/// The audit log's tamper-evident hash chain: each row's hash covers the previous row's hash and a
/// canonical encoding of every column, so editing, removing or inserting a row breaks the chain.
public enum AuditChain {
    public static let genesis = [UInt8](repeating: 0, count: 32)

    /// The bytes a row's hash covers (see `CanonicalEncoding`, the one implementation).
    public static func canonical(seq: Int64, values: [SQLValue]) -> [UInt8] {
        CanonicalEncoding.encode(seq: seq, values: values)
    }

    public static func hash(prev: [UInt8], seq: Int64, values: [SQLValue]) -> [UInt8] {
        CanonicalEncoding.hash(prev: prev, seq: seq, values: values)
    }

    /// The hashed columns, in chain order.
    public static let columns = ["at", "source", "action", "actor", "email", "token_id", "client_id", "app", "env",
                                 "method", "tool", "decision", "reason", "status", "duration_ms", "remote_addr",
                                 "target", "args_digest"]

    static func values(of e: AuditEvent) -> [SQLValue] {
        [.integer(e.at), .text(e.source.rawValue), .text(e.action), .text(e.actor), .text(e.email), .text(e.tokenID),
         .text(e.clientID), .text(e.app), .text(e.env), .text(e.method), .text(e.tool), .text(e.decision?.rawValue),
         .text(e.reason), .int(e.status), e.durationMs.map { .real($0) } ?? .null, .text(e.remoteAddr),
         .text(e.target), .text(e.argsDigest)]
    }
}
