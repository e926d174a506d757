import Foundation
import HTTP
import MCPAuth

/// The spans of one MCP request while it runs: the server span (the whole request) and a child span for
/// each stage — authentication, policy, the upstream call, the audit write. Made only while tracing is on;
/// a request without tracing has none, so the hooks cost nothing (no allocation, no clock read).
/// The caller's `traceparent` (W3C Trace Context §3.2, from `params._meta` or else the header) names
/// the server span's parent and trace; without one the request starts a new trace.
final class RequestSpans {
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
    var traceID = SpanClock.traceID()
    var parentSpanID: String?
    var traceState: String?
    /// Trace flags (W3C Trace Context §3.2.2.5); only sampled traces are exported.
    var flags = "01"
    let serverSpanID = SpanClock.spanID()
    /// Chosen up front: the upstream is told it (`traceparent`) before its span starts.
    let upstreamSpanID = SpanClock.spanID()
    var upstreamURL: String?
    var upstreamIsCommand = false
    var intervals: [Interval] = []

    init(_ request: HTTPRequest) {
        method = String(request.method.prefix(16))
        path = Gateway.capped(request.path, 256)
        protocolVersion = request.headers["MCP-Protocol-Version"].map { Gateway.capped($0, 32) }
        adopt(request.headers["traceparent"], state: request.headers["tracestate"])
    }

    /// The caller's trace, when `value` is a valid `traceparent`; an invalid one is ignored (W3C Trace
    /// Context §4.3: the receiver then starts a new trace).
    func adopt(_ value: String?, state: String?) {
        guard let value, let (traceID, flags) = TraceContext.parse(value) else { return }
        self.traceID = traceID
        self.flags = flags
        parentSpanID = String(value.split(separator: "-")[2])
        traceState = state.map { Gateway.capped($0, 512) }
    }

    var sampled: Bool { (UInt8(flags, radix: 16) ?? 0) & 1 == 1 }

    /// The context the upstream receives: this trace, under the upstream call's span.
    var upstreamContext: TraceContext {
        TraceContext(traceID: traceID, flags: flags, spanID: upstreamSpanID, state: traceState)
    }

    /// Starts `stage`, ending the one before it. `message` (the parsed body) may carry the caller's trace
    /// in `params._meta`, which wins over the header.
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
