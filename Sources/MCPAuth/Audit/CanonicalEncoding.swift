import CSQLite
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The canonical encoding of an audit row, the bytes its chain hash covers (the one implementation: the
/// writer encodes values, the verifier the columns of a statement). The row's seq, then each hashed column
/// in `AuditChain.columns` order, each as a type tag (0 null, 1 text, 2 integer, 3 real, 4 blob), a 4-byte
/// big-endian length and the bytes: text as UTF-8, integers as 8-byte big-endian, reals as their IEEE-754
/// bit pattern. Statement columns are read as `Database` reads them: non-ASCII text through the same
/// `String` path (every byte, UTF-8 repaired), blobs, integers and reals as stored.
final class CanonicalEncoding {
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

    /// The encoding of `values` (in `AuditChain.columns` order) for row `seq`.
    static func encode(seq: Int64, values: [SQLValue]) -> [UInt8] {
        let encoding = CanonicalEncoding(capacity: 320)
        encoding.append(seq: seq, values: values)
        return Array(encoding.bytes(0, encoding.count))
    }

    /// SHA-256 over `prev` and the encoding of `values`: the chain hash of a row being written.
    static func hash(prev: [UInt8], seq: Int64, values: [SQLValue]) -> [UInt8] {
        let encoding = CanonicalEncoding(capacity: 320)
        encoding.append(seq: seq, values: values)
        var h = SHA256.Hasher()
        h.update(prev)
        h.update(encoding.bytes(0, encoding.count))
        return h.finalize()
    }

    /// Appends the encoding of a row given as values.
    func append(seq: Int64, values: [SQLValue]) {
        appendInteger(seq)
        for value in values {
            switch value {
            case .null: append(tag: 0, nil, 0)
            case .text(let s):
                var s = s
                s.withUTF8 { append(tag: 1, $0.baseAddress, $0.count) }
            case .integer(let i): appendInteger(i)
            case .real(let d): appendTagged(3, bigEndian: d.bitPattern)
            case .blob(let b): b.withUnsafeBytes { append(tag: 4, $0.baseAddress, $0.count) }
            }
        }
    }

    /// Appends `n` bytes as they are (no tag, no length): the previous hash that starts a hashed message.
    func append(raw bytes: UnsafeRawPointer, count n: Int) {
        reserve(n)
        UnsafeMutableRawPointer(buffer + count).copyMemory(from: bytes, byteCount: n)
        count += n
    }

    /// Appends the SHA-256 padding of the message that starts at `start` and ends here, so the bytes from
    /// `start` on can be hashed block by block (`SHA256.hashPadded`).
    func appendSHA256Padding(messageStart start: Int) {
        let n = SHA256.paddingLength(forMessageLength: count - start)
        reserve(n)
        SHA256.writePadding(to: UnsafeMutableRawPointer(buffer + count), messageLength: count - start)
        count += n
    }

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

    /// Appends the encoding of the row a statement (`AuditRecord.select`) is positioned on.
    func append(seq: Int64, stmt: OpaquePointer) {
        appendInteger(seq)
        for i in CanonicalEncoding.firstValueColumn..<CanonicalEncoding.prevHashColumn {
            // One sqlite3_column_value per column, then the cheap sqlite3_value_* accessors (the same
            // type/text/bytes the sqlite3_column_* calls return; the statement is used by this thread only).
            let v = sqlite3_column_value(stmt, i)
            switch sqlite3_value_type(v) {
            case SQLITE_INTEGER: appendInteger(sqlite3_value_int64(v))
            case SQLITE_FLOAT: appendTagged(3, bigEndian: sqlite3_value_double(v).bitPattern)
            case SQLITE_TEXT:
                let text = sqlite3_value_text(v)!
                let n = Int(sqlite3_value_bytes(v))
                if CanonicalEncoding.isPlainASCII(text, n) {
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

    /// Whether column `i` holds `expected`, compared as the bytes `SQLValue.bytes` gives for the value `forEach`
    /// reads (none for NULL, which equals only an empty `expected`).
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

    @inline(__always)
    private func reserve(_ n: Int) {
        if count + n > capacity { grow(to: count + n) }
    }

    private func grow(to n: Int) {
        let newCapacity = max(capacity * 2, n)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        grown.update(from: buffer, count: count)
        buffer.deallocate()
        buffer = grown
        capacity = newCapacity
    }

    @inline(__always)
    private func appendHeader(_ tag: UInt8, _ length: Int) {
        buffer[count] = tag
        UnsafeMutableRawPointer(buffer + count + 1).storeBytes(of: UInt32(truncatingIfNeeded: length).bigEndian, as: UInt32.self)
        count += 5
    }

    @inline(__always)
    private func append(tag: UInt8, _ bytes: UnsafeRawPointer?, _ n: Int) {
        reserve(5 + n)
        appendHeader(tag, n)
        if n > 0, let bytes {
            UnsafeMutableRawPointer(buffer + count).copyMemory(from: bytes, byteCount: n)
            count += n
        }
    }

    @inline(__always)
    private func appendTagged(_ tag: UInt8, bigEndian value: UInt64) {
        reserve(13)
        appendHeader(tag, 8)
        UnsafeMutableRawPointer(buffer + count).storeBytes(of: value.bigEndian, as: UInt64.self)
        count += 8
    }

    private func appendInteger(_ value: Int64) { appendTagged(2, bigEndian: UInt64(bitPattern: value)) }
}
