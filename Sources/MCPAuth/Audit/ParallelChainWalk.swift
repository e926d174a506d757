import CSQLite
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

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
        /// Each row's hashed message, padded for SHA-256: the previous row's hash, the row's encoding, padding.
        let messages = CanonicalEncoding(capacity: 1 << 20)
        /// Where each row's message starts in `messages` (and, at `count`, where the last one ends).
        let offsets = UnsafeMutablePointer<Int>.allocate(capacity: batchRows + 1)
        /// The hash before the first row, then the stored `hash` of every row, 32 bytes each: row i is checked
        /// as SHA-256(message i) == slot i+1.
        let hashes = UnsafeMutableRawPointer.allocate(byteCount: 32 * (batchRows + 1), alignment: 8)
        /// The recomputed hashes, 32 bytes per row.
        let digests = UnsafeMutableRawPointer.allocate(byteCount: 32 * batchRows, alignment: 8)
        @exclusivity(unchecked) var count = 0
        @exclusivity(unchecked) var intact = true

        deinit {
            offsets.deallocate()
            hashes.deallocate()
            digests.deallocate()
        }

        /// Empties the batch; its first row must link to `prev` (32 bytes).
        func reset(prev: UnsafeRawPointer) {
            messages.reset()
            count = 0
            intact = true
            hashes.copyMemory(from: prev, byteCount: 32)
        }

        /// The stored hash of the last row added (or the hash before the first row).
        var lastHash: UnsafeRawPointer { UnsafeRawPointer(hashes + 32 * count) }

        /// Adds the row the statement is on, whose stored hash is `hash` (32 bytes).
        func add(seq: Int64, stmt: OpaquePointer, hash: UnsafeRawPointer) {
            let start = messages.count
            offsets[count] = start
            messages.append(raw: lastHash, count: 32)
            messages.append(seq: seq, stmt: stmt)
            messages.appendSHA256Padding(messageStart: start)
            count += 1
            (hashes + 32 * count).copyMemory(from: hash, byteCount: 32)
        }

        /// Recomputes every row's hash (four rows at a time, `SHA256.hashPadded`) and compares them all with
        /// the stored ones.
        func check() {
            let n = count
            guard n > 0 else { return }
            offsets[n] = messages.count
            SHA256.hashPadded(base: messages.bytes(0, messages.count).baseAddress!, offsets: offsets, count: n, digests: digests)
            if memcmp(digests, hashes + 32, 32 * n) != 0 { intact = false }
        }
    }

    static func run(db: Database, startSeq: Int64, prev startPrev: [UInt8], expectSeq: Int64?) throws -> AuditVerifier.Walk? {
        // It reads SQLite's columns in place; other stores take the exact walk.
        guard startPrev.count == 32, db.dialect == .sqlite else { return nil }
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
        let hashColumn = CanonicalEncoding.hashColumn, prevHashColumn = CanonicalEncoding.prevHashColumn

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
                    // Reading the columns in place must agree with reading them as values; if it ever does not, use the exact walk.
                    let values = AuditRecord.storedValues(db.row(of: stmt))
                    let probe = CanonicalEncoding()
                    probe.append(seq: seq, stmt: stmt)
                    guard probe.bytes(0, probe.count).elementsEqual(AuditChain.canonical(seq: seq, values: values)) else {
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
