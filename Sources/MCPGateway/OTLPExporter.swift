import Foundation
import HTTP
import MCPAuth
import Synchronization

/// Sends finished spans to an OpenTelemetry collector over OTLP/HTTP with JSON bodies (OTLP
/// specification, "OTLP/HTTP": POST to `/v1/traces`, `Content-Type: application/json`). Requests only put
/// spans in a bounded queue; a thread of its own sends them in batches (every `interval` seconds, or at
/// once when `batchSize` are waiting). When the queue is full, or the collector refuses a batch or does
/// not answer within the timeout, the spans are dropped and counted: tracing never holds up a request.
public final class OTLPExporter: Sendable {
    public struct Configuration: Sendable {
        /// The full traces URL, e.g. http://127.0.0.1:4318/v1/traces.
        public var url: URL
        /// Sent with every POST; values may be credentials and are never logged.
        public var headers: HTTPHeaders
        /// The `service.name` resource attribute.
        public var serviceName = "mcpctl"
        public var serviceVersion = ""
        public var batchSize = 512
        public var interval: Double = 1
        /// Spans held at most while they wait; beyond it new ones are dropped.
        public var capacity = 4096
        public var timeout: Double = 10
        /// The share of new traces (requests without a caller's `traceparent`) that are sampled, 0…1; a
        /// caller's trace keeps the caller's decision (OpenTelemetry's `parentbased_traceidratio` sampler).
        public var sampleRatio = 1.0

        public init(url: URL, headers: HTTPHeaders) {
            self.url = url
            self.headers = headers
        }

        /// The URL as it may be logged: without user info, query or fragment (they can hold a credential).
        public var loggableURL: String {
            var c = URLComponents(url: url, resolvingAgainstBaseURL: false)
            c?.user = nil
            c?.password = nil
            c?.query = nil
            c?.fragment = nil
            return c?.string ?? "(collector)"
        }
    }

    let configuration: Configuration
    let metrics: Metrics
    let log: RequestLog
    let queue: SpanQueue
    let serverAddress = Guarded<String?>(nil)
    let client = HTTPClient(maxIdleConnectionsPerHost: 1)
    let stopped = Atomic<Bool>(false)
    let wake = DispatchSemaphore(value: 0)
    let done = DispatchSemaphore(value: 0)

    public init(configuration: Configuration, metrics: Metrics, log: RequestLog) {
        self.configuration = configuration
        self.metrics = metrics
        self.log = log
        queue = SpanQueue(capacity: configuration.capacity)
    }

    /// Starts the sending thread; `serverAddress` is the server spans' `server.address`.
    func start(serverAddress: String?) {
        self.serverAddress.withLock { $0 = serverAddress }
        let t = Thread { [self] in
            run()
            done.signal()
        }
        t.name = "otlp-exporter"
        t.start()
    }

    /// Sends what is queued, waiting at most one collector timeout for it.
    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        wake.signal()
        _ = done.wait(timeout: .now() + configuration.timeout + 1)
    }

    /// Queues one request's spans without waiting; when they do not fit they are dropped and counted.
    func enqueue(_ request: TracedRequest) {
        let (dropped, held) = queue.append(request)
        if dropped > 0 { return metrics.spansDropped(dropped, reason: .queueFull) }
        // The exporter is woken once per batch: when this request's spans made the queue reach one.
        let batch = configuration.batchSize
        if held - request.spanCount < batch && held >= batch { wake.signal() }
    }

    func run() {
        log.write(.info, [("msg", "tracing"), ("to", configuration.loggableURL),
                          ("headers", configuration.headers.map(\.name).joined(separator: ","))])
        var failing = false
        var servers = UpstreamServers()
        // Both reused from batch to batch: after the first few, sending allocates no large buffer.
        var batch: [TracedRequest] = []
        var body: [UInt8] = []
        batch.reserveCapacity(configuration.batchSize)
        while true {
            let stopping = stopped.load(ordering: .relaxed)
            batch.removeAll(keepingCapacity: true)
            queue.take(spans: configuration.batchSize, into: &batch)
            if batch.isEmpty {
                if stopping { return }
                pause()
                continue
            }
            failing = send(batch, failing: failing, &servers, body: &body)
            if !stopping, queue.count < configuration.batchSize { pause() }
        }
    }

    /// POSTs one batch, written into `body`; returns whether the collector is failing now (logged when
    /// that changes).
    func send(_ requests: [TracedRequest], failing: Bool, _ servers: inout UpstreamServers, body: inout [UInt8]) -> Bool {
        OTLPJSON.exportRequest(requests, service: (configuration.serviceName, configuration.serviceVersion),
                               serverAddress: serverAddress.withLock { $0 }, servers: &servers, into: &body)
        let spans = requests.reduce(0) { $0 + $1.spanCount }
        let problem = post(body)
        guard let problem else {
            metrics.spansExported(spans)
            if failing { log.info("trace export to \(configuration.loggableURL) resumed") }
            return false
        }
        metrics.spansDropped(spans, reason: .exportFailed)
        if !failing {
            log.write(.warn, [("msg", "trace export failed; spans are dropped until the collector answers"),
                              ("to", configuration.loggableURL), ("reason", problem)])
        }
        return true
    }

    /// One POST to the collector; nil when it accepted the body, else what went wrong.
    func post(_ body: [UInt8]) -> String? {
        var headers = configuration.headers
        headers["Content-Type"] = "application/json"
        let request = HTTPClientRequest(method: "POST", url: configuration.url, headers: headers, body: body, timeout: configuration.timeout)
        do {
            let response = try client.send(request)
            _ = try? response.readAll(limit: 1 << 16)
            return (200...299).contains(response.status) ? nil : "HTTP \(response.status)"
        } catch {
            return "\(error)"
        }
    }

    func pause() {
        _ = wake.wait(timeout: .now() + configuration.interval)
    }
}
