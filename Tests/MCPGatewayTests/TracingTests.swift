import Foundation
import HTTP
import MCPAuth
import MCPGateway
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Tracing never holds up a request: spans wait in a bounded queue, and what does not fit is dropped and
/// counted in /metrics.
@Suite struct TracingTests {
    /// A collector that takes connections (the kernel completes them into its backlog) and never reads or answers.
    final class StuckCollector {
        let fd: Int32
        let port: Int

        init() {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
            _ = listen(fd, 64)
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
            self.fd = fd
            port = Int(UInt16(bigEndian: address.sin_port))
        }

        private var open = true

        func stop() {
            if open { close(fd) }
            open = false
        }

        deinit { stop() }
    }

    /// A collector that answers 200 to every export and keeps the id of every span it was sent.
    final class CountingCollector: @unchecked Sendable {
        private let lock = NSLock()
        private var ids: [String] = []

        var spanIDs: [String] { lock.withLock { ids } }

        func take(_ body: [UInt8]) {
            let found = String(decoding: body, as: UTF8.self).components(separatedBy: #""spanId":""#).dropFirst().map { String($0.prefix(16)) }
            lock.withLock { ids += found }
        }
    }

    static func sample(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    @Test func aCollectorThatNeverAnswersCostsRequestsNothingAndSpansPastTheQueueAreDroppedAndCounted() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let collector = StuckCollector()
        var c = OTLPExporter.Configuration(url: URL(string: "http://127.0.0.1:\(collector.port)/v1/traces")!, headers: HTTPHeaders())
        c.capacity = 20
        c.batchSize = 5
        c.interval = 0.05
        c.timeout = 60
        h.gateway.metrics.enable()
        h.gateway.tracer.start(OTLPExporter(configuration: c, metrics: h.gateway.metrics, log: RequestLog(level: .error)), publicURL: GatewayHarness.publicURL)
        let token = try h.token()
        let statuses = try (0..<30).map { _ in try h.listTools("json", token: token).status }
        #expect(statuses == Array(repeating: 200, count: 30))

        // Each allowed request has 5 spans (server, authenticate, authorize, upstream, audit write): 150 in all.
        // At most 20 wait in the queue and one batch of 5 is stuck in the POST; the rest were dropped.
        let text = h.gateway.metrics.render()
        let dropped = try #require(Self.sample(text, #"mcpctl_trace_spans_dropped_total{reason="queue_full"}"#))
        #expect(dropped >= 125, "\(text)")
        #expect(Self.sample(text, "mcpctl_trace_spans_exported_total") == 0)
        // Closing the collector ends the stuck POST; stop then sends what is left to a closed port, and returns.
        collector.stop()
        h.gateway.tracer.stop()
    }

    @Test func spansOfManyRequestsFinishingAtOnceAreEachExportedExactlyOnceOrCountedAsDropped() throws {
        let h = try GatewayHarness()
        defer { h.close() }
        let collector = CountingCollector()
        let sink = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0)) { request in
            collector.take(request.body)
            return HTTPResponse(status: 200)
        }
        let port = try sink.start()
        defer { sink.shutdown(gracePeriod: 0) }
        var c = OTLPExporter.Configuration(url: URL(string: "http://127.0.0.1:\(port)/v1/traces")!, headers: HTTPHeaders())
        c.capacity = 60  // small: some requests' spans are dropped while others wait
        c.batchSize = 7  // not a multiple of a request's 5 spans: batches end inside a shard
        c.interval = 0.01
        h.gateway.metrics.enable()
        h.gateway.tracer.start(OTLPExporter(configuration: c, metrics: h.gateway.metrics, log: RequestLog(level: .error)), publicURL: GatewayHarness.publicURL)
        let token = try h.token()
        let statuses = NSLock(), threads = 8, each = 25
        nonisolated(unsafe) var answered: [Int] = []
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            for _ in 0..<each {
                let status = (try? h.listTools("json", token: token).status) ?? 0
                statuses.withLock { answered.append(status) }
            }
        }
        h.gateway.tracer.stop()
        #expect(answered == Array(repeating: 200, count: threads * each))

        let text = h.gateway.metrics.render()
        let exported = try #require(Self.sample(text, "mcpctl_trace_spans_exported_total"))
        let dropped = try #require(Self.sample(text, #"mcpctl_trace_spans_dropped_total{reason="queue_full"}"#))
        #expect(Self.sample(text, #"mcpctl_trace_spans_dropped_total{reason="export_failed"}"#) == 0)
        #expect(Int(exported + dropped) == threads * each * 5, "\(text)")
        let ids = collector.spanIDs
        #expect(exported > 0 && ids.count == Int(exported))
        #expect(Set(ids).count == ids.count, "a span was sent twice")
    }
}
