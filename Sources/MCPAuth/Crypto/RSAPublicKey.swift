/// An RSA public key (n, e) for signature verification only.
public struct RSAPublicKey: Sendable {
    /// Keys below 2048 bits are refused (NIST SP 800-131A; RFC 7518 §3.3 requires at least 2048).
    public static let minimumBits = 2048
    /// Larger moduli are refused so that a hostile JWK Set cannot make verification expensive.
    public static let maximumBits = 8192
    /// Public exponents above 2⁶⁴ are refused for the same reason (real keys use 65537).
    public static let maximumExponentBits = 64

    public let modulus: MontgomeryModulus
    public let exponent: BigUInt

    public enum KeyError: Error, Sendable, Equatable {
        case tooSmall(bits: Int)
        case tooLarge(bits: Int)
        case invalidModulus
        case invalidExponent
    }

    /// A key from its modulus and exponent as big-endian octets. The size is the modulus's bit length,
    /// so leading zero octets never make a small key look large.
    public init(modulus n: [UInt8], exponent e: [UInt8]) throws(KeyError) {
        let n = BigUInt(bigEndian: n), e = BigUInt(bigEndian: e)
        guard n.bitWidth >= RSAPublicKey.minimumBits else { throw .tooSmall(bits: n.bitWidth) }
        guard n.bitWidth <= RSAPublicKey.maximumBits else { throw .tooLarge(bits: n.bitWidth) }
        guard let m = MontgomeryModulus(n) else { throw .invalidModulus }
        // RFC 8017 §3.1: 3 <= e <= n - 1, and e is odd for any usable key.
        guard e.isOdd, e > BigUInt(1), e.bitWidth <= RSAPublicKey.maximumExponentBits, e < n else { throw .invalidExponent }
        modulus = m
        exponent = e
    }

    public var bits: Int { modulus.modulus.bitWidth }

    /// RFC 8017 §8.2.2 RSASSA-PKCS1-V1_5-VERIFY with SHA-256: the signature must be exactly k octets
    /// and below n; the recovered encoding is compared in full with the EMSA-PKCS1-v1_5 encoding of
    /// the message's digest, never parsed (no lenient parsing of padding or DigestInfo).
    public func verifyPKCS1SHA256(signature: [UInt8], message: [UInt8]) -> Bool {
        let k = modulus.modulus.byteWidth
        guard signature.count == k else { return false }
        let s = BigUInt(bigEndian: signature)
        guard s < modulus.modulus else { return false }
        guard let em = modulus.power(s, exponent).bigEndianBytes(count: k),
              let expected = RSAPublicKey.emsaPKCS1v15SHA256(digest: SHA256.hash(message), length: k) else { return false }
        return ConstantTime.equals(em, expected)
    }

    /// RFC 8017 §9.2 EMSA-PKCS1-v1_5: 0x00 0x01 FF…FF 0x00 DigestInfo(SHA-256) H, `length` octets.
    static func emsaPKCS1v15SHA256(digest: [UInt8], length: Int) -> [UInt8]? {
        let t = sha256DigestInfoPrefix + digest
        guard length >= t.count + 11 else { return nil }
        return [0x00, 0x01] + [UInt8](repeating: 0xff, count: length - t.count - 3) + [0x00] + t
    }

    /// RFC 8017 §9.2 note 1: the DER encoding of DigestInfo for SHA-256, without the digest.
    static let sha256DigestInfoPrefix: [UInt8] = [
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
    ]
}
