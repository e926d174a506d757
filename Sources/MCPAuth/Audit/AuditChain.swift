/// The audit log's tamper-evident hash chain: each row's hash covers the previous row's hash and a
/// canonical encoding of every column, so editing, removing or inserting a row breaks the chain.
public enum AuditChain {
    public static let genesis = [UInt8](repeating: 0, count: 32)

    /// Canonical encoding: for each column in a fixed order, a type tag, a 4-byte big-endian length and
    /// the bytes (text as UTF-8, integers as 8-byte big-endian, reals as their IEEE-754 bit pattern).
    public static func canonical(seq: Int64, values: [SQLValue]) -> [UInt8] {
        // Written straight into one buffer: this runs for every audit row the gateway appends.
        var out: [UInt8] = []
        out.reserveCapacity(320)
        func header(_ tag: UInt8, _ count: Int) {
            let n = UInt32(count)
            out.append(tag)
            out.append(UInt8(truncatingIfNeeded: n >> 24))
            out.append(UInt8(truncatingIfNeeded: n >> 16))
            out.append(UInt8(truncatingIfNeeded: n >> 8))
            out.append(UInt8(truncatingIfNeeded: n))
        }
        func bigEndian(_ v: UInt64, tag: UInt8) {
            header(tag, 8)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
        }
        bigEndian(UInt64(bitPattern: seq), tag: 2)
        for value in values {
            switch value {
            case .null: header(0, 0)
            case .text(let s):
                header(1, s.utf8.count)
                out.append(contentsOf: s.utf8)
            case .integer(let i): bigEndian(UInt64(bitPattern: i), tag: 2)
            case .real(let d): bigEndian(d.bitPattern, tag: 3)
            case .blob(let b):
                header(4, b.count)
                out.append(contentsOf: b)
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
