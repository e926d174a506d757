/// Proof Key for Code Exchange (RFC 7636) with the only method this server accepts, S256
/// (OAuth 2.1 §4.1.1; RFC 9700 §2.1.1: `plain` MUST NOT be used where S256 is possible).
public enum PKCE {
    /// RFC 7636 §4.1 / §4.2: 43–128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
    /// A S256 challenge is the base64url of a SHA-256, i.e. exactly 43 such characters.
    public static func isWellFormed(_ value: String) -> Bool {
        let n = value.utf8.count
        return n >= 43 && n <= 128 && value.utf8.allSatisfy { b in
            (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39)
                || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "~")
        }
    }

    /// The S256 challenge of a verifier: BASE64URL(SHA256(ASCII(code_verifier))) (RFC 7636 §4.2).
    public static func challenge(forVerifier verifier: String) -> String {
        Base64URL.encode(SHA256.hash(Array(verifier.utf8)))
    }

    /// RFC 7636 §4.6: recompute the challenge from the verifier and compare (in constant time).
    public static func verify(verifier: String, challenge: String) -> Bool {
        guard isWellFormed(verifier) else { return false }
        return ConstantTime.equals(Array(PKCE.challenge(forVerifier: verifier).utf8), Array(challenge.utf8))
    }
}
