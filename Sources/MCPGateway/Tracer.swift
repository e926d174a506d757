import Foundation
import HTTP
import MCPAuth
import Synchronization

/// Turns each MCP request's `RequestSpans` into OpenTelemetry spans and hands them to the exporter.
/// Off until `start`: then every hook is one atomic load and a nil check.
public final class Tracer: Sendable {
    let enabled = Atomic<Bool>(false)
    let exporter = Guarded<OTLPExporter?>(nil)
    let serverAddress = Guarded<String?>(nil)

    public init() {}

    /// Starts exporting to `exporter`; `publicURL`'s host is the server spans' `server.address`.
    public func start(_ exporter: OTLPExporter, publicURL: String) {
        self.exporter.withLock { $0 = exporter }
        serverAddress.withLock { $0 = URLComponents(string: publicURL)?.host }
        exporter.start()
        enabled.store(true, ordering: .releasing)
    }

    /// Stops after sending what is queued (as far as the collector takes it within its timeout).
    public func stop() {
        enabled.store(false, ordering: .releasing)
        exporter.withLock { $0 }?.stop()
    }

    public var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    /// The spans of a request that starts now; nil (and nothing done) while tracing is off.
    func begin(_ request: HTTPRequest) -> RequestSpans? {
        guard isEnabled else { return nil }
        return RequestSpans(request)
    }

    /// Ends the request's spans: the stage still running and the server span end now, and a sampled
    /// trace's spans are queued for export (never waiting on the collector).
    func finish(_ spans: RequestSpans, _ event: AuditEvent, status: Int) {
        spans.end()
        guard spans.sampled, let exporter = exporter.withLock({ $0 }) else { return }
        exporter.enqueue(finished(spans, event, status: status, end: SpanClock.now()))
    }

    func finished(_ spans: RequestSpans, _ event: AuditEvent, status: Int, end: UInt64) -> [TraceSpan] {
        let address = serverAddress.withLock { $0 }
        let server = TraceSpan(traceID: spans.traceID, spanID: spans.serverSpanID, parentSpanID: spans.parentSpanID,
                               traceState: spans.traceState, name: SpanAttributes.name(event, httpMethod: spans.method), kind: .server,
                               start: spans.start, end: end,
                               attributes: SpanAttributes.server(spans, event, status: status, serverAddress: address),
                               status: status >= 500 ? .error : .unset)
        let children = spans.intervals.map { i in
            let upstream = i.stage == .upstream
            return TraceSpan(traceID: spans.traceID, spanID: upstream ? spans.upstreamSpanID : SpanClock.spanID(),
                             parentSpanID: spans.serverSpanID, traceState: spans.traceState,
                             name: upstream ? SpanAttributes.name(event, httpMethod: spans.method) : i.stage.name,
                             kind: upstream ? .client : .internal, start: i.start, end: max(i.start, i.end),
                             attributes: upstream ? SpanAttributes.upstream(spans, event) : [],
                             status: i.failed || (upstream && status >= 500) ? .error : .unset)
        }
        return [server] + children
    }
}
