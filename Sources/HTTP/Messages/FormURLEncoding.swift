/// Encoding and decoding of `application/x-www-form-urlencoded` data, as used by
/// query strings and HTML form bodies (WHATWG URL Standard §5).
public enum FormURLEncoding {
    /// Splits `a=1&b=two+words` into name/value pairs, turning `+` into a space and
    /// percent-decoding each part; malformed escapes are kept literally.
    public static func decode<C: Collection>(_ bytes: C) -> [(name: String, value: String)] where C.Element == UInt8 {
        var pairs: [(name: String, value: String)] = []
        for piece in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            if let equals = piece.firstIndex(of: UInt8(ascii: "=")) {
                pairs.append((percentDecode(piece[..<equals], plusAsSpace: true),
                              percentDecode(piece[piece.index(after: equals)...], plusAsSpace: true)))
            } else {
                pairs.append((percentDecode(piece, plusAsSpace: true), ""))
            }
        }
        return pairs
    }

    public static func decode(_ string: String) -> [(name: String, value: String)] {
        decode(Array(string.utf8))
    }

    /// Joins pairs into `a=1&b=two+words`, escaping everything but unreserved characters.
    public static func encode(_ pairs: [(name: String, value: String)]) -> String {
        pairs.map { escape($0.name) + "=" + escape($0.value) }.joined(separator: "&")
    }

    /// Escapes one component: unreserved characters (RFC 3986 §2.3) stay, space becomes `+`,
    /// everything else becomes `%XX` of its UTF-8 bytes.
    public static func escape(_ string: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(string.utf8.count)
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                output.append(byte)
            case UInt8(ascii: " "):
                output.append(UInt8(ascii: "+"))
            default:
                output.append(UInt8(ascii: "%"))
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes `%XX` escapes (and `+` when asked); invalid UTF-8 becomes U+FFFD.
    public static func percentDecode<C: Collection>(_ bytes: C, plusAsSpace: Bool = false) -> String where C.Element == UInt8 {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                let first = bytes.index(after: index)
                if first != bytes.endIndex {
                    let second = bytes.index(after: first)
                    if second != bytes.endIndex,
                       let high = HTTPSyntax.hexValue(bytes[first]), let low = HTTPSyntax.hexValue(bytes[second]) {
                        output.append(UInt8(high << 4 | low))
                        index = bytes.index(after: second)
                        continue
                    }
                }
                output.append(byte)
            } else if plusAsSpace && byte == UInt8(ascii: "+") {
                output.append(UInt8(ascii: " "))
            } else {
                output.append(byte)
            }
            index = bytes.index(after: index)
        }
        return String(decoding: output, as: UTF8.self)
    }

    public static func percentDecode(_ string: String, plusAsSpace: Bool = false) -> String {
        percentDecode(Array(string.utf8), plusAsSpace: plusAsSpace)
    }
}
