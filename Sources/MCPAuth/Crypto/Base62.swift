/// Base62 encoding over the alphanumeric alphabet `0–9 A–Z a–z`, used for
/// compact identifiers and random tokens that survive URLs, shells and
/// double-click selection unescaped.
public enum Base62 {
    /// The 62 digits in ascending value, as ASCII bytes.
    public static let alphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// Encodes `value` most-significant digit first, left-padded with `"0"`
    /// to `width` characters.
    ///
    /// `width` is a minimum: a value needing more digits (up to 11 for
    /// `UInt64.max`) is emitted in full rather than truncated. Zero encodes
    /// to at least one digit.
    public static func encode(_ value: UInt64, width: Int) -> String {
        precondition(width >= 0, "Base62 width must not be negative")
        var digits = [UInt8]()
        digits.reserveCapacity(max(width, 11))
        var remaining = value
        repeat {
            digits.append(alphabet[Int(remaining % 62)])
            remaining /= 62
        } while remaining > 0
        while digits.count < width {
            digits.append(UInt8(ascii: "0"))
        }
        return String(decoding: digits.reversed(), as: UTF8.self)
    }

    /// Decodes a Base62 number (leading zeros allowed).
    ///
    /// Returns `nil` for an empty string, any character outside the
    /// alphabet, or a value that does not fit in `UInt64`.
    public static func decode<S: StringProtocol>(_ string: S) -> UInt64? {
        decode(bytes: string.utf8)
    }

    /// `decode`, of the characters' UTF-8 bytes.
    public static func decode<C: Collection>(bytes: C) -> UInt64? where C.Element == UInt8 {
        guard !bytes.isEmpty else { return nil }
        var value: UInt64 = 0
        for character in bytes {
            guard let digit = digitValue(character) else { return nil }
            let (shifted, overflowMultiply) = value.multipliedReportingOverflow(by: 62)
            let (sum, overflowAdd) = shifted.addingReportingOverflow(UInt64(digit))
            guard !overflowMultiply, !overflowAdd else { return nil }
            value = sum
        }
        return value
    }

    /// Returns `count` characters drawn uniformly and independently from the
    /// alphabet, using `SecureRandom`.
    ///
    /// Random bytes at or above 248 (= 4 × 62) are discarded so that
    /// `byte % 62` has no modulo bias; each character carries log2(62) ≈ 5.95
    /// bits of entropy.
    public static func random(count: Int) -> String {
        precondition(count >= 0, "Base62 random count must not be negative")
        var result = [UInt8]()
        result.reserveCapacity(count)
        while result.count < count {
            // About 3% of bytes are rejected; over-draw slightly to usually
            // finish in a single system call.
            let needed = count - result.count
            for byte in SecureRandom.bytes(needed + needed / 16 + 8) where byte < 248 {
                result.append(alphabet[Int(byte % 62)])
                if result.count == count { break }
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// Returns whether `string` is non-empty and consists only of alphabet characters.
    public static func isBase62<S: StringProtocol>(_ string: S) -> Bool {
        !string.utf8.isEmpty && string.utf8.allSatisfy { digitValue($0) != nil }
    }

    static func digitValue(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character &- UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): character &- UInt8(ascii: "A") &+ 10
        case UInt8(ascii: "a")...UInt8(ascii: "z"): character &- UInt8(ascii: "a") &+ 36
        default: nil
        }
    }
}
