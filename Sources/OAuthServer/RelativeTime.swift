import MCPAuth

/// Times as people read them on a page: "3 days ago", "in 2 hours", with the exact UTC time on hover.
enum RelativeTime {
    /// A phrase for `millis` as seen at `now`.
    static func phrase(_ millis: Int64, now: Int64) -> String {
        let delta = (now - millis) / 1000
        let future = delta < 0
        let seconds = abs(delta)
        if seconds < 45 { return future ? "in a moment" : "just now" }
        let units: [(Int64, String)] = [(365 * 86_400, "year"), (30 * 86_400, "month"), (7 * 86_400, "week"),
                                        (86_400, "day"), (3600, "hour"), (60, "minute")]
        let (size, name) = units.first { seconds >= $0.0 } ?? (60, "minute")
        let n = max(1, (seconds + size / 2) / size)
        let amount = "\(n) \(name)\(n == 1 ? "" : "s")"
        return future ? "in \(amount)" : "\(amount) ago"
    }

    /// A `<time>` element with the phrase, its machine-readable time and the exact time as its title;
    /// `missing` when there is no time.
    static func html(_ millis: Int64?, now: Int64 = Clock.nowMillis(), missing: String = "never") -> String {
        guard let millis else { return "<span class=\"muted\">\(Pages.escape(missing))</span>" }
        let exact = Clock.rfc3339(millis)
        return "<time datetime=\"\(exact)\" title=\"\(exact)\">\(Pages.escape(phrase(millis, now: now)))</time>"
    }
}
