/// SHA-256 message digest as specified in FIPS 180-4.
///
/// The compression function works on fixed-size stack buffers with the
/// working variables held in locals, so hashing allocates nothing per block.
/// `HMAC` and `PBKDF2` reuse the internal `State` and `compress` entry points
/// to avoid re-hashing padded keys on every iteration.
public enum SHA256 {
    /// Length of a SHA-256 digest in bytes.
    public static let digestSize = 32

    /// Length of a SHA-256 message block in bytes.
    static let blockSize = 64

    /// Hashes `data` in one call.
    public static func hash<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 {
        var hasher = Hasher()
        hasher.update(data)
        return hasher.finalize()
    }

    /// Hashes the UTF-8 encoding of `string`.
    public static func hash(_ string: String) -> [UInt8] {
        hash(string.utf8)
    }

    /// An incremental SHA-256 computation: feed bytes with `update`, then call `finalize`.
    ///
    /// `finalize()` returns the digest and resets the hasher to its initial
    /// state, so the value can be reused for a new message.
    public struct Hasher: Sendable {
        var state: State
        /// Partial block awaiting compression (64 bytes, stored inline).
        var buffer: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
        var bufferCount: Int
        /// Total message length absorbed so far, in bytes.
        var length: UInt64

        /// Creates a hasher for a new message.
        public init() {
            self.init(state: .initial, length: 0)
        }

        /// Creates a hasher that continues from `state` after `length` bytes
        /// (a multiple of the block size) have already been compressed.
        init(state: State, length: UInt64) {
            self.state = state
            self.buffer = (0, 0, 0, 0, 0, 0, 0, 0)
            self.bufferCount = 0
            self.length = length
        }

        /// Appends `data` to the message.
        public mutating func update<C: Collection>(_ data: C) where C.Element == UInt8 {
            let handled: Void? = data.withContiguousStorageIfAvailable { elements in
                absorb(UnsafeRawBufferPointer(elements))
            }
            if handled != nil { return }
            var chunk = [UInt8]()
            chunk.reserveCapacity(4096)
            for byte in data {
                chunk.append(byte)
                if chunk.count == 4096 {
                    chunk.withUnsafeBytes { absorb($0) }
                    chunk.removeAll(keepingCapacity: true)
                }
            }
            chunk.withUnsafeBytes { absorb($0) }
        }

        /// Completes the computation, returns the 32-byte digest and resets the hasher.
        public mutating func finalize() -> [UInt8] {
            let bitLength = length &* 8
            // FIPS 180-4 §5.1.1: append 0x80, zero-fill to 56 mod 64, then the 64-bit big-endian bit length.
            var padding: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0, 0)
            let padCount = bufferCount < 56 ? 56 - bufferCount : 120 - bufferCount
            withUnsafeMutableBytes(of: &padding) { pad in
                pad[0] = 0x80
                pad.storeBytes(of: bitLength.bigEndian, toByteOffset: padCount, as: UInt64.self)
                absorb(UnsafeRawBufferPointer(rebasing: pad[0..<(padCount + 8)]))
            }
            let digest = state.bytes
            self = Hasher()
            return digest
        }

        mutating func absorb(_ input: UnsafeRawBufferPointer) {
            guard input.count > 0, var source = input.baseAddress else { return }
            var remaining = input.count
            length &+= UInt64(remaining)
            if bufferCount > 0 {
                let take = min(SHA256.blockSize - bufferCount, remaining)
                let offset = bufferCount
                withUnsafeMutableBytes(of: &buffer) { block in
                    (block.baseAddress! + offset).copyMemory(from: source, byteCount: take)
                }
                bufferCount += take
                source += take
                remaining -= take
                guard bufferCount == SHA256.blockSize else { return }
                withUnsafeBytes(of: buffer) { block in
                    SHA256.compress(&state, blocks: block.baseAddress!, count: 1)
                }
                bufferCount = 0
            }
            let fullBlocks = remaining / SHA256.blockSize
            if fullBlocks > 0 {
                SHA256.compress(&state, blocks: source, count: fullBlocks)
                source += fullBlocks * SHA256.blockSize
                remaining -= fullBlocks * SHA256.blockSize
            }
            if remaining > 0 {
                withUnsafeMutableBytes(of: &buffer) { block in
                    block.baseAddress!.copyMemory(from: source, byteCount: remaining)
                }
                bufferCount = remaining
            }
        }
    }

    /// The eight 32-bit chaining values H0…H7.
    struct State: Sendable {
        var h0, h1, h2, h3, h4, h5, h6, h7: UInt32

        /// FIPS 180-4 §5.3.3 initial hash value.
        static let initial = State(
            h0: 0x6a09_e667, h1: 0xbb67_ae85, h2: 0x3c6e_f372, h3: 0xa54f_f53a,
            h4: 0x510e_527f, h5: 0x9b05_688c, h6: 0x1f83_d9ab, h7: 0x5be0_cd19
        )

        /// The digest: the chaining values serialised big-endian.
        var bytes: [UInt8] {
            [UInt8](unsafeUninitializedCapacity: SHA256.digestSize) { out, count in
                let raw = UnsafeMutableRawBufferPointer(out)
                raw.storeBytes(of: h0.bigEndian, toByteOffset: 0, as: UInt32.self)
                raw.storeBytes(of: h1.bigEndian, toByteOffset: 4, as: UInt32.self)
                raw.storeBytes(of: h2.bigEndian, toByteOffset: 8, as: UInt32.self)
                raw.storeBytes(of: h3.bigEndian, toByteOffset: 12, as: UInt32.self)
                raw.storeBytes(of: h4.bigEndian, toByteOffset: 16, as: UInt32.self)
                raw.storeBytes(of: h5.bigEndian, toByteOffset: 20, as: UInt32.self)
                raw.storeBytes(of: h6.bigEndian, toByteOffset: 24, as: UInt32.self)
                raw.storeBytes(of: h7.bigEndian, toByteOffset: 28, as: UInt32.self)
                count = SHA256.digestSize
            }
        }
    }

    /// Compresses `count` consecutive 64-byte blocks starting at `blocks` into `state`.
    static func compress(_ state: inout State, blocks: UnsafeRawPointer, count: Int) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
            let w = schedule.baseAddress!
            var block = blocks
            for _ in 0..<count {
                for t in 0..<16 {
                    w[t] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: t &* 4, as: UInt32.self))
                }
                compress(&state, schedule: w)
                block += SHA256.blockSize
            }
        }
    }

    /// Runs one compression on a message block already decoded into
    /// `schedule[0..<16]` as big-endian words; `schedule` must have room for
    /// 64 words, and words 16…63 are overwritten while 0…15 are preserved.
    @inline(__always)
    static func compress(_ state: inout State, schedule w: UnsafeMutablePointer<UInt32>) {
        var a = state.h0, b = state.h1, c = state.h2, d = state.h3
        var e = state.h4, f = state.h5, g = state.h6, h = state.h7
        // FIPS 180-4 §6.2.2 step 1, word t of the message schedule, computed just before round t needs it
        // (interleaved with the rounds, the two dependency chains overlap).
        @inline(__always)
        func scheduled(_ t: Int) -> UInt32 {
            let x = w[t &- 15], y = w[t &- 2]
            let sigma0 = rotr(x, 7) ^ rotr(x, 18) ^ (x &>> 3)
            let sigma1 = rotr(y, 17) ^ rotr(y, 19) ^ (y &>> 10)
            let word = w[t &- 16] &+ sigma0 &+ w[t &- 7] &+ sigma1
            w[t] = word
            return word
        }
        // FIPS 180-4 §6.2.2 steps 2–4, eight rounds per iteration with the variables rotated through the
        // call arguments instead of moved.
        roundConstants.withUnsafeBufferPointer { constants in
            let k = constants.baseAddress!
            var t = 0
            while t < 16 {
                round(a, b, c, &d, e, f, g, &h, k[t] &+ w[t])
                round(h, a, b, &c, d, e, f, &g, k[t &+ 1] &+ w[t &+ 1])
                round(g, h, a, &b, c, d, e, &f, k[t &+ 2] &+ w[t &+ 2])
                round(f, g, h, &a, b, c, d, &e, k[t &+ 3] &+ w[t &+ 3])
                round(e, f, g, &h, a, b, c, &d, k[t &+ 4] &+ w[t &+ 4])
                round(d, e, f, &g, h, a, b, &c, k[t &+ 5] &+ w[t &+ 5])
                round(c, d, e, &f, g, h, a, &b, k[t &+ 6] &+ w[t &+ 6])
                round(b, c, d, &e, f, g, h, &a, k[t &+ 7] &+ w[t &+ 7])
                t &+= 8
            }
            while t < 64 {
                round(a, b, c, &d, e, f, g, &h, k[t] &+ scheduled(t))
                round(h, a, b, &c, d, e, f, &g, k[t &+ 1] &+ scheduled(t &+ 1))
                round(g, h, a, &b, c, d, e, &f, k[t &+ 2] &+ scheduled(t &+ 2))
                round(f, g, h, &a, b, c, d, &e, k[t &+ 3] &+ scheduled(t &+ 3))
                round(e, f, g, &h, a, b, c, &d, k[t &+ 4] &+ scheduled(t &+ 4))
                round(d, e, f, &g, h, a, b, &c, k[t &+ 5] &+ scheduled(t &+ 5))
                round(c, d, e, &f, g, h, a, &b, k[t &+ 6] &+ scheduled(t &+ 6))
                round(b, c, d, &e, f, g, h, &a, k[t &+ 7] &+ scheduled(t &+ 7))
                t &+= 8
            }
        }
        // FIPS 180-4 §6.2.2 step 4: intermediate hash value.
        state.h0 &+= a; state.h1 &+= b; state.h2 &+= c; state.h3 &+= d
        state.h4 &+= e; state.h5 &+= f; state.h6 &+= g; state.h7 &+= h
    }

    /// One SHA-256 round (FIPS 180-4 §6.2.2 step 3). `kw` is K_t + W_t.
    /// Updates `d` (becomes the new e) and `h` (becomes the new a).
    @inline(__always)
    private static func round(
        _ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32,
        _ e: UInt32, _ f: UInt32, _ g: UInt32, _ h: inout UInt32, _ kw: UInt32
    ) {
        let bigSigma1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
        let choose = (e & f) ^ (~e & g)
        let t1 = h &+ bigSigma1 &+ choose &+ kw
        let bigSigma0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
        let majority = (a & b) ^ (a & c) ^ (b & c)
        d &+= t1
        h = t1 &+ bigSigma0 &+ majority
    }

    @inline(__always)
    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 {
        (x &>> n) | (x &<< (32 &- n))
    }

    /// FIPS 180-4 §4.2.2 round constants K0…K63.
    static let roundConstants: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]
}

extension SHA256.State {
    /// Reads a 32-byte big-endian digest back into chaining-value form.
    init(bigEndianBytes bytes: [UInt8]) {
        precondition(bytes.count == SHA256.digestSize)
        self = bytes.withUnsafeBytes { raw in
            func word(_ i: Int) -> UInt32 { UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)) }
            return SHA256.State(h0: word(0), h1: word(1), h2: word(2), h3: word(3),
                                h4: word(4), h5: word(5), h6: word(6), h7: word(7))
        }
    }

    /// Writes the eight words to `w[0..<8]`, i.e. the first half of a message block.
    @inline(__always)
    func store(into w: UnsafeMutablePointer<UInt32>) {
        w[0] = h0; w[1] = h1; w[2] = h2; w[3] = h3
        w[4] = h4; w[5] = h5; w[6] = h6; w[7] = h7
    }

    @inline(__always)
    mutating func formXor(_ other: SHA256.State) {
        h0 ^= other.h0; h1 ^= other.h1; h2 ^= other.h2; h3 ^= other.h3
        h4 ^= other.h4; h5 ^= other.h5; h6 ^= other.h6; h7 ^= other.h7
    }
}
