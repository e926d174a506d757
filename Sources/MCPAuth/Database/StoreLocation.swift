import Foundation

/// Where a store lives, as given by `--db` / `MCPCTL_DB`: a SQLite file path, or a PostgreSQL URL
/// (`postgresql://` or `postgres://`, libpq's own syntax, so TLS settings, `PGPASSWORD` and `~/.pgpass`
/// work as for psql). Any other `scheme://` is refused rather than taken for a file name.
public struct StoreLocation: Sendable, Equatable {
    public let value: String

    public init(_ value: String) { self.value = value }

    public var isPostgres: Bool { value.hasPrefix("postgresql://") || value.hasPrefix("postgres://") }

    /// A `scheme://` that is neither a PostgreSQL URL nor a path.
    public var unknownScheme: String? {
        guard !isPostgres, let r = value.range(of: "://") else { return nil }
        let scheme = value[..<r.lowerBound]
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }) else { return nil }
        return String(scheme)
    }

    /// The location with any password in the URL (user info or `password=` parameter) replaced by `***`:
    /// the only form that reaches messages and logs.
    public var display: String {
        guard isPostgres else { return value }
        var shown = value
        for secret in secrets { shown = shown.replacingOccurrences(of: secret, with: "***") }
        return shown
    }

    /// The password as it appears in the URL, raw and percent-decoded, to scrub from libpq's messages.
    var secrets: [String] {
        guard isPostgres, let schemeEnd = value.range(of: "://") else { return [] }
        var found: [String] = []
        let rest = value[schemeEnd.upperBound...]
        if let at = rest.firstIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") {
            found.append(String(rest[rest.index(after: colon)..<at]))
        }
        if let q = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: q)...].split(separator: "&") where pair.lowercased().hasPrefix("password=") {
                found.append(String(pair.dropFirst("password=".count)))
            }
        }
        found = found.filter { !$0.isEmpty }
        return Array(Set(found + found.compactMap { $0.removingPercentEncoding })).filter { !$0.isEmpty }.sorted { $0.count > $1.count }
    }

    /// `text` with every password of this location replaced by `***`.
    public func scrub(_ text: String) -> String {
        secrets.reduce(text) { $0.replacingOccurrences(of: $1, with: "***") }
    }
}
