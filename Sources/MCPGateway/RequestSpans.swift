import Foundation
import HTTP
import MCPAuth

/// The spans of one MCP request while it runs: the server span (the whole request) and a child span for
/// each stage — authentication, policy, the upstream call, the audit write. Made only while tracing is on;
/// a request without tracing has none, so the hooks cost nothing (no allocation, no clock read). Only
/// times and ids are taken on the request's thread; names and attributes are made by the exporter.
/// The caller's `traceparent` (W3C Trace Context §3.2, from `params._meta` or else the header) names
/// the server span's parent and trace; without one the request starts a new trace.
/// Mutated only by its request's thread until `Tracer.finish` hands it to the exporter, never after.
final class RequestSpans: @unchecked Sendable {
    enum Stage: Int {
        case authentication, policy, upstream, audit

        var name: String {
            switch self {
            case .authentication: "authenticate"
            case .policy: "authorize"
            case .upstream: "upstream"
            case .audit: "audit write"
            }
        }
    }

    struct Interval {
        let stage: Stage
        let start: UInt64
        var end: UInt64 = 0
        var failed = false
    }

    let start = SpanClock.now()
    let method: String
    let path: String
    let protocolVersion: String?
    var trace = SpanClock.traceID()
    /// 0: no caller span (a new trace).
    var parentSpanID: UInt64 = 0
    var traceState: String?
    /// Trace flags (W3C Trace Context §3.2.2.5); only sampled traces are exported.
    var flags = "01"
    let serverSpanID = SpanClock.id()
    /// Chosen up front: the upstream is told it (`traceparent`) before its span starts.
    let upstreamSpanID = SpanClock.id()
    var upstreamURL: String?
    var upstreamIsCommand = false
    var intervals: [Interval] = []

    /// `sampleBelow`: a new trace is sampled when its id's low half is below it (a ratio sampler that
    /// decides the same way for the same trace id wherever it runs).
    init(_ request: HTTPRequest, sampleBelow: UInt64) {
        method = String(request.method.prefix(16))
        path = Gateway.capped(request.path, 256)
        protocolVersion = request.headers["MCP-Protocol-Version"].map { Gateway.capped($0, 32) }
        intervals.reserveCapacity(4)
        if sampleBelow != .max, trace.low >= sampleBelow { flags = "00" }
        adopt(request.headers["traceparent"], state: request.headers["tracestate"])
    }

    /// The caller's trace, when `value` is a valid `traceparent`; an invalid one is ignored (W3C Trace
    /// Context §4.3: the receiver then starts a new trace).
    func adopt(_ value: String?, state: String?) {
        guard let value, let (traceID, flags) = TraceContext.parse(value) else { return }
        let parent = value.split(separator: "-")[2]
        guard let high = SpanClock.parse(traceID.prefix(16)), let low = SpanClock.parse(traceID.suffix(16)),
              let parentID = SpanClock.parse(parent) else { return }
        trace = TraceID(high: high, low: low)
        parentSpanID = parentID
        self.flags = flags
        traceState = state.map { Gateway.capped($0, 512) }
    }

    var sampled: Bool { (UInt8(flags, radix: 16) ?? 0) & 1 == 1 }

    /// The context the upstream receives: this trace, under the upstream call's span.
    var upstreamContext: TraceContext {
        TraceContext(traceID: trace.hex, flags: flags, spanID: SpanClock.hex(upstreamSpanID), state: traceState)
    }

    /// Starts `stage`, ending the one before it (`failedBefore`: where the request was refused). `message`
    /// (the parsed body) may carry the caller's trace in `params._meta`, which wins over the header.
    func begin(_ stage: Stage, _ message: MCPMessage? = nil, failedBefore: Bool = false) {
        if let meta = message?.json["params"]?["_meta"], let value = meta["traceparent"]?.stringValue {
            adopt(value, state: meta["tracestate"]?.stringValue)
        }
        end(failed: failedBefore)
        intervals.append(Interval(stage: stage, start: SpanClock.now()))
    }

    /// The call to `environment`'s upstream starts.
    func beginUpstream(_ environment: AppEnvironment) {
        upstreamURL = environment.upstreamURL
        upstreamIsCommand = environment.command != nil
        begin(.upstream)
    }

    /// Ends the stage that is running, if any; `failed`: it is where the request was refused.
    func end(failed: Bool = false) {
        guard let last = intervals.indices.last, intervals[last].end == 0 else { return }
        intervals[last].end = SpanClock.now()
        intervals[last].failed = failed
    }
}
