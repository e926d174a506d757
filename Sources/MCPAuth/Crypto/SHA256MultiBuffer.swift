/// Multi-buffer SHA-256 (FIPS 180-4): four independent messages hashed at once, one per lane of a
/// `SIMD4<UInt32>`, so each vector instruction does a step of four compressions. Used where many short
/// messages are hashed together (the audit chain verifier); the results are those of `SHA256.hash`.
///
/// Messages arrive already padded (`SHA256.appendPadding`), so a lane only ever sees whole blocks; when a
/// lane's message ends, its digest is written out and the next message starts in that lane.
extension SHA256 {
    typealias Lanes = SIMD4<UInt32>

    /// Hashes each message on its own (the digests equal `hash(message)` one by one), four at a time.
    public static func hashEach(_ messages: [[UInt8]]) -> [[UInt8]] {
        guard !messages.isEmpty else { return [] }
        var offsets = [0]
        for m in messages { offsets.append(offsets.last! + m.count + paddingLength(forMessageLength: m.count)) }
        var padded = [UInt8](repeating: 0, count: offsets.last!)
        var digests = [UInt8](repeating: 0, count: 32 * messages.count)
        padded.withUnsafeMutableBytes { out in
            for (i, m) in messages.enumerated() {
                m.withUnsafeBytes { if $0.count > 0 { (out.baseAddress! + offsets[i]).copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
                writePadding(to: out.baseAddress! + offsets[i] + m.count, messageLength: m.count)
            }
            digests.withUnsafeMutableBytes { d in
                offsets.withUnsafeBufferPointer { o in
                    hashPadded(base: UnsafeRawPointer(out.baseAddress!), offsets: o.baseAddress!, count: messages.count, digests: d.baseAddress!)
                }
            }
        }
        return (0..<messages.count).map { Array(digests[32 * $0 ..< 32 * $0 + 32]) }
    }

    /// The length of the padding FIPS 180-4 §5.1.1 appends to a message of `length` bytes: 0x80, zeros up
    /// to 56 mod 64, then the 64-bit big-endian bit length.
    static func paddingLength(forMessageLength length: Int) -> Int {
        let rest = length % blockSize
        return (rest < 56 ? 56 - rest : 120 - rest) + 8
    }

    /// Writes the padding for a message of `length` bytes at `out` (`paddingLength` bytes).
    static func writePadding(to out: UnsafeMutableRawPointer, messageLength length: Int) {
        let n = paddingLength(forMessageLength: length)
        out.initializeMemory(as: UInt8.self, repeating: 0, count: n - 8)
        out.storeBytes(of: 0x80, as: UInt8.self)
        out.storeBytes(of: (UInt64(length) &* 8).bigEndian, toByteOffset: n - 8, as: UInt64.self)
    }

    /// Hashes `count` padded messages: message i is `base[offsets[i]..<offsets[i + 1]]`, a whole number of
    /// blocks (at least one); its 32-byte digest goes to `digests + 32 * i`.
    static func hashPadded(base: UnsafeRawPointer, offsets: UnsafePointer<Int>, count: Int,
                           digests: UnsafeMutableRawPointer) {
        withUnsafeTemporaryAllocation(of: Lanes.self, capacity: 64) { schedule in
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 8) { idle in
                idle.initialize(repeating: 0)
                var lanes = LaneSet(idle: UnsafeRawPointer(idle.baseAddress!))
                var next = 0
                for lane in 0..<4 { lanes.start(lane, base: base, offsets: offsets, next: &next, count: count) }
                while lanes.busy > 0 {
                    lanes.loadBlock(into: schedule.baseAddress!)
                    compress(&lanes.state, schedule: schedule.baseAddress!)
                    lanes.advance(base: base, offsets: offsets, next: &next, count: count, digests: digests)
                }
            }
        }
    }

    /// The four lanes: where each lane's message is, how many blocks it has left, and the chaining values.
    struct LaneSet {
        var state = LaneState()
        /// The address of each lane's current block.
        var block: SIMD4<Int>
        /// How far each lane moves per block: a block for a busy lane, nothing for an idle one (it hashes the
        /// zero block again and its result is discarded).
        var step: SIMD4<Int> = .zero
        /// Blocks left in each lane's message (`Int.max` for an idle lane, so it never finishes).
        var left = SIMD4<Int>(repeating: .max)
        /// The message each lane hashes, or -1 when the lane is idle.
        var message = SIMD4<Int>(repeating: -1)
        var busy = 0
        let idle: Int

        init(idle: UnsafeRawPointer) {
            self.idle = Int(bitPattern: idle)
            block = SIMD4(repeating: self.idle)
        }

        /// Puts the next message into `lane`, or leaves the lane idle when there is none.
        mutating func start(_ lane: Int, base: UnsafeRawPointer, offsets: UnsafePointer<Int>, next: inout Int, count: Int) {
            guard next < count else {
                (message[lane], left[lane], block[lane], step[lane]) = (-1, .max, idle, 0)
                return
            }
            message[lane] = next
            left[lane] = (offsets[next &+ 1] &- offsets[next]) / SHA256.blockSize
            block[lane] = Int(bitPattern: base + offsets[next])
            step[lane] = SHA256.blockSize
            state.reset(lane)
            busy &+= 1
            next &+= 1
        }

        /// Decodes the current block of each lane into `w[0..<16]` (word t of lane j in `w[t][j]`).
        @inline(__always)
        func loadBlock(into w: UnsafeMutablePointer<Lanes>) {
            let p0 = UnsafeRawPointer(bitPattern: block[0]).unsafelyUnwrapped
            let p1 = UnsafeRawPointer(bitPattern: block[1]).unsafelyUnwrapped
            let p2 = UnsafeRawPointer(bitPattern: block[2]).unsafelyUnwrapped
            let p3 = UnsafeRawPointer(bitPattern: block[3]).unsafelyUnwrapped
            for t in 0..<16 {
                let offset = t &* 4
                w[t] = Lanes(UInt32(bigEndian: p0.loadUnaligned(fromByteOffset: offset, as: UInt32.self)),
                             UInt32(bigEndian: p1.loadUnaligned(fromByteOffset: offset, as: UInt32.self)),
                             UInt32(bigEndian: p2.loadUnaligned(fromByteOffset: offset, as: UInt32.self)),
                             UInt32(bigEndian: p3.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            }
        }

        /// Moves every busy lane to its next block; a lane whose message is done writes its digest and
        /// takes the next message.
        @inline(__always)
        mutating func advance(base: UnsafeRawPointer, offsets: UnsafePointer<Int>, next: inout Int, count: Int,
                              digests: UnsafeMutableRawPointer) {
            block &+= step
            left &-= 1
            let finished = left .== 0
            guard any(finished) else { return }
            for lane in 0..<4 where finished[lane] {
                state.store(lane, to: digests + 32 &* message[lane])
                busy &-= 1
                start(lane, base: base, offsets: offsets, next: &next, count: count)
            }
        }
    }

    /// The eight chaining values of four messages, lane j holding message j's.
    struct LaneState {
        var h0 = Lanes(repeating: State.initial.h0), h1 = Lanes(repeating: State.initial.h1)
        var h2 = Lanes(repeating: State.initial.h2), h3 = Lanes(repeating: State.initial.h3)
        var h4 = Lanes(repeating: State.initial.h4), h5 = Lanes(repeating: State.initial.h5)
        var h6 = Lanes(repeating: State.initial.h6), h7 = Lanes(repeating: State.initial.h7)

        /// FIPS 180-4 §5.3.3: `lane` starts a new message.
        mutating func reset(_ lane: Int) {
            let s = State.initial
            h0[lane] = s.h0; h1[lane] = s.h1; h2[lane] = s.h2; h3[lane] = s.h3
            h4[lane] = s.h4; h5[lane] = s.h5; h6[lane] = s.h6; h7[lane] = s.h7
        }

        /// Writes `lane`'s digest (the chaining values big-endian) to `out`.
        func store(_ lane: Int, to out: UnsafeMutableRawPointer) {
            out.storeBytes(of: h0[lane].bigEndian, toByteOffset: 0, as: UInt32.self)
            out.storeBytes(of: h1[lane].bigEndian, toByteOffset: 4, as: UInt32.self)
            out.storeBytes(of: h2[lane].bigEndian, toByteOffset: 8, as: UInt32.self)
            out.storeBytes(of: h3[lane].bigEndian, toByteOffset: 12, as: UInt32.self)
            out.storeBytes(of: h4[lane].bigEndian, toByteOffset: 16, as: UInt32.self)
            out.storeBytes(of: h5[lane].bigEndian, toByteOffset: 20, as: UInt32.self)
            out.storeBytes(of: h6[lane].bigEndian, toByteOffset: 24, as: UInt32.self)
            out.storeBytes(of: h7[lane].bigEndian, toByteOffset: 28, as: UInt32.self)
        }
    }

    /// One compression in every lane; `w[0..<16]` holds the decoded block, words 16…63 are overwritten.
    @inline(__always)
    static func compress(_ state: inout LaneState, schedule w: UnsafeMutablePointer<Lanes>) {
        var a = state.h0, b = state.h1, c = state.h2, d = state.h3
        var e = state.h4, f = state.h5, g = state.h6, h = state.h7
        // FIPS 180-4 §6.2.2 step 1, word t of the message schedule, computed just before round t needs it.
        @inline(__always)
        func scheduled(_ t: Int) -> Lanes {
            let x = w[t &- 15], y = w[t &- 2]
            let sigma0 = ((x &>> 7) ^ (x &<< 14)) ^ ((x &>> 18) ^ (x &<< 25)) ^ (x &>> 3)
            let sigma1 = ((y &>> 17) ^ (y &<< 13)) ^ ((y &>> 19) ^ (y &<< 15)) ^ (y &>> 10)
            let word = w[t &- 16] &+ sigma0 &+ w[t &- 7] &+ sigma1
            w[t] = word
            return word
        }
        // FIPS 180-4 §6.2.2 steps 2–4, eight rounds per iteration with the variables rotated through the
        // call arguments instead of moved.
        laneRoundConstants.withUnsafeBufferPointer { constants in
            let k = constants.baseAddress!
            var t = 0
            while t < 16 {
                round(a, b, c, &d, e, f, g, &h, w[t] &+ k[t])
                round(h, a, b, &c, d, e, f, &g, w[t &+ 1] &+ k[t &+ 1])
                round(g, h, a, &b, c, d, e, &f, w[t &+ 2] &+ k[t &+ 2])
                round(f, g, h, &a, b, c, d, &e, w[t &+ 3] &+ k[t &+ 3])
                round(e, f, g, &h, a, b, c, &d, w[t &+ 4] &+ k[t &+ 4])
                round(d, e, f, &g, h, a, b, &c, w[t &+ 5] &+ k[t &+ 5])
                round(c, d, e, &f, g, h, a, &b, w[t &+ 6] &+ k[t &+ 6])
                round(b, c, d, &e, f, g, h, &a, w[t &+ 7] &+ k[t &+ 7])
                t &+= 8
            }
            while t < 64 {
                round(a, b, c, &d, e, f, g, &h, scheduled(t) &+ k[t])
                round(h, a, b, &c, d, e, f, &g, scheduled(t &+ 1) &+ k[t &+ 1])
                round(g, h, a, &b, c, d, e, &f, scheduled(t &+ 2) &+ k[t &+ 2])
                round(f, g, h, &a, b, c, d, &e, scheduled(t &+ 3) &+ k[t &+ 3])
                round(e, f, g, &h, a, b, c, &d, scheduled(t &+ 4) &+ k[t &+ 4])
                round(d, e, f, &g, h, a, b, &c, scheduled(t &+ 5) &+ k[t &+ 5])
                round(c, d, e, &f, g, h, a, &b, scheduled(t &+ 6) &+ k[t &+ 6])
                round(b, c, d, &e, f, g, h, &a, scheduled(t &+ 7) &+ k[t &+ 7])
                t &+= 8
            }
        }
        state.h0 &+= a; state.h1 &+= b; state.h2 &+= c; state.h3 &+= d
        state.h4 &+= e; state.h5 &+= f; state.h6 &+= g; state.h7 &+= h
    }

    /// FIPS 180-4 §4.2.2 round constants, each repeated in every lane.
    private static let laneRoundConstants: [Lanes] = roundConstants.map { Lanes(repeating: $0) }

    /// One SHA-256 round (FIPS 180-4 §6.2.2 step 3) in every lane; `kw` is W_t + K_t. Updates `d` (the new
    /// e) and `h` (the new a). Ch and Maj are written in their equivalent forms with fewer operations.
    @inline(__always)
    private static func round(
        _ a: Lanes, _ b: Lanes, _ c: Lanes, _ d: inout Lanes,
        _ e: Lanes, _ f: Lanes, _ g: Lanes, _ h: inout Lanes, _ kw: Lanes
    ) {
        let bigSigma1 = ((e &>> 6) ^ (e &<< 21)) ^ ((e &>> 11) ^ (e &<< 7)) ^ ((e &>> 25) ^ (e &<< 26))
        let choose = g ^ (e & (f ^ g))
        let t1 = h &+ bigSigma1 &+ choose &+ kw
        let bigSigma0 = ((a &>> 2) ^ (a &<< 19)) ^ ((a &>> 13) ^ (a &<< 10)) ^ ((a &>> 22) ^ (a &<< 30))
        let majority = (a & b) | (c & (a | b))
        d &+= t1
        h = t1 &+ bigSigma0 &+ majority
    }

    @inline(__always)
    private static func rotr(_ x: Lanes, _ n: UInt32) -> Lanes {
        (x &>> n) | (x &<< (32 &- n))
    }
}
