import Foundation
import HTTP
import MCPAuth
import Synchronization

/// Starts each MCP request's `RequestSpans` and hands finished ones to the exporter. Off until `start`:
/// then every hook in the gateway is one atomic load (here) or a nil check (on the request's spans).
public final class Tracer: Sendable {
    let enabled = Atomic<Bool>(false)
    /// Written once, by `start`, before `enabled` is stored (releasing); read only by requests that
    /// loaded `enabled` as true (acquiring): no lock on the request path.
    nonisolated(unsafe) private var exporter: OTLPExporter?
    /// New traces whose id's low half is below this are sampled (`sampleRatio` of 2^64).
    let sampleBelow = Atomic<UInt64>(.max)

    public init() {}

    /// Starts exporting to `exporter`; `publicURL`'s host is the server spans' `server.address`.
    public func start(_ exporter: OTLPExporter, publicURL: String) {
        precondition(self.exporter == nil, "a tracer starts once")
        self.exporter = exporter
        let ratio = min(1, max(0, exporter.configuration.sampleRatio))
        sampleBelow.store(ratio >= 1 ? .max : UInt64(ratio * 0x1p64), ordering: .relaxed)
        exporter.start(serverAddress: URLComponents(string: publicURL)?.host)
        enabled.store(true, ordering: .releasing)
    }

    /// Stops after sending what is queued (as far as the collector takes it within its timeout).
    public func stop() {
        guard enabled.exchange(false, ordering: .acquiringAndReleasing) else { return }
        exporter?.stop()
    }

    public var isEnabled: Bool { enabled.load(ordering: .acquiring) }

    /// The spans of a request that starts now; nil (and nothing done) while tracing is off.
    func begin(_ request: HTTPRequest) -> RequestSpans? {
        guard isEnabled else { return nil }
        return RequestSpans(request, sampleBelow: sampleBelow.load(ordering: .relaxed))
    }

    /// Ends the request: the stage still running and the server span end now (one clock read; the running
    /// stage's end is left 0, which the exporter reads as the request's end), and a sampled trace is queued
    /// for export (never waiting on the collector). Nothing else: this runs where answers are released.
    func finish(_ spans: RequestSpans, _ event: AuditEvent, status: Int) {
        guard spans.sampled, let exporter else { return }
        exporter.enqueue(TracedRequest(spans, event, status: status, end: SpanClock.now()))
    }
}
