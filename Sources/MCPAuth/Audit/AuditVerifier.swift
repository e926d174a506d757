import CSQLite
import Dispatch
import Foundation
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
            let startPrev = anchor?["pruned_prev_hash"].bytes ?? AuditChain.genesis
            // The parallel walk only ever answers "the whole chain is intact"; on anything unusual it gives up
            // and the exact walk (one row at a time, naming the first bad row) runs over the same snapshot.
            let walk = try ParallelChainWalk.run(db: db, startSeq: startSeq, prev: startPrev, expectSeq: expectHead?.seq)
                ?? exactWalk(db: db, startSeq: startSeq, prev: startPrev, expectSeq: expectHead?.seq)
            var failure = walk.failure
            let expected = walk.expected, rows = walk.rows, prev = walk.prev, hashesSeen = walk.hashesSeen
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

    /// Where a walk over the rows stopped: the next expected seq, rows checked, the last good hash, the first
    /// failure if any, and the hash of the row `expectHead` names (if walked).
    struct Walk {
        var expected: Int64
        var rows: Int64 = 0
        var prev: [UInt8]
        var failure: (Int64, String)?
        var hashesSeen: [Int64: [UInt8]] = [:]
    }

    /// One row at a time, stopping at the first row that does not fit. Columns are read in place and encoded
    /// into one reused buffer (no Row, no [SQLValue], no String per column). `CanonicalRowBuffer` reproduces
    /// AuditChain.canonical byte for byte; should it ever disagree, the reference path decides, so a
    /// disagreement costs time, never a wrong verdict.
    static func exactWalk(db: Database, startSeq: Int64, prev: [UInt8], expectSeq: Int64?) throws -> Walk {
        var w = Walk(expected: startSeq, prev: prev)
        let hasher = CanonicalRowBuffer()
        try db.forEachStatement(AuditRecord.select + " WHERE seq >= ? ORDER BY seq", [.integer(min(startSeq, 1))]) { stmt in
            let seq = sqlite3_column_type(stmt, 0) == SQLITE_INTEGER ? sqlite3_column_int64(stmt, 0) : 0
            if seq < startSeq { w.failure = (seq, "row \(seq) lies before the prune cut point \(startSeq)"); return false }
            if seq != w.expected {
                w.failure = (w.expected, seq > w.expected ? "row \(w.expected) is missing (next row is \(seq))" : "unexpected row \(seq)")
                return false
            }
            if !CanonicalRowBuffer.column(stmt, CanonicalRowBuffer.prevHashColumn, equals: w.prev) {
                w.failure = (seq, "row \(seq) does not link to row \(seq - 1) (a row was removed, inserted or changed)")
                return false
            }
            var hash = hasher.hash(prev: w.prev, seq: seq, stmt: stmt)
            if !CanonicalRowBuffer.column(stmt, CanonicalRowBuffer.hashColumn, equals: hash) {
                let r = AuditRecord(row: db.row(of: stmt))
                hash = AuditChain.hash(prev: w.prev, seq: r.seq, values: r.values)
                if hash != r.hash {
                    w.failure = (seq, "row \(seq) was changed after it was written (hash mismatch)")
                    return false
                }
            }
            if expectSeq == seq { w.hashesSeen[seq] = hash }
            w.prev = hash
            w.expected += 1
            w.rows += 1
            return true
        }
        return w
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

/// Checks a whole chain using every core: this thread steps through the rows, checks sequence numbers and
/// links (each row's `prev_hash` is the previous row's stored `hash`) and encodes rows into batches; other
/// threads recompute the hashes of full batches. It answers only "intact" (a `Walk` identical to what
/// `exactWalk` returns for an intact chain) or nil for anything else: a gap, a broken link, a hash that does
/// not match, a value of an unexpected type where a hash belongs, or an encoding that disagrees with
/// `AuditChain.hash` on the first row. The caller then runs `exactWalk`, which names the first bad row.
enum ParallelChainWalk {
    static let batchRows = 2048

    /// Rows encoded by the reading thread and checked by a worker. Storage is allocated once and reused; the
    /// hand-over between the two threads goes through a semaphore per batch.
    final class Batch: @unchecked Sendable {
        let rows = CanonicalRowBuffer(capacity: 1 << 20)
        /// Where each row's encoding starts in `rows`.
        let offsets = UnsafeMutablePointer<Int>.allocate(capacity: batchRows + 1)
        /// The hash before the first row, then the stored `hash` of every row, 32 bytes each: row i is checked
        /// as SHA-256(slot i || encoding i) == slot i+1.
        let hashes = UnsafeMutableRawPointer.allocate(byteCount: 32 * (batchRows + 1), alignment: 8)
        @exclusivity(unchecked) var count = 0
        @exclusivity(unchecked) var intact = true

        deinit {
            offsets.deallocate()
            hashes.deallocate()
        }

        /// Empties the batch; its first row must link to `prev` (32 bytes).
        func reset(prev: UnsafeRawPointer) {
            rows.reset()
            count = 0
            intact = true
            hashes.copyMemory(from: prev, byteCount: 32)
        }

        /// The stored hash of the last row added (or the hash before the first row).
        var lastHash: UnsafeRawPointer { UnsafeRawPointer(hashes + 32 * count) }

        /// Adds the row the statement is on, whose stored hash is `hash` (32 bytes).
        func add(seq: Int64, stmt: OpaquePointer, hash: UnsafeRawPointer) {
            offsets[count] = rows.count
            rows.append(seq: seq, stmt: stmt)
            count += 1
            (hashes + 32 * count).copyMemory(from: hash, byteCount: 32)
        }

        /// Recomputes every row's hash and compares it with the stored one.
        func check() {
            let n = count
            offsets[n] = rows.count
            for i in 0..<n {
                var h = SHA256.Hasher()
                h.update(UnsafeRawBufferPointer(start: hashes + 32 * i, count: 32))
                h.update(rows.bytes(offsets[i], offsets[i + 1]))
                let digest = h.finalize()
                if digest.withUnsafeBytes({ memcmp($0.baseAddress!, hashes + 32 * (i + 1), 32) }) != 0 {
                    intact = false
                    return
                }
            }
        }
    }

    static func run(db: Database, startSeq: Int64, prev startPrev: [UInt8], expectSeq: Int64?) throws -> AuditVerifier.Walk? {
        guard startPrev.count == 32 else { return nil }
        // A few batches per core, so a worker that is scheduled late does not stall the reading thread.
        let slots = max(4, 2 * ProcessInfo.processInfo.activeProcessorCount)
        let batches = (0..<slots).map { _ in Batch() }
        let free = (0..<slots).map { _ in DispatchSemaphore(value: 1) }
        let queue = DispatchQueue.global(qos: .userInitiated)
        var slot = 0
        var intact = true
        var expected = startSeq
        var hashesSeen: [Int64: [UInt8]] = [:]
        var checkedEncoding = false
        let hashColumn = CanonicalRowBuffer.hashColumn, prevHashColumn = CanonicalRowBuffer.prevHashColumn

        /// Waits for a slot's batch to be checked (so it may be refilled or read).
        func settle(_ s: Int) {
            free[s].wait()
            if !batches[s].intact { intact = false }
        }
        func submit(_ s: Int) {
            let batch = batches[s]
            queue.async { batch.check(); free[s].signal() }
        }

        settle(slot)
        startPrev.withUnsafeBytes { batches[slot].reset(prev: $0.baseAddress!) }
        var batch = batches[slot]
        do {
            try db.forEachStatement(AuditRecord.select + " WHERE seq >= ? ORDER BY seq", [.integer(min(startSeq, 1))]) { stmt in
                // Sequence without gaps, a 32-byte blob hash, and a prev_hash blob equal to the previous row's hash.
                guard sqlite3_column_type(stmt, 0) == SQLITE_INTEGER, sqlite3_column_int64(stmt, 0) == expected,
                      sqlite3_column_type(stmt, hashColumn) == SQLITE_BLOB, sqlite3_column_bytes(stmt, hashColumn) == 32,
                      let hash = sqlite3_column_blob(stmt, hashColumn),
                      sqlite3_column_type(stmt, prevHashColumn) == SQLITE_BLOB, sqlite3_column_bytes(stmt, prevHashColumn) == 32,
                      let prevHash = sqlite3_column_blob(stmt, prevHashColumn),
                      memcmp(prevHash, batch.lastHash, 32) == 0 else {
                    intact = false
                    return false
                }
                let seq = expected
                if !checkedEncoding {
                    // The in-place encoding must agree with the reference one; if it ever does not, use the exact walk.
                    let r = AuditRecord(row: db.row(of: stmt))
                    let probe = CanonicalRowBuffer()
                    probe.append(seq: seq, stmt: stmt)
                    guard probe.bytes(0, probe.count).elementsEqual(AuditChain.canonical(seq: r.seq, values: r.values)) else {
                        intact = false
                        return false
                    }
                    checkedEncoding = true
                }
                batch.add(seq: seq, stmt: stmt, hash: hash)
                if expectSeq == seq { hashesSeen[seq] = Array(UnsafeRawBufferPointer(start: hash, count: 32)) }
                expected += 1
                if batch.count == batchRows {
                    let last = batch.lastHash
                    submit(slot)
                    slot = (slot + 1) % slots
                    settle(slot)
                    if !intact { return false }
                    batches[slot].reset(prev: last)
                    batch = batches[slot]
                }
                return true
            }
        } catch {
            // Let the workers finish with the batches before they go away, then report the error.
            free[slot].signal()
            for s in 0..<slots { free[s].wait(); free[s].signal() }
            throw error
        }
        let prev = Array(UnsafeRawBufferPointer(start: batch.lastHash, count: 32))
        if batch.count > 0, intact { submit(slot) } else { free[slot].signal() }
        // Every semaphore ends where it started (libdispatch refuses to free one that is still taken).
        for s in 0..<slots { settle(s); free[s].signal() }
        guard intact else { return nil }
        return AuditVerifier.Walk(expected: expected, rows: expected - startSeq, prev: prev, failure: nil, hashesSeen: hashesSeen)
    }
}

/// The `AuditChain.canonical` encoding of audit rows, written from the columns of a statement positioned on a
/// row (`AuditRecord.select`) straight into one growable buffer. Byte for byte the encoding `AuditChain.canonical` gives for the values `Database.forEach`
/// would read: text by its byte length, non-ASCII text through the same `String`
/// path, blobs, integers and reals as stored.
final class CanonicalRowBuffer {
    static let firstValueColumn: Int32 = 1
    static let prevHashColumn = Int32(AuditChain.columns.count + 1)
    static let hashColumn = Int32(AuditChain.columns.count + 2)

    @exclusivity(unchecked) private var buffer: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) private var capacity: Int
    @exclusivity(unchecked) private(set) var count = 0

    init(capacity: Int = 4096) {
        self.capacity = capacity
        buffer = .allocate(capacity: capacity)
    }

    deinit { buffer.deallocate() }

    func reset() { count = 0 }

    func bytes(_ start: Int, _ end: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: buffer + start, count: end - start)
    }

    /// AuditChain.hash of the row, computed in place.
    func hash(prev: [UInt8], seq: Int64, stmt: OpaquePointer) -> [UInt8] {
        count = 0
        append(seq: seq, stmt: stmt)
        var h = SHA256.Hasher()
        h.update(prev)
        h.update(UnsafeRawBufferPointer(start: buffer, count: count))
        return h.finalize()
    }

    /// Appends the row's canonical encoding (seq, then every hashed column).
    func append(seq: Int64, stmt: OpaquePointer) {
        appendInteger(seq)
        for i in CanonicalRowBuffer.firstValueColumn..<CanonicalRowBuffer.prevHashColumn {
            // One sqlite3_column_value per column, then the cheap sqlite3_value_* accessors (the same
            // type/text/bytes the sqlite3_column_* calls return; the statement is used by this thread only).
            let v = sqlite3_column_value(stmt, i)
            switch sqlite3_value_type(v) {
            case SQLITE_INTEGER: appendInteger(sqlite3_value_int64(v))
            case SQLITE_FLOAT: appendTagged(3, bigEndian: sqlite3_value_double(v).bitPattern)
            case SQLITE_TEXT:
                let text = sqlite3_value_text(v)!
                let n = Int(sqlite3_value_bytes(v))
                if CanonicalRowBuffer.isPlainASCII(text, n) {
                    append(tag: 1, UnsafeRawPointer(text), n)
                } else {
                    // A NUL or a non-ASCII byte: read it exactly as `Database` does (every byte, UTF-8 repaired).
                    let bytes = Array(String(decoding: UnsafeBufferPointer(start: text, count: n), as: UTF8.self).utf8)
                    bytes.withUnsafeBytes { append(tag: 1, $0.baseAddress, $0.count) }
                }
            case SQLITE_BLOB:
                let n = Int(sqlite3_value_bytes(v))
                if n > 0, let base = sqlite3_value_blob(v) { append(tag: 4, base, n) } else { append(tag: 4, nil, 0) }
            default: append(tag: 0, nil, 0)
            }
        }
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
            let n = Int(sqlite3_column_bytes(stmt, i))
            guard n > 0, let text = sqlite3_column_text(stmt, i) else { return expected.isEmpty }
            return Array(String(decoding: UnsafeBufferPointer(start: text, count: n), as: UTF8.self).utf8) == expected
        default:
            return expected.isEmpty
        }
    }

    /// Whether all `n` bytes are in 0x01…0x7F (no NUL, nothing that needs UTF-8 validation).
    private static func isPlainASCII(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        var i = 0
        while i + 8 <= n {
            let x = UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)
            // High bit set in any byte, or a zero byte (the classic "has zero byte" test).
            if (x | ((x &- ones) & ~x)) & highs != 0 { return false }
            i += 8
        }
        while i < n {
            if p[i] == 0 || p[i] >= 0x80 { return false }
            i += 1
        }
        return true
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
