/// HMAC message authentication (RFC 2104) instantiated with SHA-256.
public enum HMAC {
    /// Computes HMAC-SHA256 of `message` under `key`, returning 32 bytes.
    public static func sha256<K: Collection, M: Collection>(key: K, message: M) -> [UInt8]
    where K.Element == UInt8, M.Element == UInt8 {
        HMACSHA256Key(key).authenticationCode(for: message)
    }
}

/// An HMAC-SHA256 key with its padded inner and outer blocks already
/// compressed, so each MAC costs only the message blocks plus one outer
/// compression. Shared by `HMAC` and `PBKDF2`.
public struct HMACSHA256Key: Sendable {
    /// Chaining value after compressing `K ⊕ ipad`.
    let inner: SHA256.State
    /// Chaining value after compressing `K ⊕ opad`.
    let outer: SHA256.State

    public init<K: Collection>(_ key: K) where K.Element == UInt8 {
        // RFC 2104 §2: keys longer than the block size are hashed first,
        // then the key is zero-padded to the block size B = 64.
        var block = [UInt8](repeating: 0, count: SHA256.blockSize)
        if key.count > SHA256.blockSize {
            block.replaceSubrange(0..<SHA256.digestSize, with: SHA256.hash(key))
        } else {
            block.replaceSubrange(0..<key.count, with: key)
        }
        var inner = SHA256.State.initial
        var outer = SHA256.State.initial
        block.withUnsafeMutableBytes { raw in
            // RFC 2104 §2: ipad = 0x36 repeated, opad = 0x5C repeated.
            for i in raw.indices { raw[i] ^= 0x36 }
            SHA256.compress(&inner, blocks: UnsafeRawPointer(raw.baseAddress!), count: 1)
            for i in raw.indices { raw[i] ^= 0x36 ^ 0x5c }
            SHA256.compress(&outer, blocks: UnsafeRawPointer(raw.baseAddress!), count: 1)
        }
        self.inner = inner
        self.outer = outer
    }

    /// H(K ⊕ opad ‖ H(K ⊕ ipad ‖ message)) — RFC 2104 §2.
    public func authenticationCode<M: Collection>(for message: M) -> [UInt8] where M.Element == UInt8 {
        var innerHasher = SHA256.Hasher(state: inner, length: UInt64(SHA256.blockSize))
        innerHasher.update(message)
        var outerHasher = SHA256.Hasher(state: outer, length: UInt64(SHA256.blockSize))
        outerHasher.update(innerHasher.finalize())
        return outerHasher.finalize()
    }
}
