/// Hexadecimal (base 16) encoding of bytes, two digits per byte.
public enum Hex {
    /// Encodes `data` as lowercase hexadecimal.
    public static func encode<C: Collection>(_ data: C) -> String where C.Element == UInt8 {
        let digits: StaticString = "0123456789abcdef"
        let count = data.count * 2
        return String(unsafeUninitializedCapacity: count) { out in
            digits.withUTF8Buffer { digits in
                var i = 0
                for byte in data {
                    out[i] = digits[Int(byte &>> 4)]
                    out[i &+ 1] = digits[Int(byte & 0x0f)]
                    i &+= 2
                }
            }
            return count
        }
    }

    /// Decodes hexadecimal (upper- or lowercase digits) into bytes.
    ///
    /// Returns `nil` for an odd number of digits or any non-hex character,
    /// including whitespace and a `0x` prefix.
    public static func decode(_ string: String) -> [UInt8]? {
        let utf8 = string.utf8
        guard utf8.count.isMultiple(of: 2) else { return nil }
        var result = [UInt8]()
        result.reserveCapacity(utf8.count / 2)
        var high: UInt8?
        for character in utf8 {
            guard let nibble = value(of: character) else { return nil }
            if let first = high {
                result.append(first &<< 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return result
    }

    private static func value(of character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character &- UInt8(ascii: "A") &+ 10
        default: nil
        }
    }
}
