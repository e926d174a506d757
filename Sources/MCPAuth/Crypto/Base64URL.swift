/// Base64 with the URL- and filename-safe alphabet (RFC 4648 §5), without padding.
///
/// This is the encoding used by JWTs (RFC 7515 §2) and PKCE (RFC 7636 §4).
public enum Base64URL {
    /// RFC 4648 §5 Table 2: `A–Z a–z 0–9 - _`.
    private static let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

    /// Encodes `data` without `=` padding.
    public static func encode<C: Collection>(_ data: C) -> String where C.Element == UInt8 {
        let byteCount = data.count
        // Every full 3-byte group becomes 4 characters; a trailing 1 or 2
        // bytes become 2 or 3 characters since padding is omitted (RFC 4648 §3.2).
        let characterCount = byteCount / 3 * 4 + [0, 2, 3][byteCount % 3]
        return String(unsafeUninitializedCapacity: characterCount) { out in
            alphabet.withUTF8Buffer { table in
                var written = 0
                var group: UInt32 = 0
                var pending = 0
                for byte in data {
                    group = group &<< 8 | UInt32(byte)
                    pending &+= 1
                    if pending == 3 {
                        out[written] = table[Int(group &>> 18 & 0x3f)]
                        out[written &+ 1] = table[Int(group &>> 12 & 0x3f)]
                        out[written &+ 2] = table[Int(group &>> 6 & 0x3f)]
                        out[written &+ 3] = table[Int(group & 0x3f)]
                        written &+= 4
                        group = 0
                        pending = 0
                    }
                }
                if pending == 1 {
                    out[written] = table[Int(group &>> 2 & 0x3f)]
                    out[written &+ 1] = table[Int(group &<< 4 & 0x3f)]
                } else if pending == 2 {
                    out[written] = table[Int(group &>> 10 & 0x3f)]
                    out[written &+ 1] = table[Int(group &>> 4 & 0x3f)]
                    out[written &+ 2] = table[Int(group &<< 2 & 0x3f)]
                }
            }
            return characterCount
        }
    }

    /// Decodes unpadded base64url.
    ///
    /// Returns `nil` for any character outside the base64url alphabet
    /// (including `=`, `+`, `/` and whitespace), for a length of 1 mod 4,
    /// which no byte string encodes to, and for non-zero unused bits in the
    /// final character, so every byte string has exactly one accepted
    /// encoding (RFC 4648 §3.5).
    public static func decode(_ string: String) -> [UInt8]? {
        let utf8 = string.utf8
        let remainder = utf8.count % 4
        guard remainder != 1 else { return nil }
        var result = [UInt8]()
        result.reserveCapacity(utf8.count / 4 * 3 + max(remainder - 1, 0))
        var group: UInt32 = 0
        var pending = 0
        for character in utf8 {
            guard let sextet = value(of: character) else { return nil }
            group = group &<< 6 | UInt32(sextet)
            pending &+= 1
            if pending == 4 {
                result.append(UInt8(truncatingIfNeeded: group &>> 16))
                result.append(UInt8(truncatingIfNeeded: group &>> 8))
                result.append(UInt8(truncatingIfNeeded: group))
                group = 0
                pending = 0
            }
        }
        switch pending {
        case 2:
            guard group & 0x0f == 0 else { return nil }
            result.append(UInt8(truncatingIfNeeded: group &>> 4))
        case 3:
            guard group & 0x03 == 0 else { return nil }
            result.append(UInt8(truncatingIfNeeded: group &>> 10))
            result.append(UInt8(truncatingIfNeeded: group &>> 2))
        default:
            break
        }
        return result
    }

    private static func value(of character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): character &- UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): character &- UInt8(ascii: "a") &+ 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character &- UInt8(ascii: "0") &+ 52
        case UInt8(ascii: "-"): 62
        case UInt8(ascii: "_"): 63
        default: nil
        }
    }
}
