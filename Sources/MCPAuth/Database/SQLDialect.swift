import Foundation

/// The SQL dialect a store speaks. The domain code writes SQLite's dialect once; a PostgreSQL store runs it
/// through `PostgresDialect`, which rewrites the few things PostgreSQL spells differently, each a named
/// difference below. Nothing outside this file and the two connections knows which dialect is in use.
public enum SQLDialect: String, Sendable {
    case sqlite
    case postgres

    /// A value for a column whose values have no one type (SQLite keeps each value's storage class:
    /// `settings.value` holds a text URL, an integer position or a binary key). PostgreSQL columns have one
    /// type, so there the value is stored as BYTEA behind a one-byte tag naming its class.
    public func storeDynamic(_ value: SQLValue) -> SQLValue {
        guard self == .postgres else { return value }
        switch value {
        case .null: return .null
        case .integer(let v): return .blob([UInt8(ascii: "i")] + Array(String(v).utf8))
        case .real(let v): return .blob([UInt8(ascii: "r")] + Array("\(v)".utf8))
        case .text(let v): return .blob([UInt8(ascii: "t")] + Array(v.utf8))
        case .blob(let v): return .blob([UInt8(ascii: "b")] + v)
        }
    }

    /// The value `storeDynamic` stored; a PostgreSQL value without a known tag is returned as bytes.
    public func loadDynamic(_ value: SQLValue) -> SQLValue {
        guard self == .postgres, case .blob(let bytes) = value, let tag = bytes.first else { return value }
        let rest = Array(bytes.dropFirst())
        let text = String(decoding: rest, as: UTF8.self)
        switch tag {
        case UInt8(ascii: "i"): return Int64(text).map(SQLValue.integer) ?? value
        case UInt8(ascii: "r"): return Double(text).map(SQLValue.real) ?? value
        case UInt8(ascii: "t"): return .text(text)
        case UInt8(ascii: "b"): return .blob(rest)
        default: return value
        }
    }
}

/// SQLite's dialect rewritten for PostgreSQL. Statements are rewritten once per distinct SQL text (the
/// connection caches the result); every rewrite is named after the difference it bridges.
public enum PostgresDialect {
    /// A rewrite of one statement or script, named after the difference it bridges.
    struct Rewrite: Sendable {
        let name: String
        let apply: @Sendable (String) throws -> String
    }

    /// What PostgreSQL cannot run as written.
    public struct Unsupported: Error { public let what: String }

    /// For every statement the domain code runs.
    static let statementRewrites: [Rewrite] = [
        // SQLite resolves a uniqueness conflict by skipping the row; PostgreSQL says so at the end.
        Rewrite(name: "insert-or-ignore") { sql in
            guard let range = sql.range(of: "INSERT OR IGNORE INTO") else { return sql }
            return sql.replacingCharacters(in: range, with: "INSERT INTO") + " ON CONFLICT DO NOTHING"
        },
        // Needs the conflict target, which only the statement's author knows: write ON CONFLICT (…) DO UPDATE.
        Rewrite(name: "insert-or-replace") { sql in
            if sql.contains("INSERT OR REPLACE") { throw Unsupported(what: "INSERT OR REPLACE (write INSERT … ON CONFLICT (key) DO UPDATE)") }
            return sql
        },
        // SQLite's max()/min() with two or more arguments pick among them; PostgreSQL spells that greatest()/least().
        Rewrite(name: "scalar-max-min") { scalarMaxMin($0) },
        Rewrite(name: "group-concat") { $0.replacingOccurrences(of: "group_concat(", with: "string_agg(") },
        Rewrite(name: "unix-now") {
            $0.replacingOccurrences(of: "CAST(strftime('%s','now') AS INTEGER)", with: "CAST(extract(epoch FROM now()) AS BIGINT)")
        },
        // SQLite's durability setting is per connection; PostgreSQL's nearest is synchronous_commit, per session.
        Rewrite(name: "pragma") { sql in
            let trimmed = sql.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("PRAGMA ") else { return sql }
            switch trimmed {
            case "PRAGMA synchronous=FULL": return "SET synchronous_commit = on"
            case "PRAGMA synchronous=NORMAL": return "SET synchronous_commit = off"
            case "PRAGMA foreign_keys=ON": return "SELECT 1"
            default: throw Unsupported(what: "\(trimmed.prefix(40)) (a SQLite file setting)")
            }
        },
        Rewrite(name: "placeholders") { numberPlaceholders($0) },
    ]

    /// For schema scripts (the migrations), before the statement rewrites.
    static let schemaRewrites: [Rewrite] = [
        // SQLite triggers hold their statements inline; PostgreSQL's call a function.
        Rewrite(name: "trigger-functions") { sql in
            replace(#"CREATE TRIGGER (\w+) AFTER (INSERT|DELETE|UPDATE(?: OF [\w, ]+?)?) ON (\w+) BEGIN (.*?); END;"#, in: sql) { g in
                "CREATE FUNCTION \(g[1])_fn() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN \(g[4]); RETURN NULL; END $fn$; " +
                    "CREATE TRIGGER \(g[1]) AFTER \(g[2]) ON \(g[3]) FOR EACH ROW EXECUTE FUNCTION \(g[1])_fn();"
            }
        },
        // Every SQLite table without an INTEGER PRIMARY KEY has an implicit `rowid`; PostgreSQL gets one spelled out.
        Rewrite(name: "implicit-rowid") { sql in
            replace(#"CREATE TABLE (IF NOT EXISTS )?(\w+) \((.*?)\)(\s+WITHOUT ROWID)?(\s*;|\s*\z)"#, in: sql) { g in
                let body = g[3]
                let needsRowID = !body.contains("INTEGER PRIMARY KEY") && g[4].isEmpty
                let rowid = needsRowID ? "rowid BIGINT GENERATED BY DEFAULT AS IDENTITY, " : ""
                return "CREATE TABLE \(g[1])\(g[2]) (\(rowid)\(body))\(g[5])"
            }
        },
        // SQLite's INTEGER PRIMARY KEY is the rowid, numbered on insert; PostgreSQL's is an identity column.
        Rewrite(name: "integer-primary-key") {
            $0.replacingOccurrences(of: "INTEGER PRIMARY KEY", with: "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
        },
        Rewrite(name: "column-types") { sql in
            let integer = replace(#"\bINTEGER\b"#, in: sql) { _ in "BIGINT" }
            let blob = replace(#"\bBLOB\b"#, in: integer) { _ in "BYTEA" }
            return replace(#"\bREAL\b"#, in: blob) { _ in "DOUBLE PRECISION" }
        },
        // ASCII case folding for names; PostgreSQL needs a case-insensitive collation (ICU, no extension).
        Rewrite(name: "nocase-collation") { sql in
            guard sql.contains("COLLATE NOCASE") else { return sql }
            return "CREATE COLLATION IF NOT EXISTS mcpctl_nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false); " +
                sql.replacingOccurrences(of: "COLLATE NOCASE", with: "COLLATE mcpctl_nocase")
        },
        // SQLite's random() is a 64-bit integer; PostgreSQL's is a fraction in [0, 1).
        Rewrite(name: "random-integer") {
            $0.replacingOccurrences(of: "random()", with: "CAST(floor((random() - 0.5) * 9.2e18) AS BIGINT)")
        },
    ]

    /// One statement with parameters, in PostgreSQL's dialect.
    public static func statement(_ sql: String) throws -> String {
        try statementRewrites.reduce(sql) { try $1.apply($0) }
    }

    /// A script of statements without parameters (a migration, or one plain statement), in PostgreSQL's dialect.
    public static func script(_ sql: String) throws -> String {
        let schema = try schemaRewrites.reduce(sql) { try $1.apply($0) }
        return try statementRewrites.reduce(schema) { try $1.apply($0) }
    }

    /// `?` placeholders become `$1`, `$2`, … in order; a `?` inside a quoted literal or name stays.
    static func numberPlaceholders(_ sql: String) -> String {
        guard sql.contains("?") else { return sql }
        var out = ""
        out.reserveCapacity(sql.count + 16)
        var quote: Character?
        var n = 0
        for c in sql {
            if let q = quote {
                if c == q { quote = nil }
                out.append(c)
            } else if c == "'" || c == "\"" {
                quote = c
                out.append(c)
            } else if c == "?" {
                n += 1
                out += "$\(n)"
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// `MAX(a, b)` → `GREATEST(a, b)` and `MIN(a, b)` → `LEAST(a, b)`; the one-argument aggregates stay.
    static func scalarMaxMin(_ sql: String) -> String {
        let chars = Array(sql)
        var out = chars
        var i = 0
        while i + 4 <= chars.count {
            let word = String(chars[i..<i + 4]).uppercased()
            let boundary = i == 0 || !(chars[i - 1].isLetter || chars[i - 1].isNumber || chars[i - 1] == "_")
            guard boundary, word == "MAX(" || word == "MIN(" else { i += 1; continue }
            var depth = 0, j = i + 3, topLevelComma = false
            var quote: Character?
            while j < chars.count {
                let c = chars[j]
                if let q = quote { if c == q { quote = nil } }
                else if c == "'" || c == "\"" { quote = c }
                else if c == "(" { depth += 1 }
                else if c == ")" { depth -= 1; if depth == 0 { break } }
                else if c == ",", depth == 1 { topLevelComma = true }
                j += 1
            }
            if topLevelComma {
                let name = word == "MAX(" ? "GREATEST" : "LEAST"
                let tail = Array(out[(i + 3)...])
                out = Array(out[..<i]) + Array(name) + tail
                return scalarMaxMin(String(out))
            }
            i += 1
        }
        return sql
    }

    /// Replaces every match of `pattern` (dot matches newlines) with `template(groups)`; an absent group is "".
    static func replace(_ pattern: String, in text: String, _ template: ([String]) -> String) -> String {
        guard let regex = try? NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators]) else { return text }
        let ns = text as NSString
        var out = ""
        var last = 0
        for match in regex.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            out += ns.substring(with: NSRange(location: last, length: match.range.location - last))
            let groups = (0..<match.numberOfRanges).map { i -> String in
                let r = match.range(at: i)
                return r.location == NSNotFound ? "" : ns.substring(with: r)
            }
            out += template(groups)
            last = match.range.location + match.range.length
        }
        out += ns.substring(from: last)
        return out
    }
}
