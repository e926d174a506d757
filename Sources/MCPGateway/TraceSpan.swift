import Foundation

/// One finished span, in the shape of opentelemetry-proto's `trace.v1.Span`: ids as lowercase hex,
/// times as nanoseconds since the Unix epoch, kind and status as the proto's enum numbers.
struct TraceSpan: Sendable {
    /// `Span.SpanKind`: 1 internal, 2 server, 3 client.
    enum Kind: Int, Sendable {
        case `internal` = 1
        case server = 2
        case client = 3
    }

    /// `Status.StatusCode`: 0 unset, 2 error (a span is never marked ok: that is for the application to say).
    enum Status: Int, Sendable {
        case unset = 0
        case error = 2
    }

    /// An attribute value (`common.v1.AnyValue`): the kinds mcpctl records.
    enum Value: Sendable, Equatable {
        case string(String)
        case int(Int64)
    }

    let traceID: String
    let spanID: String
    let parentSpanID: String?
    let traceState: String?
    let name: String
    let kind: Kind
    let start: UInt64
    let end: UInt64
    let attributes: [(String, Value)]
    let status: Status
}

/// Span and trace ids (W3C Trace Context §3.2.2.3–4: random, not all zero) and the wall clock in
/// nanoseconds, as spans need them.
enum SpanClock {
    /// Nanoseconds since the Unix epoch (CLOCK_REALTIME, as OTLP's `*_time_unix_nano` fields are).
    static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }

    /// 16 lowercase hex digits, never all zero.
    static func spanID() -> String {
        hex(UInt64.random(in: 1...UInt64.max), digits: 16)
    }

    /// 32 lowercase hex digits, never all zero.
    static func traceID() -> String {
        hex(UInt64.random(in: 1...UInt64.max), digits: 16) + hex(UInt64.random(in: 0...UInt64.max), digits: 16)
    }

    static func hex(_ value: UInt64, digits: Int) -> String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - s.count)) + s
    }
}
