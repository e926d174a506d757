import MCPAuth

/// `mcpctl client list|show|register|revoke|block|prune` — the connected applications.
enum ClientCommands {
    static func run(_ c: Context) throws -> Int32 {
        let store = try c.store()
        let clients = Clients(store: store)
        switch c.parsed.path[1] {
        case "list":
            let list = try clients.list(email: c.option("email"), includeBlocked: c.flag("all"))
            if c.json { c.out.emit(.array(list.map(\.json))); break }
            c.out.table(["NAME", "CLIENT ID", "REGISTRATION", "SCOPES", "USERS", "CREATED", "LAST USED", "STATUS"], list.map {
                [$0.name, $0.clientID, $0.registration.rawValue, $0.usage.map { $0.scopes.isEmpty ? "-" : $0.scopes.description } ?? "-", String($0.usage?.users ?? 0),
                 Output.time($0.createdAt), Output.ago($0.lastUsedAt), $0.blockedAt == nil ? "active" : "blocked"]
            }, empty: "No connected applications.")
        case "show":
            let r = try clients.require(c.argument(0))
            let consents = try clients.consents(r.clientID)
            let tokens = try Tokens(store: store).list(email: nil, includeInactive: false).filter { $0.clientID == r.clientID }
            if c.json {
                var j = r.json
                j.set("consents", .array(consents))
                j.set("tokens", .array(tokens.map(\.json)))
                c.out.emit(j)
                break
            }
            for (k, v) in [("Name", r.name), ("Client ID", r.clientID), ("Registration", r.registration.rawValue),
                           ("Auth method", r.authMethod), ("Redirect URIs", r.redirectURIs.joined(separator: " ")),
                           ("Scopes", r.usage.map { $0.scopes.isEmpty ? "-" : $0.scopes.description } ?? "-"), ("Users", String(r.usage?.users ?? 0)),
                           ("Live tokens", String(r.usage?.liveTokens ?? 0)), ("Created", Output.time(r.createdAt)),
                           ("Last used", Output.time(r.lastUsedAt)), ("Status", r.blockedAt == nil ? "active" : "blocked since \(Output.time(r.blockedAt))")] {
                c.out.line((k + ":").padding(toLength: 15, withPad: " ", startingAt: 0) + v)
            }
            for consent in consents {
                c.out.line("Consent:       \(consent["email"]?.stringValue ?? "") on \(consent["app"]?.stringValue ?? "")/\(consent["env"]?.stringValue ?? "")")
            }
        case "register":
            let name = try c.require("name")
            let uris = c.parsed.values("redirect-uri")
            guard !uris.isEmpty else { throw CommandUsageError(message: "Missing expected option '--redirect-uri'") }
            let reg = try clients.register(name: name, redirectURIs: uris, confidential: c.flag("confidential"), registration: .cli)
            if c.json {
                var j = reg.record.json
                if let s = reg.secret { j.set("client_secret", .string(s)) }
                c.out.emit(j)
            } else {
                c.out.line("client_id: \(reg.record.clientID)")
                if let s = reg.secret {
                    c.out.line("client_secret: \(s)")
                    c.out.note("The client secret is shown only once.")
                }
            }
        case "revoke":
            let r = try clients.revoke(c.argument(0))
            if c.json { var j = r.json; j.set("revoked", .bool(true)); c.out.emit(j) }
            else { c.out.line("Revoked \(r.name) (\(r.clientID)): client, consents and tokens deleted") }
        case "block":
            let r = try clients.block(c.argument(0))
            if c.json { c.out.emit(r.json) } else { c.out.line("Blocked \(r.name) (\(r.clientID)): its tokens are revoked and it cannot be used again") }
        case "prune":
            let period = try c.duration("unused-for") ?? 30 * 86_400
            let list = try clients.prune(unusedForSeconds: period, dryRun: c.flag("dry-run"))
            if c.json { c.out.emit(.object([("dry_run", .bool(c.flag("dry-run"))), ("clients", .array(list.map(\.json)))])); break }
            for r in list { c.out.line("\(c.flag("dry-run") ? "Would delete" : "Deleted") \(r.name) (\(r.clientID)), last used \(Output.ago(r.lastUsedAt))") }
            if list.isEmpty { c.out.line("No clients unused for \(DurationText.format(period)).") }
        default: throw CommandUsageError(message: "Unknown command 'client \(c.parsed.path[1])'")
        }
        return ExitCode.success
    }
}
