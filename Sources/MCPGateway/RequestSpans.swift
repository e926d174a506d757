import Foundation
import HTTP
import MCPAuth

/// The spans of one MCP request while it runs: the server span (the whole request) and a child span for
/// each stage — authentication, policy, the upstream call, the audit write. Made only while tracing is on;
/// a request without tracing has none, so the hooks cost nothing (no allocation, no clock read). A plain
/// value held in the request's record: no allocation of its own, and only times and ids are taken on the
/// request's thread (one clock read per span edge, one atomic add for all its ids); names and attributes
/// are made by the exporter. The caller's `traceparent` (W3C Trace Context §3.2, from `params._meta` or
/// else the header) names the server span's parent and trace; without one the request starts a new trace.
struct RequestSpans: Sendable {
    /// The stages in the order a request goes through them.
    enum Stage: Int, CaseIterable {
        case authentication, policy, upstream, audit

        var name: StaticString {
            switch self {
            case .authentication: "authenticate"
            case .policy: "authorize"
            case .upstream: "upstream"
            case .audit: "audit write"
            }
        }

        /// The stage's span id in the request's `IDBlock` (0 and 1 are the trace id, 2 the server span).
        var idIndex: UInt64 { UInt64(rawValue) + 3 }
    }

    /// One stage's times; `start == 0`: the request did not reach it; `end == 0`: it ends with the request.
    struct Interval: Sendable {
        var start: UInt64 = 0
        var end: UInt64 = 0
        var failed = false
    }

    let start: UInt64
    let method: String
    let path: String
    let protocolVersion: String?
    private let ids: IDBlock
    var trace: TraceID
    /// 0: no caller span (a new trace).
    var parentSpanID: UInt64 = 0
    var traceState: String?
    /// Trace flags (W3C Trace Context §3.2.2.5) as their byte; only sampled traces are exported.
    var flags: UInt8 = 1
    var upstreamURL: String?
    var upstreamIsCommand = false
    /// By stage (`Stage.rawValue`).
    private var intervals = (Interval(), Interval(), Interval(), Interval())
    /// The stage running now, if any.
    private var running: Stage?

    /// `sampleBelow`: a new trace is sampled when its id's low half is below it (a ratio sampler that
    /// decides the same way for the same trace id wherever it runs).
    init(_ request: HTTPRequest, sampleBelow: UInt64) {
        start = SpanClock.now()
        ids = SpanClock.block()
        trace = TraceID(high: ids.id(0), low: ids.id(1))
        method = Gateway.capped(request.method, 16)
        path = Gateway.capped(request.path, 256)
        let (version, parent) = Self.versionAndParent(request.headers)
        protocolVersion = version.map { Gateway.capped($0, 32) }
        if sampleBelow != .max, trace.low >= sampleBelow { flags = 0 }
        if let parent { adopt(parent, state: { request.headers["tracestate"] }) }
    }

    /// The first `MCP-Protocol-Version` and `traceparent` fields' values, found in one pass over the fields
    /// (names compared without regard to case, RFC 9110 §5.1; only names of the right length are compared).
    static func versionAndParent(_ headers: HTTPHeaders) -> (version: String?, parent: String?) {
        var version: String?, parent: String?
        for field in headers {
            switch field.name.utf8.count {
            case 20 where version == nil && HTTPHeaders.sameName(field.name, "mcp-protocol-version"): version = field.value
            case 11 where parent == nil && HTTPHeaders.sameName(field.name, "traceparent"): parent = field.value
            default: continue
            }
        }
        return (version, parent)
    }

    var serverSpanID: UInt64 { ids.id(2) }
    /// Chosen up front: the upstream is told it (`traceparent`) before its span starts.
    var upstreamSpanID: UInt64 { ids.id(Stage.upstream.idIndex) }

    func spanID(_ stage: Stage) -> UInt64 { ids.id(stage.idIndex) }

    /// The caller's trace, when `value` is a valid `traceparent`; an invalid one is ignored (W3C Trace
    /// Context §4.3: the receiver then starts a new trace).
    /// `state` is looked up only for a valid `traceparent`.
    mutating func adopt(_ value: String, state: () -> String?) {
        guard let caller = TraceContext.parse(value) else { return }
        trace = caller.trace
        parentSpanID = caller.spanID
        flags = caller.flags
        traceState = state().map { Gateway.capped($0, 512) }
    }

    /// W3C Trace Context §3.2.2.5: the sampled flag is the flags' lowest bit.
    var sampled: Bool { flags & 1 == 1 }

    /// The context the upstream receives: this trace, under the upstream call's span.
    var upstreamContext: TraceContext {
        TraceContext(trace: trace, spanID: upstreamSpanID, flags: flags, state: traceState)
    }

    /// Starts `stage`, ending the one before it at the same instant (`failedBefore`: where the request was
    /// refused). `message` (the parsed body) may carry the caller's trace in `params._meta`, which wins over
    /// the header.
    mutating func begin(_ stage: Stage, _ message: MCPMessage? = nil, failedBefore: Bool = false) {
        if let meta = message?.json["params"]?["_meta"], let value = meta["traceparent"]?.stringValue {
            adopt(value, state: { meta["tracestate"]?.stringValue })
        }
        let now = SpanClock.now()
        end(at: now, failed: failedBefore)
        self[stage] = Interval(start: now)
        running = stage
    }

    /// The call to `environment`'s upstream starts.
    mutating func beginUpstream(_ environment: AppEnvironment) {
        upstreamURL = environment.upstreamURL
        upstreamIsCommand = environment.command != nil
        begin(.upstream)
    }

    /// Ends the stage that is running, if any; `failed`: it is where the request was refused.
    mutating func end(failed: Bool = false) {
        guard running != nil else { return }
        end(at: SpanClock.now(), failed: failed)
    }

    /// Ends the stage that is running, if any, at `time`.
    mutating func end(at time: UInt64, failed: Bool = false) {
        guard let stage = running else { return }
        self[stage].end = time
        self[stage].failed = failed
        running = nil
    }

    /// The stage's times (`start == 0` when the request did not reach it).
    subscript(stage: Stage) -> Interval {
        get {
            switch stage {
            case .authentication: intervals.0
            case .policy: intervals.1
            case .upstream: intervals.2
            case .audit: intervals.3
            }
        }
        set {
            switch stage {
            case .authentication: intervals.0 = newValue
            case .policy: intervals.1 = newValue
            case .upstream: intervals.2 = newValue
            case .audit: intervals.3 = newValue
            }
        }
    }

    /// How many stages the request reached.
    var stageCount: Int {
        (intervals.0.start != 0 ? 1 : 0) + (intervals.1.start != 0 ? 1 : 0) + (intervals.2.start != 0 ? 1 : 0)
            + (intervals.3.start != 0 ? 1 : 0)
    }
}
