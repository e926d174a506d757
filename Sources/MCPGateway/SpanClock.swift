import Foundation
import Synchronization

/// A 16-byte trace id as two 64-bit halves (W3C Trace Context §3.2.2.3: never all zero).
struct TraceID: Sendable, Equatable {
    let high: UInt64
    let low: UInt64

    var hex: String { SpanClock.hex(high) + SpanClock.hex(low) }
}

/// Span and trace ids and the wall clock in nanoseconds, as spans need them. Ids come from SplitMix64
/// over a counter seeded from the system's random source once: unique and well spread (W3C Trace Context
/// §3.2.2.3–4 asks for random, non-zero ids; they are not secrets) without a system call per id.
enum SpanClock {
    private static let counter = Atomic<UInt64>(UInt64.random(in: 0...UInt64.max))

    /// Nanoseconds since the Unix epoch (CLOCK_REALTIME, as OTLP's `*_time_unix_nano` fields are).
    static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }

    /// A non-zero 64-bit id (SplitMix64, Steele, Lea and Flood 2014).
    static func id() -> UInt64 {
        var z = counter.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return z == 0 ? 1 : z
    }

    static func traceID() -> TraceID { TraceID(high: id(), low: id()) }

    private static let digits = Array("0123456789abcdef".utf8)

    /// 16 lowercase hex digits.
    static func hex(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            for i in 0..<16 { buffer[i] = digits[Int((value >> UInt64(60 - 4 * i)) & 0xF)] }
            return 16
        }
    }

    /// The number written as `hex` (exactly 16 hex digits), or nil.
    static func parse<S: StringProtocol>(_ hex: S) -> UInt64? {
        hex.utf8.count == 16 ? UInt64(hex, radix: 16) : nil
    }
}
