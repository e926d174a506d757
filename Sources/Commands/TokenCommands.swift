import Foundation
import MCPAuth

extension ExitCode {
    /// `token scan`: a path could not be read (and no live token was found).
    static let scanUnreadable: Int32 = 2
}

/// `mcpctl token create|list|show|rotate|revoke|scan`.
enum TokenCommands {
    static func run(_ c: Context) throws -> Int32 {
        switch c.parsed.path[1] {
        case "create": return try create(c)
        case "list": return try list(c)
        case "show":
            let record = try Tokens(store: try c.store()).resolve(c.argument(0))
            if c.json { c.out.emit(record.json) } else { show(record, c) }
        case "rotate": return try rotate(c)
        case "revoke": return try revoke(c)
        case "scan": return try scan(c)
        default: throw CommandUsageError(message: "Unknown command 'token \(c.parsed.path[1])'")
        }
        return ExitCode.success
    }

    static func parseScopes(_ text: String?) throws -> ScopeSet {
        guard let text else { return .read }
        guard let scopes = ScopeSet(parsing: text) else {
            throw CommandUsageError(message: "Invalid scopes '\(text)': use a comma-separated list of read, write, delete")
        }
        return scopes
    }

    static func create(_ c: Context) throws -> Int32 {
        let email = try c.require("email")
        let scopes = try parseScopes(c.option("scopes"))
        var lifetime: Int64? = Tokens.defaultLifetimeSeconds
        if let expires = c.option("expires") {
            if expires == "never" { lifetime = nil } else { lifetime = try c.duration("expires") }
        }
        if (c.option("app") == nil) != (c.option("env") == nil) {
            throw CommandUsageError(message: "'--app' and '--env' must be given together")
        }
        let store = try c.store()
        let target = c.flag("print-config") ? try configTarget(c, store: store, email: email) : nil
        let issued = try Tokens(store: store).create(email: email, name: c.option("name"), scopes: scopes,
                                                    app: c.option("app"), env: c.option("env"), lifetimeSeconds: lifetime,
                                                    introspection: c.flag("introspection"))
        let r = issued.record
        if let target {
            c.out.note("--print-config: using \(target.app)/\(target.env), the one app environment \(r.email) has a grant on (give --app and --env for another).")
        }
        if c.json {
            var j = r.json
            j.set("token", .string(issued.secret))
            if c.flag("print-config") { j.set("config", try clientConfig(c, store: store, record: r, target: target, secret: issued.secret)) }
            c.out.emit(j)
        } else if c.flag("print-config") {
            Output.write(Output.json(try clientConfig(c, store: store, record: r, target: target, secret: issued.secret), pretty: true) + "\n")
        } else {
            Output.write(issued.secret + "\n")
        }
        let binding = r.app.map { " on \($0)/\(r.env ?? "")" } ?? ""
        c.out.note("Created \(r.id) for \(r.email) (scopes \(r.scopes)\(binding), expires \(r.expiresAt.map { Clock.rfc3339($0) } ?? "never")). The secret is shown only once.")
        return ExitCode.success
    }

    /// Which app/env an unbound token's `--print-config` block points at: the built-in app when the user
    /// has grants on no other environment, the only one when there is exactly one, and a
    /// usage error naming them when there are several. Nil when `--app/--env` decide.
    static func configTarget(_ c: Context, store: Store, email: String) throws -> (app: String, env: String)? {
        guard c.option("app") == nil else { return nil }
        let candidates = try ClientConfiguration.grantedEnvironments(store: store, email: email)
        switch candidates.count {
        case 0: return nil
        case 1: return candidates[0]
        default:
            let names = candidates.map { "\($0.app)/\($0.env)" }.joined(separator: ", ")
            throw CommandUsageError(message: "'--print-config' needs '--app APP --env ENV': \(email.lowercased()) has grants on \(names)")
        }
    }

    /// The MCP client configuration block: the endpoint URL plus the `Email` / `Token` header pair.
    static func clientConfig(_ c: Context, store: Store, record: TokenRecord, target: (app: String, env: String)?,
                             secret: String) throws -> JSON {
        let stored = try store.setting("public_url")?.string
        let base = c.option("url") ?? stored ?? "http://127.0.0.1:8000"
        return ClientConfiguration.block(baseURL: base, email: record.email, app: record.app ?? target?.app ?? Apps.builtInApp,
                                         env: record.env ?? target?.env ?? Apps.builtInEnv, secret: secret)
    }

    static func list(_ c: Context) throws -> Int32 {
        let records = try Tokens(store: try c.store()).list(email: c.option("email"), includeInactive: c.flag("all"))
        if c.json { c.out.emit(.array(records.map(\.json))); return ExitCode.success }
        c.out.table(["ID", "LAST4", "NAME", "EMAIL", "KIND", "SCOPES", "APP/ENV", "EXPIRES", "LAST USED", "STATUS"], records.map { r in
            [r.id, "…" + r.hint.suffix(4), r.name ?? "-", r.email, r.kind.rawValue, r.scopes.description, r.app.map { "\($0)/\(r.env ?? "")" } ?? "*",
             Output.until(r.expiresAt), Output.ago(r.lastUsedAt), r.status().rawValue]
        }, empty: c.flag("all") ? "No tokens." : "No live tokens. Create one with: mcpctl token create --email EMAIL")
        return ExitCode.success
    }

    static func show(_ r: TokenRecord, _ c: Context) {
        let rows: [(String, String)] = [
            ("ID", r.id), ("Name", r.name ?? "-"), ("Email", r.email), ("Kind", r.kind.rawValue), ("Secret", r.hint),
            ("Scopes", r.scopes.description), ("App/env", r.app.map { "\($0)/\(r.env ?? "")" } ?? "any (grants decide)"),
            ("Client", r.clientID ?? "-"), ("Created", Output.time(r.createdAt)), ("Expires", Output.time(r.expiresAt)),
            ("Last used", Output.time(r.lastUsedAt)), ("Revoked", Output.time(r.revokedAt)), ("Status", r.status().rawValue),
            ("Rotated from", r.rotatedFrom ?? "-"),
        ]
        for (k, v) in rows { c.out.line((k + ":").padding(toLength: 14, withPad: " ", startingAt: 0) + v) }
    }

    static func rotate(_ c: Context) throws -> Int32 {
        let grace = try c.duration("grace") ?? 0
        let issued = try Tokens(store: try c.store()).rotate(c.argument(0), graceSeconds: grace)
        if c.json {
            var j = issued.record.json
            j.set("token", .string(issued.secret))
            c.out.emit(j)
        } else {
            Output.write(issued.secret + "\n")
        }
        let old = issued.record.rotatedFrom ?? "?"
        c.out.note("Rotated \(old) → \(issued.record.id); the old secret " +
                   (grace > 0 ? "stays valid for \(DurationText.format(grace))." : "is dead now."))
        return ExitCode.success
    }

    static func revoke(_ c: Context) throws -> Int32 {
        let tokens = Tokens(store: try c.store())
        if c.flag("all") {
            guard let email = c.option("email") else { throw CommandUsageError(message: "'--all' needs '--email EMAIL'") }
            guard c.parsed.arguments.isEmpty else { throw CommandUsageError(message: "give token ids or '--email EMAIL --all', not both") }
            let n = try tokens.revokeAll(email: email)
            if c.json { c.out.emit(.object([("email", .string(email.lowercased())), ("revoked", .int(Int64(n)))])) }
            else { c.out.line("Revoked \(n) credential\(n == 1 ? "" : "s") of \(email.lowercased()) (personal and OAuth tokens) and removed their consents") }
            return ExitCode.success
        }
        guard !c.parsed.arguments.isEmpty else {
            throw CommandUsageError(message: "Missing expected argument '<ID>' (or use '--email EMAIL --all')")
        }
        if c.option("email") != nil { throw CommandUsageError(message: "'--email' is only for '--email EMAIL --all'") }
        let results = try tokens.revoke(c.parsed.arguments)
        if c.json {
            c.out.emit(.array(results.map { r, changed in
                var j = r.json
                if changed { j.set("revoked_at", .string(Clock.rfc3339(Clock.nowMillis()))); j.set("status", "revoked") }
                j.set("changed", .bool(changed))
                return j
            }))
        } else {
            for (r, changed) in results {
                c.out.line(changed ? "Revoked \(r.id) (\(r.email)\(r.name.map { ", \($0)" } ?? ""))" : "\(r.id) was already revoked")
            }
        }
        return ExitCode.success
    }

    /// Exit 1 when a live token is found, else 2 when a path could not be read, else 0.
    static func scan(_ c: Context) throws -> Int32 {
        let scanned = TokenScanInputs(paths: c.parsed.arguments) { FileHandle.standardInput.readDataToEndOfFile() }
        for (path, reason) in scanned.unreadable { c.out.note("cannot read \(path): \(reason)") }
        let tokens = Tokens(store: try c.store())
        var findings: [JSON] = []
        var rows: [[String]] = []
        var live = 0
        for input in scanned.inputs {
            for (lineNumber, line) in input.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                for secret in TokenSecret.find(in: String(line)) {
                    let (status, record) = try tokens.scanStatus(secret)
                    if status == .live { live += 1 }
                    findings.append(.object([("source", .string(input.source)), ("line", .int(Int64(lineNumber + 1))),
                                             ("token", .string(TokenSecret.redacted(secret))), ("status", .string(status.rawValue)),
                                             ("id", .str(record?.id)), ("email", .str(record?.email))]))
                    rows.append(["\(input.source):\(lineNumber + 1)", TokenSecret.redacted(secret), status.rawValue, record?.id ?? "-", record?.email ?? "-"])
                }
            }
        }
        if c.json { c.out.emit(.array(findings)) } else {
            c.out.table(["LOCATION", "TOKEN", "STATUS", "ID", "EMAIL"], rows, empty: "No mcpctl tokens found.")
            if live > 0 { c.out.note("\(live) live token\(live == 1 ? "" : "s") found: revoke with 'mcpctl token revoke ID' and rotate what used them.") }
        }
        if live > 0 { return ExitCode.failure }
        return scanned.unreadable.isEmpty ? ExitCode.success : ExitCode.scanUnreadable
    }
}
