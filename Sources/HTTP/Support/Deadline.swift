#if canImport(Glibc)
import Glibc
#endif

/// A point on the monotonic clock by which something must have happened; it turns into poll(2) timeouts.
struct Deadline: Sendable, Comparable {
    let nanoseconds: UInt64

    static var now: Deadline {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Deadline(nanoseconds: UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec))
    }

    static func after(seconds: Double) -> Deadline {
        let now = Deadline.now
        guard seconds.isFinite, seconds > 0 else { return now }
        let delta = min(seconds, 10 * 365 * 86_400) * 1_000_000_000
        return Deadline(nanoseconds: now.nanoseconds + UInt64(delta))
    }

    /// Milliseconds left, rounded up and clamped to what poll(2) accepts; 0 once passed.
    var remainingMilliseconds: Int32 {
        let now = Deadline.now.nanoseconds
        guard nanoseconds > now else { return 0 }
        return Int32(min((nanoseconds - now + 999_999) / 1_000_000, UInt64(Int32.max)))
    }

    var hasPassed: Bool { Deadline.now.nanoseconds >= nanoseconds }

    static func < (lhs: Deadline, rhs: Deadline) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}

extension Deadline {
    /// This deadline moved `seconds` later.
    func adding(seconds: Double) -> Deadline {
        guard seconds.isFinite, seconds > 0 else { return self }
        return Deadline(nanoseconds: nanoseconds + UInt64(min(seconds, 10 * 365 * 86_400) * 1_000_000_000))
    }
}
