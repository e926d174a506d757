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
    init(trace: TraceID, spanID: UInt64, flags: String, state: String?) {
        traceparent = String(unsafeUninitializedCapacity: 55) { out in
            let p = UnsafeMutableRawPointer(out.baseAddress!)
            out[0] = UInt8(ascii: "0"); out[1] = UInt8(ascii: "0"); out[2] = UInt8(ascii: "-")
            Hex16.write(trace.high, to: p + 3)
            Hex16.write(trace.low, to: p + 19)
            out[35] = UInt8(ascii: "-")
            Hex16.write(spanID, to: p + 36)
            out[52] = UInt8(ascii: "-")
            var n = 53
            for b in flags.utf8.prefix(2) {
                out[n] = b
                n += 1
            }
            return n
        }
        self.state = state
    }

    init(traceID: String, flags: String, spanID: String, state: String?) {
        traceparent = "00-\(traceID)-\(spanID)-\(flags)"
        self.state = state
    }

    /// The gateway's span under the caller's trace; nil when the caller sent no valid `traceparent`.
    static func child(of headers: HTTPHeaders, _ message: MCPMessage?) -> TraceContext? {
        let meta = message?.meta
        let value = meta?["traceparent"]?.stringValue ?? headers["traceparent"]
        guard let value, let (traceID, flags) = parse(value) else { return nil }
        let state = meta?["tracestate"]?.stringValue ?? headers["tracestate"]
        return TraceContext(traceID: traceID, flags: flags, spanID: Hex.encode(SecureRandom.bytes(8)), state: state)
    }

    /// W3C Trace Context §3.2.2: `version-traceid-parentid-flags`, lowercase hex, ids not all zero,
    /// version `ff` invalid; a later version may append fields after a dash.
    static func parse(_ value: String) -> (traceID: String, flags: String)? {
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
              parts.prefix(4).allSatisfy(isLowerHex), parts[0] != "ff",
              parts[1].contains(where: { $0 != "0" }), parts[2].contains(where: { $0 != "0" }) else { return nil }
        // Version 00 has exactly four fields.
        if parts[0] == "00" && parts.count != 4 { return nil }
        return (String(parts[1]), String(parts[3]))
    }

    private static func isLowerHex(_ s: Substring) -> Bool {
        s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
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
