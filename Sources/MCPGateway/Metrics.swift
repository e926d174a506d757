import Foundation
import HTTP
import MCPAuth
import Synchronization

/// The gateway's counters and histograms, rendered as Prometheus text (exposition format 0.0.4) for
/// `GET /metrics`. Labels hold only bounded values: app and environment names the store knows (any other
/// name counts as "unknown"), decisions, HTTP statuses and fixed reason words; never an email or token id.
public final class Metrics: Sendable {
    /// A cumulative histogram over fixed bucket bounds, in seconds.
    struct Histogram: Sendable {
        static let bounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
        var counts = [UInt64](repeating: 0, count: Histogram.bounds.count)
        var sum = 0.0
        var count: UInt64 = 0

        mutating func observe(_ seconds: Double) {
            let v = max(0, seconds)
            if let i = Histogram.bounds.firstIndex(where: { v <= $0 }) { counts[i] += 1 }
            sum += v
            count += 1
        }
    }

    struct EnvironmentKey: Hashable, Sendable {
        let app: String, env: String

        static let unknown = EnvironmentKey(app: "unknown", env: "unknown")
    }

    struct SignInKey: Hashable, Sendable {
        let outcome: String, method: String
    }

    /// Why spans were dropped instead of exported.
    public enum SpanDrop: String, Sendable {
        /// The export queue was full (the collector is slower than the traffic, or down).
        case queueFull = "queue_full"
        /// The collector refused the batch, or did not answer in time.
        case exportFailed = "export_failed"
    }

    /// What one app/environment label pair counted.
    struct EnvironmentCounts: Sendable {
        let key: EnvironmentKey
        /// Whether the store knows the pair now (label values name only those; others count as "unknown").
        var known: Bool
        /// Requests by HTTP status and decision: `status * 2`, plus 1 for a denial.
        var requests: [Int: UInt64] = [:]
        var upstream: Histogram?
        var upstreamErrors: [String: UInt64] = [:]

        init(_ key: EnvironmentKey, known: Bool) {
            self.key = key
            self.known = known
        }

        mutating func observeUpstream(_ seconds: Double) {
            if upstream == nil { upstream = Histogram() }
            upstream!.observe(seconds)
        }
    }

    /// What is counted by app and environment (one lock for all of it, taken once per request). Each label
    /// pair has a slot, found with one lookup (none when the request names the pair the one before it did).
    struct State: Sendable {
        /// Slot 0 is "unknown"; a pair keeps its slot (and counts) when the store stops knowing it.
        var environments = [EnvironmentCounts(.unknown, known: true)]
        var slots: [EnvironmentKey: Int] = [.unknown: 0]
        /// The pair looked up last and its slot.
        var last = (app: "", env: "", slot: 0)
        var overhead = Histogram()
        var signIns: [SignInKey: UInt64] = [:]

        /// The slot of the label pair for `app`/`env`: their own when the store knows them, else "unknown"'s.
        mutating func slot(_ app: String?, _ env: String?) -> Int {
            guard let app, let env else { return 0 }
            if app == last.app, env == last.env { return last.slot }
            let found = slots[EnvironmentKey(app: app, env: env)].flatMap { environments[$0].known ? $0 : nil } ?? 0
            last = (app, env, found)
            return found
        }

        /// Only `pairs` are known from now on.
        mutating func setKnown(_ pairs: Set<EnvironmentKey>) {
            for i in environments.indices.dropFirst() { environments[i].known = pairs.contains(environments[i].key) }
            for key in pairs where slots[key] == nil {
                slots[key] = environments.count
                environments.append(EnvironmentCounts(key, known: true))
            }
            last = ("", "", 0)
        }
    }

    let state = Guarded(State())
    /// Counted on every request without the lock: fixed labels, one atomic add each.
    let auditCommits = AtomicHistogram()
    let auditFailures = Counter()
    let tokenChecks = (0...TokenCheck.outcomes.count).map { _ in Counter() }
    let rateLimitedCount = Counter()
    let auditWaiting = Atomic<Int>(0)
    let enabled = Atomic<Bool>(false)
    let spansExported = Atomic<Int>(0)
    let spansDroppedQueueFull = Atomic<Int>(0)
    let spansDroppedExportFailed = Atomic<Int>(0)

    public init() {}

    /// Turns counting on (it costs one atomic load per hook while off).
    public func enable() { enabled.store(true, ordering: .relaxed) }

    public var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    /// The app/environment pairs the store holds: only these names appear as label values.
    public func setKnownEnvironments(_ pairs: [(app: String, env: String)]) {
        let set = Set(pairs.map { EnvironmentKey(app: $0.app, env: $0.env) })
        state.withLock { $0.setKnown(set) }
    }

    /// Reads the known app/environment pairs from the store.
    public func refreshKnownEnvironments(_ store: Store) throws {
        let rows = try store.db.query("SELECT a.name AS app, e.name AS env FROM environments e JOIN apps a ON a.id = e.app_id")
        setKnownEnvironments(rows.map { ($0.string("app") ?? "", $0.string("env") ?? "") })
    }

    // MARK: Hooks

    /// One answered MCP request: its audit event, the status sent, and the seconds spent waiting on the upstream.
    public func request(_ event: AuditEvent, status: Int, upstreamSeconds: Double?) {
        guard isEnabled else { return }
        let outcome = status * 2 + (event.decision == .allow ? 0 : 1)
        let total = (event.durationMs ?? 0) / 1000
        state.withLock { s in
            let slot = s.slot(event.app, event.env)
            s.environments[slot].requests[outcome, default: 0] += 1
            s.overhead.observe(total - (upstreamSeconds ?? 0))
            if let upstreamSeconds { s.environments[slot].observeUpstream(upstreamSeconds) }
        }
    }

    /// Times an upstream call into `seconds`; answers of 5xx and errors thrown count as upstream errors
    /// (by status, or "refused" for an error the gateway answered itself).
    public func upstream<T>(app: String, env: String, seconds: inout Double?, status: (T) -> Int, _ call: () throws -> T) rethrows -> T {
        let started = ContinuousClock.now
        defer { seconds = Metrics.seconds(since: started) }
        do {
            let result = try call()
            if isEnabled, status(result) >= 500 { upstreamError(app, env, kind: String(status(result))) }
            return result
        } catch {
            let ownRefusal = (error as? GatewayRefusal).map { $0.response.status < 500 } ?? false
            if isEnabled, !ownRefusal { upstreamError(app, env, kind: "refused") }
            throw error
        }
    }

    func upstreamError(_ app: String, _ env: String, kind: String) {
        state.withLock { s in
            let slot = s.slot(app, env)
            s.environments[slot].upstreamErrors[kind, default: 0] += 1
        }
    }

    /// Times one audit commit as the request waits for it; the number waiting at once is the queue depth.
    public func auditCommit(_ write: () -> Bool) -> Bool {
        let started = auditCommitBegun()
        let ok = write()
        auditCommitEnded(started, ok: ok)
        return ok
    }

    /// An audit commit that no thread waits for has begun; hand the result to `auditCommitEnded` once it is over.
    public func auditCommitBegun() -> ContinuousClock.Instant? {
        guard isEnabled else { return nil }
        auditWaiting.add(1, ordering: .relaxed)
        return ContinuousClock.now
    }

    /// The audit commit begun at `started` ended `at` (nothing to do when metrics were off then).
    public func auditCommitEnded(_ started: ContinuousClock.Instant?, ok: Bool, at ended: ContinuousClock.Instant = .now) {
        guard let started else { return }
        auditWaiting.subtract(1, ordering: .relaxed)
        auditCommits.observe(Metrics.seconds(since: started, until: ended))
        if !ok { auditFailures.add() }
    }

    /// One credential check: "valid" or the failure's fixed reason.
    public func tokenCheck(_ result: Result<Principal, VerificationFailure>) {
        guard isEnabled else { return }
        switch result {
        case .success: tokenChecks[0].add()
        case .failure(let f): tokenChecks[1 + TokenCheck.index(f)].add()
        }
    }

    /// One sign-in attempt: outcome "success", "failure" or "throttled"; method "password" or "sso".
    public func signIn(_ outcome: String, method: String) {
        guard isEnabled else { return }
        state.withLock { $0.signIns[SignInKey(outcome: outcome, method: method), default: 0] += 1 }
    }

    /// A request the HTTP layer refused before routing (malformed, too large, too slow): counted as a
    /// denied request when it was addressed to an MCP endpoint, or had no readable request line at all.
    public func rejected(_ rejection: HTTPRejection) {
        guard isEnabled else { return }
        var endpoint: (app: String, env: String)?
        if let path = rejection.path {
            guard let found = Gateway.endpoint(path) else { return }
            endpoint = found
        }
        state.withLock { s in
            let slot = s.slot(endpoint?.app, endpoint?.env)
            s.environments[slot].requests[rejection.status * 2 + 1, default: 0] += 1
        }
    }

    /// Spans the collector acknowledged.
    func spansExported(_ n: Int) { spansExported.add(n, ordering: .relaxed) }

    /// Spans dropped instead of exported.
    func spansDropped(_ n: Int, reason: SpanDrop) {
        switch reason {
        case .queueFull: spansDroppedQueueFull.add(n, ordering: .relaxed)
        case .exportFailed: spansDroppedExportFailed.add(n, ordering: .relaxed)
        }
    }

    /// One MCP request refused with 429 because its address sent too many without a valid credential.
    public func rateLimited() {
        guard isEnabled else { return }
        rateLimitedCount.add()
    }

    static func seconds(since start: ContinuousClock.Instant, until end: ContinuousClock.Instant = .now) -> Double {
        let d = end - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    // MARK: Rendering

    /// The Prometheus text exposition (format 0.0.4) of every metric.
    public func render() -> String {
        let s = state.withLock { $0 }
        let environments = s.environments.sorted { ($0.key.app, $0.key.env) < ($1.key.app, $1.key.env) }
        var out = MetricsText()
        out.family("mcpctl_requests_total", "counter", "MCP requests answered, by app, environment, decision and HTTP status (those the HTTP layer refused too: 400, 408, 413, 431).")
        for e in environments {
            for (outcome, v) in e.requests.sorted(by: { ($0.key & 1, $0.key) < ($1.key & 1, $1.key) }) {
                let labels = [("app", e.key.app), ("env", e.key.env), ("decision", outcome & 1 == 0 ? "allow" : "deny"), ("status", String(outcome / 2))]
                out.sample("mcpctl_requests_total", labels, Double(v))
            }
        }
        out.family("mcpctl_gateway_overhead_seconds", "histogram", "Time the gateway spent on a request outside the upstream call (authentication, policy, audit).")
        out.histogram("mcpctl_gateway_overhead_seconds", [], s.overhead)
        out.family("mcpctl_upstream_duration_seconds", "histogram", "Time spent waiting for the upstream MCP server's answer, by app and environment.")
        for e in environments {
            if let h = e.upstream { out.histogram("mcpctl_upstream_duration_seconds", [("app", e.key.app), ("env", e.key.env)], h) }
        }
        out.family("mcpctl_upstream_errors_total", "counter", "Upstream calls that failed: a 5xx status, or \"refused\" (unreachable, timed out, invalid answer).")
        for e in environments {
            for (kind, v) in e.upstreamErrors.sorted(by: { $0.key < $1.key }) {
                out.sample("mcpctl_upstream_errors_total", [("app", e.key.app), ("env", e.key.env), ("kind", kind)], Double(v))
            }
        }
        out.family("mcpctl_audit_queue_depth", "gauge", "Requests waiting for their audit row to be committed.")
        out.sample("mcpctl_audit_queue_depth", [], Double(auditWaiting.load(ordering: .relaxed)))
        out.family("mcpctl_audit_commit_seconds", "histogram", "Time from handing a request's audit row to the writer until it was committed.")
        out.histogram("mcpctl_audit_commit_seconds", [], auditCommits.snapshot())
        out.family("mcpctl_audit_write_failures_total", "counter", "Audit rows that could not be written (their requests were refused with 503).")
        out.sample("mcpctl_audit_write_failures_total", [], Double(auditFailures.value))
        out.family("mcpctl_token_checks_total", "counter", "Credentials checked on MCP requests, by result.")
        let checks = zip(["valid"] + TokenCheck.outcomes, tokenChecks.map(\.value)).filter { $0.1 > 0 }
        for (k, v) in checks.sorted(by: { $0.0 < $1.0 }) { out.sample("mcpctl_token_checks_total", [("result", k)], Double(v)) }
        out.family("mcpctl_sign_ins_total", "counter", "Sign-in attempts (on /login, in the authorization flow and by single sign-on), by outcome (success, failure, throttled) and method (password, sso).")
        for (k, v) in s.signIns.sorted(by: { "\($0.key)" < "\($1.key)" }) {
            out.sample("mcpctl_sign_ins_total", [("outcome", k.outcome), ("method", k.method)], Double(v))
        }
        out.family("mcpctl_rate_limited_total", "counter", "MCP requests refused with 429: too many from one address without a valid credential.")
        out.sample("mcpctl_rate_limited_total", [], Double(rateLimitedCount.value))
        out.family("mcpctl_trace_spans_exported_total", "counter", "Spans the OpenTelemetry collector accepted (serve --otlp-endpoint).")
        out.sample("mcpctl_trace_spans_exported_total", [], Double(spansExported.load(ordering: .relaxed)))
        out.family("mcpctl_trace_spans_dropped_total", "counter", "Spans dropped instead of exported: the queue was full (queue_full) or the collector refused or did not answer (export_failed).")
        out.sample("mcpctl_trace_spans_dropped_total", [("reason", SpanDrop.queueFull.rawValue)], Double(spansDroppedQueueFull.load(ordering: .relaxed)))
        out.sample("mcpctl_trace_spans_dropped_total", [("reason", SpanDrop.exportFailed.rawValue)], Double(spansDroppedExportFailed.load(ordering: .relaxed)))
        return out.text
    }
}

/// The outcomes of a credential check other than "valid", as label values.
enum TokenCheck {
    static let outcomes = ["malformed", "unknown", "revoked", "expired", "user_disabled", "email_mismatch", "client_blocked", "wrong_kind"]

    /// The failure's place in `outcomes`.
    static func index(_ f: VerificationFailure) -> Int {
        switch f {
        case .malformed: 0
        case .unknown: 1
        case .revoked: 2
        case .expired: 3
        case .userDisabled: 4
        case .emailMismatch: 5
        case .clientBlocked: 6
        case .wrongKind: 7
        }
    }
}

/// A counter many threads add to without a lock.
final class Counter: Sendable {
    private let count = Atomic<UInt64>(0)

    func add(_ n: UInt64 = 1) { count.wrappingAdd(n, ordering: .relaxed) }

    var value: UInt64 { count.load(ordering: .relaxed) }
}

/// A histogram over `Metrics.Histogram.bounds` observed without a lock: one atomic add per bucket hit and one
/// for the sum (in nanoseconds). Its count is the sum of its buckets (one past the last bound included), so a
/// snapshot never shows a bucket above the count.
final class AtomicHistogram: Sendable {
    private let buckets = (0...Metrics.Histogram.bounds.count).map { _ in Counter() }
    private let nanoseconds = Counter()

    func observe(_ seconds: Double) {
        let v = max(0, seconds)
        buckets[Metrics.Histogram.bounds.firstIndex(where: { v <= $0 }) ?? Metrics.Histogram.bounds.count].add()
        nanoseconds.add(UInt64(min(v, 1e9) * 1e9))
    }

    func snapshot() -> Metrics.Histogram {
        var h = Metrics.Histogram()
        let counts = buckets.map(\.value)
        h.counts = Array(counts.dropLast())
        h.count = counts.reduce(0, +)
        h.sum = Double(nanoseconds.value) / 1e9
        return h
    }
}

/// Builds Prometheus text exposition lines (format 0.0.4).
struct MetricsText {
    var text = ""

    mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help.replacingOccurrences(of: "\\", with: "\\\\"))\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
        text += name
        if !labels.isEmpty { text += "{" + labels.map { "\($0.0)=\"\(MetricsText.escape($0.1))\"" }.joined(separator: ",") + "}" }
        text += " " + MetricsText.number(value) + "\n"
    }

    mutating func histogram(_ name: String, _ labels: [(String, String)], _ h: Metrics.Histogram) {
        var cumulative: UInt64 = 0
        for (bound, n) in zip(Metrics.Histogram.bounds, h.counts) {
            cumulative += n
            sample(name + "_bucket", labels + [("le", MetricsText.number(bound))], Double(cumulative))
        }
        sample(name + "_bucket", labels + [("le", "+Inf")], Double(h.count))
        sample(name + "_sum", labels, h.sum)
        sample(name + "_count", labels, Double(h.count))
    }

    /// Label values escape backslash, double quote and line feed.
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}
