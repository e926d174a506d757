import Synchronization

/// How many workers may wait at once for a kept-alive connection's next request (the follow-up window of
/// `HTTPConnection`). Waiting spares a busy connection a trip through the event loop, but each waiting
/// worker is a thread: past this many, a connection goes back to the loop at once, so hundreds of busy
/// connections are served by about as many threads as there are requests in progress, not one each.
final class FollowUpSlots: Sendable {
    static let defaultLimit = 32

    let limit: Int
    private let taken = Atomic(0)

    init(limit: Int = FollowUpSlots.defaultLimit) {
        self.limit = limit
    }

    /// Takes a slot; false when all are taken.
    func take() -> Bool {
        let now = taken.wrappingAdd(1, ordering: .relaxed).newValue
        guard now <= limit else {
            taken.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func release() {
        taken.wrappingSubtract(1, ordering: .relaxed)
    }
}
