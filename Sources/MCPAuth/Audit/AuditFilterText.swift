import Foundation

/// Audit filters written as text, as `audit list` options and the admin search form give them.
extension AuditFilter {

    /// A time filter: a duration back from now (`1h`, `7d`) or an RFC 3339 time.
    public static func time(_ text: String) -> Int64? {
        if let s = DurationText.seconds(text) { return Clock.nowMillis() - s * 1000 }
        return Clock.parseRFC3339(text)
    }

    /// Builds a filter from named values (empty ones ignored): since, until, source, email, client, token,
    /// app, env, tool, action, decision. Throws `invalid` naming the first bad value.
    public init(text values: [String: String]) throws {
        self.init()
        func value(_ name: String) -> String? {
            values[name].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0.trimmingCharacters(in: .whitespaces) }
        }
        for name in ["since", "until"] {
            guard let text = value(name) else { continue }
            guard let t = AuditFilter.time(text) else {
                throw DomainError.invalid("invalid time '\(text)' for \(name): use a duration (1h, 7d) or an RFC 3339 time")
            }
            if name == "since" { since = t } else { until = t }
        }
        if let s = value("source") {
            guard let word = AuditSource(rawValue: s) else { throw DomainError.invalid("invalid source '\(s)': use \(AuditSource.names)") }
            source = word
        }
        if let d = value("decision") {
            guard let word = AuditDecision(rawValue: d) else { throw DomainError.invalid("invalid decision '\(d)': use \(AuditDecision.names)") }
            decision = word
        }
        email = value("email")
        clientID = value("client")
        tokenID = value("token")
        app = value("app")
        env = value("env")
        tool = value("tool")
        action = value("action")
    }
}
