import CSQLite
#if canImport(Glibc)
import Glibc
#endif

/// Walks the hash chain and names the first row that does not fit; prunes old rows keeping the chain checkable.
public enum AuditVerifier {
    public struct Report: Sendable {
        public let ok: Bool
        public let rows: Int64
        public let firstSeq: Int64
        public let lastSeq: Int64
        public let headHash: [UInt8]
        /// The first sequence number where the chain breaks, and why.
        public let badSeq: Int64?
        public let problem: String?
    }

    public static func verify(db: Database, expectHead: AuditLog.Head? = nil) throws -> Report {
        try db.read {
            let anchor = try db.first("SELECT seq, hash, pruned_before_seq, pruned_prev_hash FROM audit_head WHERE id = 1")
            let head = AuditLog.Head(seq: anchor?["seq"].int ?? 0, hash: anchor?["hash"].bytes ?? AuditChain.genesis)
            let startSeq = max(1, anchor?["pruned_before_seq"].int ?? 1)
            var prev = anchor?["pruned_prev_hash"].bytes ?? AuditChain.genesis
            var expected = startSeq
            var rows: Int64 = 0
            var failure: (Int64, String)?
            var hashesSeen: [Int64: [UInt8]] = [:]
            // Hot loop: columns are read in place and encoded into one reused buffer (no Row, no
            // [SQLValue], no String per column). `ChainRowHasher` reproduces AuditChain.canonical byte for
            // byte; should it ever disagree, the reference path below decides, so a mismatch costs time, never
            // a wrong verdict.
            let hasher = ChainRowHasher()
            try db.forEachStatement(AuditRecord.select + " WHERE seq >= ? ORDER BY seq", [.integer(min(startSeq, 1))]) { stmt in
                let seq = sqlite3_column_type(stmt, 0) == SQLITE_INTEGER ? sqlite3_column_int64(stmt, 0) : 0
                if seq < startSeq { failure = (seq, "row \(seq) lies before the prune cut point \(startSeq)"); return false }
                if seq != expected {
                    failure = (expected, seq > expected ? "row \(expected) is missing (next row is \(seq))" : "unexpected row \(seq)")
                    return false
                }
                if !ChainRowHasher.column(stmt, ChainRowHasher.prevHashColumn, equals: prev) {
                    failure = (seq, "row \(seq) does not link to row \(seq - 1) (a row was removed, inserted or changed)")
                    return false
                }
                var hash = hasher.hash(prev: prev, seq: seq, stmt: stmt)
                if !ChainRowHasher.column(stmt, ChainRowHasher.hashColumn, equals: hash) {
                    let r = AuditRecord(row: db.row(of: stmt))
                    hash = AuditChain.hash(prev: prev, seq: r.seq, values: r.values)
                    if hash != r.hash {
                        failure = (seq, "row \(seq) was changed after it was written (hash mismatch)")
                        return false
                    }
                }
                if let e = expectHead, e.seq == seq { hashesSeen[seq] = hash }
                prev = hash
                expected += 1
                rows += 1
                return true
            }
            let last = expected - 1
            if failure == nil, head.seq != last {
                failure = head.seq > last
                    ? (last + 1, "the log ends at row \(last) but its head records row \(head.seq): rows \(last + 1)…\(head.seq) were removed")
                    : (head.seq + 1, "rows after the recorded head \(head.seq) were added outside mcpctl")
            }
            if failure == nil, head.seq > 0, head.hash != prev {
                failure = (last, "the last row's hash does not match the recorded head")
            }
            if failure == nil, let e = expectHead {
                if e.seq > last { failure = (last + 1, "the expected head \(e.seq) is beyond the end of the log (\(last)): rows were removed") }
                else if e.seq >= startSeq, hashesSeen[e.seq] != e.hash { failure = (e.seq, "row \(e.seq) differs from the expected head hash") }
            }
            return Report(ok: failure == nil, rows: rows, firstSeq: startSeq, lastSeq: last, headHash: prev,
                          badSeq: failure?.0, problem: failure?.1)
        }
    }

    /// Deletes rows older than `before`, recording the cut point so `verify` starts there. Returns how many.
    public static func prune(before: Int64, db: Database) throws -> Int {
        try db.write {
            guard let cut = try db.first("SELECT seq, prev_hash FROM audit WHERE at >= ? ORDER BY seq LIMIT 1", [.integer(before)]) else {
                // Everything is older: keep the newest row so the chain keeps its anchor.
                guard let last = try db.first("SELECT seq, prev_hash FROM audit ORDER BY seq DESC LIMIT 1") else { return 0 }
                return try cutAt(seq: last["seq"].int ?? 0, prevHash: last["prev_hash"].bytes ?? [], before: before, db: db)
            }
            return try cutAt(seq: cut["seq"].int ?? 0, prevHash: cut["prev_hash"].bytes ?? [], before: before, db: db)
        }
    }

    private static func cutAt(seq: Int64, prevHash: [UInt8], before: Int64, db: Database) throws -> Int {
        let n = try db.run("DELETE FROM audit WHERE seq < ?", [.integer(seq)])
        if n > 0 {
            try db.run("UPDATE audit_head SET pruned_before_seq = ?, pruned_prev_hash = ? WHERE id = 1", [.integer(seq), .blob(prevHash)])
        }
        try AuditLog.append(.cli("audit.prune", target: "seq<\(seq)", reason: "\(n) rows older than \(Clock.rfc3339(before)) deleted"), to: db)
        return n
    }
}

/// AuditChain.hash of the audit row a statement (`AuditRecord.select`) is positioned on, computed from the
/// columns in place. Byte for byte the encoding `AuditChain.canonical` gives for the values `Database.forEach`
/// would read: text up to its first NUL (as `String(cString:)`), non-ASCII text through the same `String`
/// path, blobs, integers and reals as stored.
final class ChainRowHasher {
    static let firstValueColumn: Int32 = 1
    static let prevHashColumn = Int32(AuditChain.columns.count + 1)
    static let hashColumn = Int32(AuditChain.columns.count + 2)

    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var count = 0

    init(capacity: Int = 4096) {
        self.capacity = capacity
        buffer = .allocate(capacity: capacity)
    }

    deinit { buffer.deallocate() }

    func hash(prev: [UInt8], seq: Int64, stmt: OpaquePointer) -> [UInt8] {
        count = 0
        appendInteger(seq)
        for i in ChainRowHasher.firstValueColumn..<ChainRowHasher.prevHashColumn {
            switch sqlite3_column_type(stmt, i) {
            case SQLITE_INTEGER: appendInteger(sqlite3_column_int64(stmt, i))
            case SQLITE_FLOAT: appendTagged(3, bigEndian: sqlite3_column_double(stmt, i).bitPattern)
            case SQLITE_TEXT:
                let text = sqlite3_column_text(stmt, i)!
                let n = Int(sqlite3_column_bytes(stmt, i))
                let length = memchr(text, 0, n).map { UnsafeRawPointer($0) - UnsafeRawPointer(text) } ?? n
                if ChainRowHasher.isASCII(text, length) {
                    append(tag: 1, UnsafeRawPointer(text), length)
                } else {
                    let bytes = Array(String(cString: text).utf8)
                    bytes.withUnsafeBytes { append(tag: 1, $0.baseAddress, $0.count) }
                }
            case SQLITE_BLOB:
                let n = Int(sqlite3_column_bytes(stmt, i))
                if n > 0, let base = sqlite3_column_blob(stmt, i) { append(tag: 4, base, n) } else { append(tag: 4, nil, 0) }
            default: append(tag: 0, nil, 0)
            }
        }
        var h = SHA256.Hasher()
        h.update(prev)
        h.update(UnsafeRawBufferPointer(start: buffer, count: count))
        return h.finalize()
    }

    /// Whether column `i` holds `expected`, compared as `SQLValue.bytes ?? []` of the value `forEach` reads.
    static func column(_ stmt: OpaquePointer, _ i: Int32, equals expected: [UInt8]) -> Bool {
        switch sqlite3_column_type(stmt, i) {
        case SQLITE_BLOB:
            let n = Int(sqlite3_column_bytes(stmt, i))
            guard n == expected.count else { return false }
            guard n > 0, let base = sqlite3_column_blob(stmt, i) else { return expected.isEmpty }
            return expected.withUnsafeBytes { memcmp($0.baseAddress!, base, n) == 0 }
        case SQLITE_TEXT:
            return Array(String(cString: sqlite3_column_text(stmt, i)).utf8) == expected
        default:
            return expected.isEmpty
        }
    }

    private static func isASCII(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        var i = 0
        var bits: UInt64 = 0
        while i + 8 <= n {
            bits |= UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)
            i += 8
        }
        while i < n { bits |= UInt64(p[i]); i += 1 }
        return bits & 0x8080_8080_8080_8080 == 0
    }

    private func reserve(_ n: Int) {
        guard count + n > capacity else { return }
        let newCapacity = max(capacity * 2, count + n)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        grown.update(from: buffer, count: count)
        buffer.deallocate()
        buffer = grown
        capacity = newCapacity
    }

    private func appendHeader(_ tag: UInt8, _ length: Int) {
        buffer[count] = tag
        UnsafeMutableRawPointer(buffer + count + 1).storeBytes(of: UInt32(truncatingIfNeeded: length).bigEndian, as: UInt32.self)
        count += 5
    }

    private func append(tag: UInt8, _ bytes: UnsafeRawPointer?, _ n: Int) {
        reserve(5 + n)
        appendHeader(tag, n)
        if n > 0, let bytes {
            UnsafeMutableRawPointer(buffer + count).copyMemory(from: bytes, byteCount: n)
            count += n
        }
    }

    private func appendTagged(_ tag: UInt8, bigEndian value: UInt64) {
        reserve(13)
        appendHeader(tag, 8)
        UnsafeMutableRawPointer(buffer + count).storeBytes(of: value.bigEndian, as: UInt64.self)
        count += 8
    }

    private func appendInteger(_ value: Int64) { appendTagged(2, bigEndian: UInt64(bitPattern: value)) }
}
