/// One environment of an app: where its upstream MCP server is (an HTTP URL or a command to run).
public struct AppEnvironment: Sendable {
    public let app: String
    public let env: String
    public let upstreamURL: String?
    public let command: [String]?
    /// Seconds its upstream may take to answer; nil: the server's `--upstream-timeout`.
    public var timeoutSeconds: Double? = nil
    public let createdAt: Int64
    /// Headers sent only to this HTTP upstream, by reference (the values are read by `serve`).
    public var upstreamHeaders: [UpstreamCredential] = []
    /// Environment variables set only for this stdio upstream's processes, by reference.
    public var environmentVariables: [UpstreamCredential] = []

    public var isBuiltIn: Bool { app == Apps.builtInApp }

    public var json: JSON {
        .object([("app", .string(app)), ("env", .string(env)), ("upstream", .str(upstreamURL)),
                 ("command", command.map { .array($0.map { .string($0) }) } ?? .null),
                 ("timeout_seconds", timeoutSeconds.map { .double($0) } ?? .null), ("builtin", .bool(isBuiltIn)), ("created_at", .string(Clock.rfc3339(createdAt))),
                 ("upstream_headers", .array(upstreamHeaders.map(\.json))), ("env_vars", .array(environmentVariables.map(\.json)))])
    }
}

/// Apps and their environments: an app is one upstream MCP server family, an environment one upstream of it. The app `mcpctl` (environment `local`) is built in.
public struct Apps: Sendable {
    public static let builtInApp = "mcpctl"
    public static let builtInEnv = "local"
    let store: Store
    var db: Database { store.db }

    public init(store: Store) { self.store = store }

    static let select = """
        SELECT a.name AS app, e.name AS env, e.upstream_url, e.command_json, e.timeout_ms, e.created_at,
            e.upstream_headers_json, e.env_vars_json
        FROM environments e JOIN apps a ON a.id = e.app_id
        """

    static func environment(_ row: Row) throws -> AppEnvironment {
        let table = "environments"
        return AppEnvironment(app: try row.text("app", of: "apps"), env: try row.text("env", of: table),
                              upstreamURL: try row.optionalText("upstream_url", of: table),
                              command: try command(row), timeoutSeconds: try row.optionalInteger("timeout_ms", of: table).map { Double($0) / 1000 },
                              createdAt: try row.integer("created_at", of: table))
    }

    /// The stored command line (a JSON array of strings) of a stdio environment; nil for a URL upstream.
    static func command(_ row: Row) throws -> [String]? {
        guard let text = try row.optionalText("command_json", of: "environments") else { return nil }
        guard let array = (try? JSON.parse(text))?.arrayValue else { throw MalformedRow(table: "environments", column: "command_json") }
        return try array.map {
            guard let word = $0.stringValue else { throw MalformedRow(table: "environments", column: "command_json") }
            return word
        }
    }

    /// An environment with its credential references (stored apart from the row's other columns).
    static func decoded(_ row: Row) throws -> AppEnvironment {
        var e = try environment(row)
        e.upstreamHeaders = try UpstreamCredential.decode(try row.optionalText("upstream_headers_json", of: "environments"), column: "upstream_headers_json")
        e.environmentVariables = try UpstreamCredential.decode(try row.optionalText("env_vars_json", of: "environments"), column: "env_vars_json")
        return e
    }

    public func environment(app: String, env: String) throws -> AppEnvironment? {
        try db.first(Apps.select + " WHERE a.name = ? AND e.name = ?", [.text(app), .text(env)]).map(Apps.decoded)
    }

    /// Every environment, read through an open connection (for read-only callers such as `doctor`).
    public static func list(db: Database) throws -> [AppEnvironment] {
        try db.query(Apps.select + " ORDER BY a.name, e.name").map(Apps.decoded)
    }

    public func list() throws -> [AppEnvironment] {
        try db.query(Apps.select + " ORDER BY a.name, e.name").map(Apps.decoded)
    }

    public func appID(_ app: String) throws -> Int64? {
        try db.first("SELECT id FROM apps WHERE name = ?", [.text(app)])?.int("id")
    }

    /// Names of apps and environments: letters, digits, '-', '_' and '.', starting with a letter or digit.
    public static func validateName(_ name: String, what: String) throws {
        let ok = !name.isEmpty && name.count <= 64 && name.unicodeScalars.allSatisfy {
            ($0.isASCII && (CharacterSet.alphanumerics.contains($0))) || $0 == "-" || $0 == "_" || $0 == "."
        } && name.first.map { $0.isLetter || $0.isNumber } == true
        guard ok else {
            throw DomainError.invalid("\(what) name '\(name)' is invalid: use 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit")
        }
    }

    /// Adds (or replaces the upstream of) an environment. Exactly one of `upstream` / `command` is given;
    /// `timeoutSeconds` (nil: the server's default) bounds how long its upstream may take to answer.
    @discardableResult
    public func add(app: String, env: String, upstream: String?, command: [String]?, timeoutSeconds: Double? = nil,
                    headers: [UpstreamCredential] = [], environmentVariables: [UpstreamCredential] = []) throws -> AppEnvironment {
        try Apps.validateName(app, what: "app")
        try Apps.validateName(env, what: "environment")
        guard env != "*" else { throw DomainError.invalid("'*' is not an environment name") }
        guard app != Apps.builtInApp else { throw DomainError.invalid("the app name 'mcpctl' is reserved for the built-in app") }
        guard (upstream == nil) != (command == nil) else { throw DomainError.invalid("give exactly one of --upstream URL or --command 'CMD …'") }
        if let upstream { try UpstreamURL.validate(upstream) }
        if let command, command.isEmpty { throw DomainError.invalid("--command needs a program to run") }
        if let t = timeoutSeconds, !(t >= 1 && t <= 86_400) { throw DomainError.invalid("--timeout must be from 1s to 24h") }
        let timeoutMs: SQLValue = timeoutSeconds.map { .integer(Int64(($0 * 1000).rounded())) } ?? .null
        let commandJSON = command.map { JSON.array($0.map { .string($0) }).encoded() }
        try Apps.checkCredentials(headers: headers, environmentVariables: environmentVariables, stdio: command != nil)
        return try db.write {
            let now = Clock.nowMillis()
            try db.run("INSERT OR IGNORE INTO apps (name, created_at) VALUES (?, ?)", [.text(app), .integer(now)])
            guard let id = try appID(app) else { throw DomainError.notFound("app \(app) vanished") }
            try db.run("""
                INSERT INTO environments (app_id, name, upstream_url, command_json, timeout_ms, created_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(app_id, name) DO UPDATE SET upstream_url = excluded.upstream_url, command_json = excluded.command_json,
                    timeout_ms = excluded.timeout_ms
                """, [.integer(id), .text(env), .text(upstream), .text(commandJSON), timeoutMs, .integer(now)])
            try setCredentials(appID: id, env: env, headers: headers, environmentVariables: environmentVariables)
            try AuditLog.append(.cli("app.add", app: app, env: env, target: upstream ?? command?.first), to: db)
            guard let e = try environment(app: app, env: env) else { throw DomainError.notFound("environment vanished") }
            return e
        }
    }

    /// Removes one environment, or the whole app with its grants and tool settings.
    public func remove(app: String, env: String?) throws {
        guard app != Apps.builtInApp else { throw DomainError.invalid("the built-in app 'mcpctl' cannot be removed") }
        try db.write {
            guard let id = try appID(app) else { throw DomainError.notFound("no app named '\(app)'") }
            if let env {
                let n = try db.run("DELETE FROM environments WHERE app_id = ? AND name = ?", [.integer(id), .text(env)])
                guard n > 0 else { throw DomainError.notFound("app '\(app)' has no environment '\(env)'") }
                try db.run("DELETE FROM grants WHERE app_id = ? AND env = ?", [.integer(id), .text(env)])
                try db.run("DELETE FROM group_grants WHERE app_id = ? AND env = ?", [.integer(id), .text(env)])
                try db.run("DELETE FROM tools WHERE app = ? AND env = ?", [.text(app), .text(env)])
                try db.run("DELETE FROM tool_pins WHERE app = ? AND env = ?", [.text(app), .text(env)])
            } else {
                try db.run("DELETE FROM apps WHERE id = ?", [.integer(id)])
                try db.run("DELETE FROM tools WHERE app = ?", [.text(app)])
                try db.run("DELETE FROM tool_pins WHERE app = ?", [.text(app)])
                try db.run("DELETE FROM tool_scopes WHERE app = ?", [.text(app)])
            }
            try AuditLog.append(.cli("app.remove", app: app, env: env), to: db)
        }
    }
}

/// Upstream URLs: absolute http or https with a host and a port in 1–65535, no credentials, no fragment.
public enum UpstreamURL {
    /// Why `text` is not a well-formed absolute URL with a host and a valid port, or nil when it is one.
    public static func malformation(_ text: String) -> String? {
        guard let url = URLComponents(string: text), url.scheme != nil, let host = url.host, !host.isEmpty else {
            return "upstream '\(text)' is not an absolute URL with a host"
        }
        // RFC 3986 §3.2.3: the port is decimal digits (empty means the scheme's default); TCP has 1–65535.
        if let range = url.rangeOfPort {
            let digits = text[range]
            guard digits.isEmpty || (digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber)
                                     && Int(digits).map({ (1...65535).contains($0) }) == true) else {
                return "upstream port '\(digits)' is out of range: use 1-65535"
            }
        }
        return nil
    }

    public static func validate(_ text: String) throws {
        if let problem = malformation(text) { throw DomainError.invalid(problem) }
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw DomainError.invalid("upstream '\(text)' is not an http or https URL")
        }
        guard url.user == nil, url.password == nil else { throw DomainError.invalid("upstream URL must not contain credentials") }
        guard url.fragment == nil else { throw DomainError.invalid("upstream URL must not contain a fragment") }
    }
}

import Foundation

/// Changing an existing environment, and the upstream credential references it carries.
extension Apps {
    /// What `app update` changes; nil fields stay as they are.
    public struct Update: Sendable {
        public var upstream: String?
        public var command: [String]?
        /// nil: unchanged; `.some(nil)`: back to the server's default.
        public var timeoutSeconds: Double??
        public var headers: [(name: String, credential: UpstreamCredential?)] = []
        public var environmentVariables: [(name: String, credential: UpstreamCredential?)] = []

        public init() {}

        public var isEmpty: Bool {
            upstream == nil && command == nil && timeoutSeconds == nil && headers.isEmpty && environmentVariables.isEmpty
        }
    }

    /// Changes the upstream (URL or command), timeout or credential references of an existing environment.
    /// References given for a name already set replace it; a name with no reference removes it.
    @discardableResult
    public func update(app: String, env: String, _ change: Update) throws -> AppEnvironment {
        guard app != Apps.builtInApp else { throw DomainError.invalid("the built-in app 'mcpctl' has no upstream to change") }
        guard !change.isEmpty else { throw DomainError.invalid("nothing to change: give --upstream, --command, --timeout, --upstream-header or --env-var") }
        guard change.upstream == nil || change.command == nil else { throw DomainError.invalid("give at most one of --upstream URL or --command 'CMD …'") }
        if let upstream = change.upstream { try UpstreamURL.validate(upstream) }
        if let command = change.command, command.isEmpty { throw DomainError.invalid("--command needs a program to run") }
        if let t = change.timeoutSeconds ?? nil, !(t >= 1 && t <= 86_400) { throw DomainError.invalid("--timeout must be from 1s to 24h") }
        return try db.write {
            guard let id = try appID(app) else { throw DomainError.notFound("no app named '\(app)' (see 'mcpctl app list')") }
            guard let current = try environment(app: app, env: env) else {
                throw DomainError.notFound("app '\(app)' has no environment '\(env)' (see 'mcpctl app list')")
            }
            let upstream = change.command != nil ? nil : (change.upstream ?? current.upstreamURL)
            let command = change.upstream != nil ? nil : (change.command ?? current.command)
            let timeout = change.timeoutSeconds ?? current.timeoutSeconds
            let headers = UpstreamCredential.merge(current.upstreamHeaders, change.headers, kind: .header)
            let variables = UpstreamCredential.merge(current.environmentVariables, change.environmentVariables, kind: .environmentVariable)
            try Apps.checkCredentials(headers: headers, environmentVariables: variables, stdio: command != nil)
            try db.run("""
                UPDATE environments SET upstream_url = ?, command_json = ?, timeout_ms = ? WHERE app_id = ? AND name = ?
                """, [.text(upstream), .text(command.map { JSON.array($0.map { .string($0) }).encoded() }),
                      timeout.map { .integer(Int64(($0 * 1000).rounded())) } ?? .null, .integer(id), .text(env)])
            try setCredentials(appID: id, env: env, headers: headers, environmentVariables: variables)
            try AuditLog.append(.cli("app.update", app: app, env: env, target: upstream ?? command?.first,
                                     reason: Apps.describeChange(change)), to: db)
            guard let e = try environment(app: app, env: env) else { throw DomainError.notFound("environment vanished") }
            return e
        }
    }

    /// What an update changed, for its audit row: names and references only (they are not secrets).
    static func describeChange(_ change: Update) -> String {
        var parts: [String] = []
        if change.upstream != nil { parts.append("upstream") }
        if change.command != nil { parts.append("command") }
        if change.timeoutSeconds != nil { parts.append("timeout") }
        for h in change.headers { parts.append("header \(h.name)=\(h.credential?.reference ?? "(removed)")") }
        for v in change.environmentVariables { parts.append("env-var \(v.name)=\(v.credential?.reference ?? "(removed)")") }
        return String(parts.joined(separator: ", ").prefix(256))
    }

    /// Headers go only to HTTP upstreams, environment variables only to stdio ones; names are unique.
    static func checkCredentials(headers: [UpstreamCredential], environmentVariables: [UpstreamCredential], stdio: Bool) throws {
        if stdio && !headers.isEmpty {
            throw DomainError.invalid("--upstream-header applies to HTTP upstreams (--upstream); a stdio server gets --env-var instead")
        }
        if !stdio && !environmentVariables.isEmpty {
            throw DomainError.invalid("--env-var applies to stdio upstreams (--command); an HTTP upstream gets --upstream-header instead")
        }
        if let dup = duplicate(headers.map { $0.name.lowercased() }) { throw DomainError.invalid("--upstream-header \(dup) is given twice") }
        if let dup = duplicate(environmentVariables.map(\.name)) { throw DomainError.invalid("--env-var \(dup) is given twice") }
    }

    private static func duplicate(_ names: [String]) -> String? {
        var seen = Set<String>()
        return names.first { !seen.insert($0).inserted }
    }

    func setCredentials(appID: Int64, env: String, headers: [UpstreamCredential], environmentVariables: [UpstreamCredential]) throws {
        try db.run("UPDATE environments SET upstream_headers_json = ?, env_vars_json = ? WHERE app_id = ? AND name = ?",
                   [.text(UpstreamCredential.encode(headers)), .text(UpstreamCredential.encode(environmentVariables)), .integer(appID), .text(env)])
    }
}
