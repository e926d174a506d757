/// Finished spans waiting for export, at most `capacity` of them: memory stays bounded whatever the
/// collector does. Spans that do not fit are refused (the caller counts them as dropped).
struct SpanQueue {
    let capacity: Int
    private(set) var spans: [TraceSpan] = []

    init(capacity: Int) {
        self.capacity = capacity
    }

    var count: Int { spans.count }

    /// Adds what fits of `new`; returns how many did not.
    mutating func append(_ new: [TraceSpan]) -> Int {
        let room = max(0, capacity - spans.count)
        if new.count <= room {
            spans += new
            return 0
        }
        spans += new.prefix(room)
        return new.count - room
    }

    /// Removes and returns the oldest spans, at most `limit`.
    mutating func take(_ limit: Int) -> [TraceSpan] {
        guard spans.count > limit else {
            defer { spans = [] }
            return spans
        }
        let batch = Array(spans.prefix(limit))
        spans.removeFirst(limit)
        return batch
    }
}
