import Foundation
import HTTP
import MCPAuth
import Synchronization

/// Ships the audit log to a SIEM: POSTs JSON arrays of audit events (the `audit list --json` shape), oldest
/// first, and records in the store the last row the receiver acknowledged with a 2xx. After a restart or a
/// crash it resumes after that row, so nothing is lost and only the batch in flight can arrive twice.
/// It runs on its own thread with its own store connection: a slow or absent receiver never holds up a request.
public final class AuditForwarder: Sendable {
    public struct Configuration: Sendable {
        public var url: URL
        /// Sent with every POST; values are credentials and are never logged.
        public var headers: HTTPHeaders
        public var batchSize = 500
        public var firstRetry: Double = 0.5
        public var maxRetry: Double = 30
        public var timeout: Double = 15

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
            return c?.string ?? "(receiver)"
        }
    }

    /// Why a batch was not acknowledged.
    struct NotAcknowledged: Error {
        let reason: String
    }

    let storePath: String
    let configuration: Configuration
    let log: RequestLog
    let client = HTTPClient(maxIdleConnectionsPerHost: 2)
    let stopped = Atomic<Bool>(false)
    let wake = DispatchSemaphore(value: 0)
    let done = DispatchSemaphore(value: 0)

    public init(storePath: String, configuration: Configuration, log: RequestLog) {
        self.storePath = storePath
        self.configuration = configuration
        self.log = log
    }

    public func start() {
        let t = Thread { [self] in
            run()
            done.signal()
        }
        t.name = "audit-forwarder"
        t.start()
    }

    /// Stops after the batch in flight (its position is saved only if it was acknowledged).
    public func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        wake.signal()
        _ = done.wait(timeout: .now() + configuration.timeout + 1)
    }

    func run() {
        var store: Store?
        var retry = configuration.firstRetry
        var failing = false
        log.write(.info, [("msg", "audit forwarding"), ("to", configuration.loggableURL),
                          ("headers", configuration.headers.map(\.name).joined(separator: ","))])
        while !stopped.load(ordering: .relaxed) {
            do {
                let s = try store ?? Store(path: storePath, create: false)
                store = s
                guard try forwardOneBatch(s) else { pause(0.25); continue }
                if failing { log.info("audit forwarding to \(configuration.loggableURL) resumed") }
                failing = false
                retry = configuration.firstRetry
            } catch {
                let reason = (error as? NotAcknowledged)?.reason ?? "store: \(error)"
                log.write(.warn, [("msg", "audit forwarding failed"), ("to", configuration.loggableURL), ("reason", reason),
                                  ("retry_in_s", String(retry))])
                failing = true
                pause(retry)
                retry = min(retry * 2, configuration.maxRetry)
            }
        }
    }

    /// Sends the rows after the saved position; true when a batch was acknowledged, false when there was none.
    func forwardOneBatch(_ store: Store) throws -> Bool {
        let position = try AuditForwardCursor.position(store)
        let batch = try AuditForwardCursor.rows(after: position, limit: configuration.batchSize, store: store)
        guard let last = batch.last else { return false }
        try post(JSON.array(batch.map(\.json)).bytes)
        try AuditForwardCursor.acknowledge(last.seq, store: store)
        return true
    }

    func post(_ body: [UInt8]) throws {
        var headers = configuration.headers
        headers["Content-Type"] = "application/json"
        let request = HTTPClientRequest(method: "POST", url: configuration.url, headers: headers, body: body, timeout: configuration.timeout)
        let status: Int
        do {
            let response = try client.send(request)
            _ = try? response.readAll(limit: 1 << 20)
            status = response.status
        } catch {
            throw NotAcknowledged(reason: "\(error)")
        }
        guard (200...299).contains(status) else { throw NotAcknowledged(reason: "HTTP \(status)") }
    }

    func pause(_ seconds: Double) {
        _ = wake.wait(timeout: .now() + seconds)
    }
}
