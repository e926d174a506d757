/// The audit log's tamper-evident hash chain: each row's hash covers the previous row's hash and a
/// canonical encoding of every column, so editing, removing or inserting a row breaks the chain.
public enum AuditChain {
    public static let genesis = [UInt8](repeating: 0, count: 32)

    /// Canonical encoding: for each column in a fixed order, a type tag, a 4-byte big-endian length and
    /// the bytes (text as UTF-8, integers as 8-byte big-endian, reals as their IEEE-754 bit pattern).
    public static func canonical(seq: Int64, values: [SQLValue]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        func append(_ bytes: [UInt8], tag: UInt8) {
            out.append(tag)
            let n = UInt32(bytes.count)
            out.append(contentsOf: [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)])
            out.append(contentsOf: bytes)
        }
        func be(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(v >> (56 - 8 * UInt64($0)) & 0xff) } }
        append(be(UInt64(bitPattern: seq)), tag: 2)
        for value in values {
            switch value {
            case .null: append([], tag: 0)
            case .text(let s): append(Array(s.utf8), tag: 1)
            case .integer(let i): append(be(UInt64(bitPattern: i)), tag: 2)
            case .real(let d): append(be(d.bitPattern), tag: 3)
            case .blob(let b): append(b, tag: 4)
            }
        }
        return out
    }

    public static func hash(prev: [UInt8], seq: Int64, values: [SQLValue]) -> [UInt8] {
        var h = SHA256.Hasher()
        h.update(prev)
        h.update(canonical(seq: seq, values: values))
        return h.finalize()
    }

    /// The hashed columns, in chain order.
    public static let columns = ["at", "source", "action", "actor", "email", "token_id", "client_id", "app", "env",
                                 "method", "tool", "decision", "reason", "status", "duration_ms", "remote_addr",
                                 "target", "args_digest"]

    static func values(of e: AuditEvent) -> [SQLValue] {
        [.integer(e.at), .text(e.source), .text(e.action), .text(e.actor), .text(e.email), .text(e.tokenID),
         .text(e.clientID), .text(e.app), .text(e.env), .text(e.method), .text(e.tool), .text(e.decision),
         .text(e.reason), .int(e.status), e.durationMs.map { .real($0) } ?? .null, .text(e.remoteAddr),
         .text(e.target), .text(e.argsDigest)]
    }
}
