import Foundation
import Synchronization

/// A 16-byte trace id as two 64-bit halves (W3C Trace Context §3.2.2.3: never all zero).
struct TraceID: Sendable, Equatable {
    let high: UInt64
    let low: UInt64
}

/// Span and trace ids and the wall clock in nanoseconds, as spans need them. Ids come from SplitMix64
/// over a counter seeded from the system's random source once: unique and well spread (W3C Trace Context
/// §3.2.2.3–4 asks for random, non-zero ids; they are not secrets) without a system call per id. A request
/// takes a block of `IDBlock.size` consecutive counter values with one atomic add and mixes each id from it
/// when needed, so its ids cost one shared-memory write, not one each.
enum SpanClock {
    private static let counter = Atomic<UInt64>(UInt64.random(in: 0...UInt64.max))
    static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// Nanoseconds since the Unix epoch (CLOCK_REALTIME, as OTLP's `*_time_unix_nano` fields are).
    static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }

    /// The first counter value of a new block of `IDBlock.size` ids.
    static func block() -> IDBlock {
        IDBlock(base: counter.wrappingAdd(gamma &* IDBlock.size, ordering: .relaxed).newValue)
    }

    /// A non-zero 64-bit id from one counter value (SplitMix64's output function, Steele, Lea and Flood 2014).
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return z == 0 ? 1 : z
    }
}

/// The ids of one request's spans: consecutive SplitMix64 counter values, each mixed when it is needed.
struct IDBlock: Sendable {
    static let size: UInt64 = 8
    let base: UInt64

    /// The `index`-th id of the block (0 ..< size).
    func id(_ index: UInt64) -> UInt64 { SpanClock.mix(base &- SpanClock.gamma &* index) }
}

/// Lowercase hex digits written straight into bytes (W3C Trace Context and OTLP/JSON ids are lowercase).
enum Hex16 {
    /// The two hex digits of every byte value, high digit first, as one little-endian UInt16.
    static let pairs: [UInt16] = (0..<256).map { b in
        let digits = Array("0123456789abcdef".utf8)
        return UInt16(digits[b >> 4]) | UInt16(digits[b & 0xF]) << 8
    }

    /// Writes `value` as 16 hex digits at `out` (which must have room for them).
    static func write(_ value: UInt64, to out: UnsafeMutableRawPointer) {
        pairs.withUnsafeBufferPointer { table in
            for i in 0..<8 {
                let byte = Int(truncatingIfNeeded: value >> UInt64(56 - 8 * i))
                out.storeBytes(of: table[byte & 0xFF].littleEndian, toByteOffset: 2 * i, as: UInt16.self)
            }
        }
    }
}
