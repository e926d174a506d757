/// How many lines of one chatty source may be logged: at most `perSecond` in each one-second window; the
/// rest are counted so that one summary line per window can say how many were dropped (a process that
/// floods its stderr must not fill the disk).
public struct LogAllowance: Sendable {
    public let perSecond: Int
    private var windowStart: Double
    private var logged = 0
    private var dropped = 0

    public init(perSecond: Int, now: Double) {
        self.perSecond = perSecond
        windowStart = now
    }

    /// The number of lines dropped in a window that has ended (nil when none were), starting a new one.
    public mutating func endedWindow(now: Double) -> Int? {
        guard now - windowStart >= 1 else { return nil }
        let count = dropped
        windowStart = now
        logged = 0
        dropped = 0
        return count > 0 ? count : nil
    }

    /// Whether one more line may be logged in the current window; counts it as dropped when not.
    public mutating func admit() -> Bool {
        if logged < perSecond {
            logged += 1
            return true
        }
        dropped += 1
        return false
    }

    /// Lines dropped in the current window so far (for a final summary when the source ends).
    public var pendingDropped: Int { dropped }
}
