import Glibc
import Synchronization

/// Finished requests waiting for export, holding at most `capacity` spans: memory stays bounded whatever
/// the collector does. A request whose spans do not fit is refused (the caller counts them as dropped).
/// Requests finish in bursts (every request of an audit group commit at once, a streamed one on its own
/// thread meanwhile), so the queue is split in shards, each behind its own lock: a request takes the first
/// shard it can lock without waiting, starting from one chosen by its thread, and the count of spans held is
/// one atomic number.
final class SpanQueue: Sendable {
    let capacity: Int
    private let held = Atomic<Int>(0)
    private let shards: [Shard]
    /// Where the exporter starts taking next: shards take turns being first.
    private let nextShard = Atomic<Int>(0)

    init(capacity: Int, shards: Int = 8) {
        self.capacity = capacity
        self.shards = (0..<max(1, shards)).map { _ in Shard() }
    }

    /// Spans held now.
    var count: Int { held.load(ordering: .relaxed) }

    /// Adds `request` if its spans fit; returns how many spans were dropped (0 or all of them) and how
    /// many are held once it is in.
    func append(_ request: TracedRequest) -> (dropped: Int, held: Int) {
        let n = request.spanCount
        let after = held.wrappingAdd(n, ordering: .relaxed).newValue
        guard after <= capacity else {
            held.wrappingSubtract(n, ordering: .relaxed)
            return (n, after - n)
        }
        let first = Int(truncatingIfNeeded: SpanClock.mix(UInt64(pthread_self())) % UInt64(shards.count))
        for k in 0..<shards.count where shards[(first + k) % shards.count].tryAppend(request) {
            return (0, after)
        }
        shards[first].append(request)
        return (0, after)
    }

    /// Moves waiting requests, with at most `limit` spans (at least one request), into `batch`.
    func take(spans limit: Int, into batch: inout [TracedRequest]) {
        let start = nextShard.wrappingAdd(1, ordering: .relaxed).newValue
        var spans = 0
        for k in 0..<shards.count where batch.isEmpty || spans < limit {
            spans += shards[(start + k) % shards.count].take(spans: limit - spans, into: &batch)
        }
        held.wrappingSubtract(spans, ordering: .relaxed)
    }

    /// One shard: requests behind a mutex (a plain pthread mutex: it sleeps at once, and a request that
    /// finds it held goes on to the next shard instead).
    private final class Shard: @unchecked Sendable {
        private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        private var requests: [TracedRequest] = []  // only touched with `mutex` held

        init() {
            mutex.initialize(to: pthread_mutex_t())
            pthread_mutex_init(mutex, nil)
        }

        deinit {
            pthread_mutex_destroy(mutex)
            mutex.deallocate()
        }

        func tryAppend(_ request: TracedRequest) -> Bool {
            guard pthread_mutex_trylock(mutex) == 0 else { return false }
            requests.append(request)
            pthread_mutex_unlock(mutex)
            return true
        }

        func append(_ request: TracedRequest) {
            pthread_mutex_lock(mutex)
            requests.append(request)
            pthread_mutex_unlock(mutex)
        }

        /// Moves the oldest requests with at most `limit` spans (at least one if `batch` is empty) into
        /// `batch`; returns their spans.
        func take(spans limit: Int, into batch: inout [TracedRequest]) -> Int {
            pthread_mutex_lock(mutex)
            defer { pthread_mutex_unlock(mutex) }
            var taken = 0, spans = 0
            while taken < requests.count, (batch.isEmpty && taken == 0) || spans + requests[taken].spanCount <= limit {
                spans += requests[taken].spanCount
                taken += 1
            }
            guard taken > 0 else { return 0 }
            if taken == requests.count, batch.isEmpty {
                // All of them: the storage changes hands instead of each request being copied.
                swap(&batch, &requests)
                return spans
            }
            batch.append(contentsOf: requests[..<taken])
            if taken == requests.count {
                requests.removeAll(keepingCapacity: true)
            } else {
                requests.removeFirst(taken)
            }
            return spans
        }
    }
}
