/// PBKDF2 password-based key derivation (RFC 8018 §5.2) with HMAC-SHA256 as the PRF.
public enum PBKDF2 {
    /// Derives `keyLength` bytes from `password` and `salt` using `iterations` rounds.
    ///
    /// The HMAC key schedule is computed once, and every iteration after the
    /// first costs exactly two SHA-256 compressions on a stack buffer.
    public static func sha256(password: [UInt8], salt: [UInt8], iterations: Int, keyLength: Int) -> [UInt8] {
        precondition(iterations > 0, "PBKDF2 requires at least one iteration")
        precondition(keyLength >= 0, "PBKDF2 key length must not be negative")
        // RFC 8018 §5.2 step 1: dkLen must not exceed (2^32 - 1) · hLen.
        precondition(UInt64(keyLength) <= UInt64(UInt32.max) * UInt64(SHA256.digestSize), "derived key too long")
        let key = HMACSHA256Key(password)
        var derived = [UInt8]()
        derived.reserveCapacity(keyLength)
        var blockIndex: UInt32 = 1
        while derived.count < keyLength {
            let block = derivedBlock(key: key, salt: salt, iterations: iterations, index: blockIndex)
            // RFC 8018 §5.2 steps 4–5: concatenate T_1 … T_l and keep the first dkLen octets.
            derived.append(contentsOf: block.prefix(keyLength - derived.count))
            blockIndex &+= 1
        }
        return derived
    }

    /// T_i = U_1 ⊕ U_2 ⊕ … ⊕ U_c — RFC 8018 §5.2 step 3.
    private static func derivedBlock(key: HMACSHA256Key, salt: [UInt8], iterations: Int, index: UInt32) -> [UInt8] {
        // U_1 = PRF(P, S ‖ INT(i)).
        var message = salt
        message.append(contentsOf: [UInt8(truncatingIfNeeded: index >> 24), UInt8(truncatingIfNeeded: index >> 16),
                                    UInt8(truncatingIfNeeded: index >> 8), UInt8(truncatingIfNeeded: index)])
        let first = key.authenticationCode(for: message)
        var u = SHA256.State(bigEndianBytes: first)
        var t = u
        if iterations == 1 { return t.bytes }
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
            let w = schedule.baseAddress!
            // U_j = PRF(P, U_{j-1}): the 32-byte message after a 64-byte key
            // block is one padded block (FIPS 180-4 §5.1.1): 0x80, zeros, and
            // the bit length (64 + 32) · 8 = 768. Both the inner and the outer
            // hash have this same shape, so words 8…15 never change.
            w[8] = 0x8000_0000
            for i in 9..<15 { w[i] = 0 }
            w[15] = UInt32((SHA256.blockSize + SHA256.digestSize) * 8)
            for _ in 1..<iterations {
                u.store(into: w)
                var inner = key.inner
                SHA256.compress(&inner, schedule: w)
                inner.store(into: w)
                u = key.outer
                SHA256.compress(&u, schedule: w)
                t.formXor(u)
            }
        }
        return t.bytes
    }
}
