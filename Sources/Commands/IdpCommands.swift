import Foundation
import MCPAuth

/// `mcpctl idp add|list|remove|unbind`: OpenID Connect providers users sign in with ("Sign in with NAME").
enum IdpCommands {
    static func run(_ c: Context) throws -> Int32 {
        let providers = IdentityProviders(store: try c.store())
        switch c.parsed.path[1] {
        case "add": try add(c, providers)
        case "list": try list(c, providers)
        case "remove": try remove(c, providers)
        case "unbind": try unbind(c, providers)
        default: throw CommandUsageError(message: "Unknown command 'idp \(c.parsed.path[1])'")
        }
        return ExitCode.success
    }

    static func add(_ c: Context, _ providers: IdentityProviders) throws {
        let secretFile = try IssuerCommands.readableFile(c.option("client-secret-file") ?? "")
        let scopes = (c.option("scopes") ?? "openid email profile").split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        let p = try providers.add(IdentityProvider(name: c.argument(0), issuer: c.option("issuer") ?? "", clientID: c.option("client-id") ?? "",
                                                   clientSecretFile: secretFile, scopes: scopes, groupsClaim: c.option("groups-claim"),
                                                   allowedDomains: c.parsed.values("allowed-domain"), createUsers: c.flag("create-users"),
                                                   trustEmail: c.flag("trust-email")))
        if c.json { c.out.emit(p.json); return }
        c.out.line("Added identity provider \(p.name) (\(p.issuer)): the sign-in pages now offer \"Sign in with \(p.name)\"")
        c.out.line("Register this redirect URI at the provider: PUBLIC_URL/login/sso/\(p.name)/callback")
    }

    static func list(_ c: Context, _ providers: IdentityProviders) throws {
        let list = try providers.list()
        if c.json { c.out.emit(.array(list.map(\.json))); return }
        c.out.table(["NAME", "ISSUER", "CLIENT ID", "GROUPS CLAIM", "ALLOWED DOMAINS", "CREATE USERS", "CREATED"], list.map {
            [$0.name, $0.issuer, $0.clientID, $0.groupsClaim ?? "-", $0.allowedDomains.isEmpty ? "any" : $0.allowedDomains.joined(separator: " "),
             $0.createUsers ? "yes" : "no", Output.time($0.createdAt)]
        }, empty: "No identity providers. Add one with: mcpctl idp add NAME --issuer URL --client-id ID --client-secret-file PATH")
    }

    static func remove(_ c: Context, _ providers: IdentityProviders) throws {
        let p = try providers.remove(c.argument(0))
        if c.json { c.out.emit(.object([("name", .string(p.name)), ("issuer", .string(p.issuer)), ("removed", .bool(true))])); return }
        c.out.line("Removed identity provider \(p.name): its sign-in button is gone and sign-ins in progress with it fail")
    }

    static func unbind(_ c: Context, _ providers: IdentityProviders) throws {
        let p = try providers.require(c.argument(0))
        let email = c.argument(1)
        try SSOSubjects(store: try c.store(), idp: p.name).unbind(email: email)
        let shown = EmailAddress.normalize(email) ?? email
        if c.json { c.out.emit(.object([("idp", .string(p.name)), ("email", .string(shown)), ("unbound", .bool(true))])); return }
        c.out.line("Unbound \(shown) from \(p.name): the next sign-in with \(p.name) naming \(shown) binds that account")
    }
}
