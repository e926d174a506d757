/// The syntax of a `Host` field value: `uri-host [ ":" port ]` (RFC 9112 §3.2, RFC 3986 §3.2.2–3.2.3).
enum HostField {
    /// RFC 3986 §2.3 unreserved and §2.2 sub-delims: the characters of a reg-name besides pct-encoded.
    private static let isRegNameByte: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for byte in UInt8(ascii: "0")...UInt8(ascii: "9") { table[Int(byte)] = true }
        for byte in UInt8(ascii: "a")...UInt8(ascii: "z") { table[Int(byte)] = true }
        for byte in UInt8(ascii: "A")...UInt8(ascii: "Z") { table[Int(byte)] = true }
        for character in "-._~!$&'()*+,;=".utf8 { table[Int(character)] = true }
        return table
    }()

    /// True when `value` is a valid `uri-host[:port]`; an empty value is valid (RFC 9112 §3.2: a target
    /// without an authority is sent with an empty Host).
    static func isValid(_ field: String) -> Bool {
        let value = Array(field.utf8)[...]
        guard let first = value.first else { return true }
        let hostEnd: Int
        if first == UInt8(ascii: "[") {
            guard let close = value.firstIndex(of: UInt8(ascii: "]")), isIPLiteral(value[(value.startIndex + 1)..<close]) else {
                return false
            }
            hostEnd = close + 1
        } else {
            hostEnd = value.firstIndex(of: HTTPSyntax.colon) ?? value.endIndex
            guard isRegName(value[value.startIndex..<hostEnd]) else { return false }
        }
        guard hostEnd < value.endIndex else { return true }
        // RFC 3986 §3.2.3: port = *DIGIT.
        guard value[hostEnd] == HTTPSyntax.colon else { return false }
        return value[(hostEnd + 1)...].allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// RFC 3986 §3.2.2: `reg-name = *( unreserved / pct-encoded / sub-delims )` (IPv4 addresses included).
    private static func isRegName(_ bytes: ArraySlice<UInt8>) -> Bool {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex, HTTPSyntax.hexValue(bytes[index + 1]) != nil,
                      HTTPSyntax.hexValue(bytes[index + 2]) != nil else { return false }
                index += 3
                continue
            }
            guard isRegNameByte[Int(byte)] else { return false }
            index += 1
        }
        return true
    }

    /// RFC 3986 §3.2.2: the inside of `IP-literal`, an IPv6 address (hex digits, colons, an embedded IPv4
    /// part) or `IPvFuture` (`v` HEXDIG+ `.` then unreserved, sub-delims or colons).
    private static func isIPLiteral(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first else { return false }
        if first == UInt8(ascii: "v") || first == UInt8(ascii: "V") {
            guard let dot = bytes.firstIndex(of: UInt8(ascii: ".")), dot > bytes.startIndex + 1, dot + 1 < bytes.endIndex,
                  bytes[(bytes.startIndex + 1)..<dot].allSatisfy({ HTTPSyntax.hexValue($0) != nil }) else { return false }
            return bytes[(dot + 1)...].allSatisfy { isRegNameByte[Int($0)] || $0 == HTTPSyntax.colon }
        }
        let colons = bytes.count { $0 == HTTPSyntax.colon }
        return colons >= 2 && colons <= 7
            && bytes.allSatisfy { HTTPSyntax.hexValue($0) != nil || $0 == HTTPSyntax.colon || $0 == UInt8(ascii: ".") }
    }
}
