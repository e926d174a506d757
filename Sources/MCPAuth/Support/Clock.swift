import Foundation

/// Wall-clock time as Unix milliseconds, the unit every timestamp in the store uses.
public enum Clock {
    public static func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    /// RFC 3339 UTC, second precision ("2026-11-22T00:30:00Z").
    public static func rfc3339(_ millis: Int64) -> String { format(millis, fraction: false) }

    /// RFC 3339 UTC with milliseconds ("2026-11-22T00:30:00.123Z").
    public static func rfc3339Millis(_ millis: Int64) -> String { format(millis, fraction: true) }

    private static func format(_ millis: Int64, fraction: Bool) -> String {
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ width: Int = 2) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        var out = "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1))-\(pad(parts.tm_mday))T"
        out += "\(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec))"
        if fraction { out += "." + pad(Int32(millis % 1000), 3) }
        return out + "Z"
    }

    /// Parses an RFC 3339 date-time ("2026-11-22T00:30:00Z", "…T00:30:00.5+01:00"); nil if malformed.
    public static func parseRFC3339(_ text: String) -> Int64? {
        let s = Array(text.utf8)
        func num(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= s.count else { return nil }
            var v = 0
            for i in from..<(from + count) {
                guard (0x30...0x39).contains(s[i]) else { return nil }
                v = v * 10 + Int(s[i] - 0x30)
            }
            return v
        }
        guard s.count >= 20, let year = num(0, 4), s[4] == 0x2D, let month = num(5, 2), s[7] == 0x2D,
              let day = num(8, 2), s[10] == UInt8(ascii: "T") || s[10] == UInt8(ascii: "t") || s[10] == 0x20,
              let hour = num(11, 2), s[13] == 0x3A, let minute = num(14, 2), s[16] == 0x3A, let second = num(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var millis = 0
        if i < s.count, s[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < s.count, (0x30...0x39).contains(s[i]) {
                if digits < 3 { millis = millis * 10 + Int(s[i] - 0x30) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { millis *= 10 }
        }
        guard i < s.count else { return nil }
        var offset = 0
        if s[i] == UInt8(ascii: "Z") || s[i] == UInt8(ascii: "z") {
            i += 1
        } else if s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") {
            guard let oh = num(i + 1, 2), i + 3 < s.count, s[i + 3] == 0x3A, let om = num(i + 4, 2) else { return nil }
            offset = (oh * 60 + om) * 60 * (s[i] == UInt8(ascii: "+") ? 1 : -1)
            i += 6
        } else { return nil }
        guard i == s.count else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let epoch = Int64(timegm(&parts)) - Int64(offset)
        return epoch * 1000 + Int64(millis)
    }
}

/// A span of time written the way operators write it: "90d", "24h", "30m", "45s", "2w", or combined ("1h30m").
public enum DurationText {
    /// Parses to seconds; nil for anything malformed, zero, negative or absurdly large.
    public static func seconds(_ text: String) -> Int64? {
        var total: Int64 = 0
        var number: Int64? = nil
        var sawUnit = false
        for ch in text.lowercased() {
            if let d = ch.wholeNumberValue, ch.isASCII {
                let (m, o1) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(d))
                guard !o1, !o2 else { return nil }
                number = a
                continue
            }
            guard let n = number else { return nil }
            let unit: Int64
            switch ch {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86_400
            case "w": unit = 604_800
            case "y": unit = 31_536_000
            default: return nil
            }
            let (p, o) = n.multipliedReportingOverflow(by: unit)
            guard !o else { return nil }
            total += p
            number = nil
            sawUnit = true
        }
        guard number == nil, sawUnit, total > 0, total <= 100 * 31_536_000 else { return nil }
        return total
    }

    /// Renders seconds compactly ("90d", "1h", "30m").
    public static func format(_ seconds: Int64) -> String {
        for (unit, name) in [(Int64(86_400), "d"), (3600, "h"), (60, "m")] where seconds % unit == 0 {
            return "\(seconds / unit)\(name)"
        }
        return "\(seconds)s"
    }
}
