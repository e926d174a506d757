/// Finished requests waiting for export, holding at most `capacity` spans: memory stays bounded whatever
/// the collector does. A request whose spans do not fit is refused (the caller counts them as dropped).
struct SpanQueue {
    let capacity: Int
    private(set) var requests: [TracedRequest] = []
    /// Spans held now.
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Adds `request` if its spans fit; returns how many spans were dropped (0 or all of them).
    mutating func append(_ request: TracedRequest) -> Int {
        let n = request.spanCount
        guard count + n <= capacity else { return n }
        requests.append(request)
        count += n
        return 0
    }

    /// Moves the oldest requests, with at most `limit` spans (at least one request), into `batch` (which
    /// the caller emptied). When all of them go, the two arrays' storage is swapped: neither is reallocated.
    mutating func take(spans limit: Int, into batch: inout [TracedRequest]) {
        var taken = 0, spans = 0
        while taken < requests.count, taken == 0 || spans + requests[taken].spanCount <= limit {
            spans += requests[taken].spanCount
            taken += 1
        }
        count -= spans
        if taken == requests.count {
            swap(&requests, &batch)
        } else {
            batch.append(contentsOf: requests[..<taken])
            requests.removeFirst(taken)
        }
    }
}
