/// Character classes and small lexical helpers shared by the request parser,
/// the header map and the client (RFC 9110 §5.6, RFC 9112 §2).
enum HTTPSyntax {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A

    /// `tchar` of RFC 9110 §5.6.2: the characters a token (method, field name) may hold.
    static let isTokenByte: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for byte in UInt8(ascii: "0")...UInt8(ascii: "9") { table[Int(byte)] = true }
        for byte in UInt8(ascii: "a")...UInt8(ascii: "z") { table[Int(byte)] = true }
        for byte in UInt8(ascii: "A")...UInt8(ascii: "Z") { table[Int(byte)] = true }
        for character in "!#$%&'*+-.^_`|~".utf8 { table[Int(character)] = true }
        return table
    }()

    @inline(__always)
    static func isToken(_ byte: UInt8) -> Bool { isTokenByte[Int(byte)] }

    /// RFC 9110 §5.5: field values are VCHAR, obs-text, SP and HTAB; every other control character is invalid.
    @inline(__always)
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == tab || (byte >= 0x20 && byte != 0x7F)
    }

    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool { byte == space || byte == tab }

    static func isToken<S: Sequence>(_ bytes: S) -> Bool where S.Element == UInt8 {
        var empty = true
        for byte in bytes {
            guard isToken(byte) else { return false }
            empty = false
        }
        return !empty
    }

    static func isFieldValue<S: Sequence>(_ bytes: S) -> Bool where S.Element == UInt8 {
        bytes.allSatisfy(isFieldValueByte)
    }

    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    /// Compares two strings ignoring ASCII case, without allocating.
    static func equalsIgnoringCase(_ lhs: String, _ rhs: String) -> Bool {
        let left = lhs.utf8, right = rhs.utf8
        guard left.count == right.count else { return false }
        var rightIndex = right.startIndex
        for byte in left {
            if lowercased(byte) != lowercased(right[rightIndex]) { return false }
            rightIndex = right.index(after: rightIndex)
        }
        return true
    }

    /// Whether `value` begins with `prefix` (lowercase ASCII), ignoring ASCII case, without allocating.
    static func hasPrefixIgnoringCase(_ value: String, _ prefix: String) -> Bool {
        var bytes = value.utf8.makeIterator()
        for expected in prefix.utf8 {
            guard let byte = bytes.next(), lowercased(byte) == expected else { return false }
        }
        return true
    }

    /// Splits a comma-separated field value into trimmed, non-empty elements (RFC 9110 §5.6.1).
    static func listElements(_ value: String) -> [Substring] {
        value.split(separator: ",").compactMap { element in
            let trimmed = element.drop { $0 == " " || $0 == "\t" }
            let end = trimmed.lastIndex { $0 != " " && $0 != "\t" }
            guard let end else { return nil }
            return trimmed[...end]
        }
    }

    /// True when a comma-separated header value contains `token`, ignoring case (e.g. `Connection: close`).
    static func listContains(_ value: String, _ token: String) -> Bool {
        listElements(value).contains { equalsIgnoringCase(String($0), token) }
    }

    /// Decodes header bytes as UTF-8, replacing invalid sequences.
    @inline(__always)
    static func string<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        String(decoding: bytes, as: UTF8.self)
    }

    /// Parses a non-empty run of ASCII digits; nil on anything else or on overflow.
    static func decimal<C: Collection>(_ bytes: C) -> Int? where C.Element == UInt8 {
        guard !bytes.isEmpty else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(byte - 0x30))
            if overflow1 || overflow2 { return nil }
            value = sum
        }
        return value
    }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: return Int(byte - 0x30)
        case 0x41...0x46: return Int(byte - 0x41 + 10)
        case 0x61...0x66: return Int(byte - 0x61 + 10)
        default: return nil
        }
    }
}
