import Synchronization

/// A budget of bytes shared by everyone who holds bodies in memory, so that memory is bounded as a whole
/// and not only per request: a holder charges the budget before buffering and releases what it charged
/// once it no longer holds the bytes. Safe to share between threads.
public final class ByteBudget: Sendable {
    /// The most bytes that may be charged at once.
    public let limit: Int
    private let used = Atomic(0)

    public init(limit: Int) {
        precondition(limit >= 0, "a byte budget cannot be negative")
        self.limit = limit
    }

    /// Bytes charged and not yet released.
    public var usedBytes: Int { used.load(ordering: .relaxed) }

    /// Charges `count` bytes when they fit in what is left and returns true; otherwise charges nothing
    /// and returns false.
    public func tryCharge(_ count: Int) -> Bool {
        guard count > 0 else { return true }
        var current = used.load(ordering: .relaxed)
        while true {
            guard count <= limit - current else { return false }
            let (exchanged, original) = used.compareExchange(expected: current, desired: current + count, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    /// Gives back bytes charged earlier with `tryCharge`.
    public func release(_ count: Int) {
        guard count > 0 else { return }
        let before = used.subtract(count, ordering: .relaxed).oldValue
        precondition(before >= count, "released more bytes than were charged")
    }
}
