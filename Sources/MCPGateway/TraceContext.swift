import HTTP
import MCPAuth

/// W3C Trace Context (Level 1, §3.2): the caller's `traceparent`, from `params._meta` (MCP 2026-07-28:
/// trace context rides in `_meta`) or else the HTTP header, and the gateway's own span under it: the
/// same trace id and flags, a new parent id, sent on to the upstream.
struct TraceContext: Equatable, Sendable {
    /// `version-traceid-parentid-flags` naming the gateway's span (W3C Trace Context §3.2).
    let traceparent: String
    /// `tracestate` as received, passed on unchanged (W3C Trace Context §3.3).
    let state: String?

    /// The gateway's span `spanID` in `trace`, written in one allocation.
    init(trace: TraceID, spanID: UInt64, flags: UInt8, state: String?) {
        traceparent = String(unsafeUninitializedCapacity: 55) { out in
            let p = UnsafeMutableRawPointer(out.baseAddress!)
            out[0] = UInt8(ascii: "0"); out[1] = UInt8(ascii: "0"); out[2] = UInt8(ascii: "-")
            Hex16.write(trace.high, to: p + 3)
            Hex16.write(trace.low, to: p + 19)
            out[35] = UInt8(ascii: "-")
            Hex16.write(spanID, to: p + 36)
            out[52] = UInt8(ascii: "-")
            p.storeBytes(of: Hex16.pairs[Int(flags)].littleEndian, toByteOffset: 53, as: UInt16.self)
            return 55
        }
        self.state = state
    }

    /// The gateway's span under the caller's trace; nil when the caller sent no valid `traceparent`.
    static func child(of headers: HTTPHeaders, _ message: MCPMessage?) -> TraceContext? {
        let meta = message?.meta
        let value = meta?["traceparent"]?.stringValue ?? headers["traceparent"]
        guard let value, let caller = parse(value) else { return nil }
        let state = meta?["tracestate"]?.stringValue ?? headers["tracestate"]
        return TraceContext(trace: caller.trace, spanID: SpanClock.block().id(0), flags: caller.flags, state: state)
    }

    /// A valid `traceparent`'s trace, parent span and flags.
    struct Parent: Equatable {
        let trace: TraceID
        let spanID: UInt64
        let flags: UInt8
    }

    /// W3C Trace Context §3.2.2: `version-traceid-parentid-flags`, lowercase hex, ids not all zero,
    /// version `ff` invalid; a later version may append fields after a dash. Read in place, byte by byte.
    static func parse(_ value: String) -> Parent? {
        var value = value
        return value.withUTF8 { b in
            // version(2) - trace-id(32) - parent-id(16) - flags(2): 55 bytes.
            guard b.count >= 55, b[2] == dash, b[35] == dash, b[52] == dash else { return nil }
            guard let version = hex(b, 0, 2), version != 0xFF, let high = hex(b, 3, 16), let low = hex(b, 19, 16),
                  let parent = hex(b, 36, 16), let flags = hex(b, 53, 2), high | low != 0, parent != 0 else { return nil }
            // Version 00 has exactly four fields; a later one may have more, after a dash.
            guard b.count == 55 || (version != 0 && b[55] == dash) else { return nil }
            return Parent(trace: TraceID(high: high, low: low), spanID: parent, flags: UInt8(flags))
        }
    }

    private static let dash = UInt8(ascii: "-")

    /// The `count` (at most 16) lowercase hex digits at `offset`, or nil when one is not.
    private static func hex(_ b: UnsafeBufferPointer<UInt8>, _ offset: Int, _ count: Int) -> UInt64? {
        var v: UInt64 = 0
        for i in offset..<(offset + count) {
            let c = b[i]
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c &- UInt8(ascii: "a") &+ 10
            default: return nil
            }
            v = v << 4 | UInt64(digit)
        }
        return v
    }

    /// `message` with the gateway's span in `params._meta.traceparent` (and `tracestate`).
    func stamped(_ message: JSON) -> JSON {
        var out = message
        var params = message["params"] ?? .object([])
        var meta = params["_meta"] ?? .object([])
        meta.set("traceparent", .string(traceparent))
        if let state { meta.set("tracestate", .string(state)) }
        params.set("_meta", meta)
        out.set("params", params)
        return out
    }
}
