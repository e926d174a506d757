/// The text of a credential: `mcp_<kind>_` + 32 base62 random characters (190 bits) +
/// 6 base62 characters of CRC32 over everything before them, so scanners can tell a real token from noise.
public enum TokenSecret {
    public static let randomLength = 32
    public static let checksumLength = 6
    public static let kinds = ["pat", "at", "rt", "cs"]

    /// A fresh secret of the given kind ("pat", "at", "rt", "cs").
    public static func generate(kind: String) -> String {
        let body = "mcp_\(kind)_" + Base62.random(count: randomLength)
        return body + Base62.encode(UInt64(CRC32.checksum(Array(body.utf8))), width: checksumLength)
    }

    /// The kind of a well-formed secret with a valid checksum, else nil. Read from the secret's bytes in
    /// place (every request to the gateway asks it).
    public static func kind(of secret: String) -> String? {
        var text = secret
        return text.withUTF8 { bytes -> String? in
            guard bytes.count > 4 + randomLength + checksumLength, bytes.starts(with: "mcp_".utf8) else { return nil }
            guard let underscore = bytes[4...].firstIndex(of: UInt8(ascii: "_")),
                  bytes.count == underscore + 1 + randomLength + checksumLength,
                  let kind = kinds.first(where: { $0.utf8.elementsEqual(bytes[4..<underscore]) }) else { return nil }
            let checksumStart = bytes.count - checksumLength
            guard bytes[(underscore + 1)..<checksumStart].allSatisfy({ Base62.digitValue($0) != nil }),
                  let value = Base62.decode(bytes: bytes[checksumStart...]),
                  value == UInt64(CRC32.checksum(bytes[..<checksumStart])) else { return nil }
            return kind
        }
    }

    /// The SHA-256 the store keeps instead of the secret.
    public static func hash(_ secret: String) -> [UInt8] { SHA256.hash(secret) }

    /// A safe way to mention a secret: its prefix and last four characters ("mcp_pat_…a1B2").
    public static func redacted(_ secret: String) -> String {
        guard let kind = kind(of: secret) else { return "…" + String(secret.suffix(4)) }
        return "mcp_\(kind)_…" + String(secret.suffix(4))
    }

    /// Every substring of `text` that is a well-formed secret with a valid checksum, in order.
    public static func find(in text: String) -> [String] {
        let bytes = Array(text.utf8)
        var found: [String] = []
        var i = 0
        let minimum = 4 + 2 + 1 + randomLength + checksumLength
        func isAlnum(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) || (0x41...0x5a).contains(b) || (0x61...0x7a).contains(b) }
        while i + minimum <= bytes.count {
            if bytes[i] == UInt8(ascii: "m"), bytes[i + 1] == UInt8(ascii: "c"), bytes[i + 2] == UInt8(ascii: "p"),
               bytes[i + 3] == UInt8(ascii: "_"), i == 0 || !isAlnum(bytes[i - 1]) {
                for kind in kinds {
                    let length = 4 + kind.utf8.count + 1 + randomLength + checksumLength
                    guard i + length <= bytes.count else { continue }
                    let candidate = String(decoding: bytes[i..<(i + length)], as: UTF8.self)
                    let endsCleanly = i + length == bytes.count || !isAlnum(bytes[i + length])
                    if endsCleanly, TokenSecret.kind(of: candidate) == kind {
                        found.append(candidate)
                        i += length - 1
                        break
                    }
                }
            }
            i += 1
        }
        return found
    }
}
