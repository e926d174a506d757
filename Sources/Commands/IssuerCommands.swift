import Foundation
import MCPAuth

/// `mcpctl issuer add|list|remove`: outside authorization servers whose access tokens the gateway accepts.
enum IssuerCommands {
    static func run(_ c: Context) throws -> Int32 {
        let issuers = OutsideIssuers(store: try c.store())
        switch c.parsed.path[1] {
        case "add": try add(c, issuers)
        case "list": try list(c, issuers)
        case "remove": try remove(c, issuers)
        default: throw CommandUsageError(message: "Unknown command 'issuer \(c.parsed.path[1])'")
        }
        return ExitCode.success
    }

    static func add(_ c: Context, _ issuers: OutsideIssuers) throws {
        let secretFile = try c.option("client-secret-file").map(readableFile)
        let i = try issuers.add(OutsideIssuer(name: c.argument(0), issuer: c.option("issuer") ?? "", audience: c.option("audience"),
                                              introspectionURL: c.option("introspection-url"), clientID: c.option("client-id"),
                                              clientSecretFile: secretFile, emailClaim: c.option("email-claim") ?? "email",
                                              allowedDomains: c.parsed.values("allowed-domain"), tokenPrefix: c.option("token-prefix")))
        if c.json { c.out.emit(i.json); return }
        c.out.line("Added issuer \(i.name) (\(i.issuer)): the gateway now accepts its " + (i.introspectionURL == nil ? "JWT access tokens" : "JWT and opaque access tokens"))
    }

    /// The secret file as an absolute path, checked now to be a regular file that only its owner may
    /// read; only the path is stored.
    static func readableFile(_ path: String) throws -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        if let problem = SecretFile.problem(absolute) { throw DomainError.invalid("--client-secret-file: \(problem)") }
        return absolute
    }

    static func list(_ c: Context, _ issuers: OutsideIssuers) throws {
        let list = try issuers.list()
        if c.json { c.out.emit(.array(list.map(\.json))); return }
        c.out.table(["NAME", "ISSUER", "AUDIENCE", "INTROSPECTION", "EMAIL CLAIM", "ALLOWED DOMAINS", "CREATED"], list.map { i in
            [i.name, i.issuer, i.audience ?? "-", i.introspectionURL.map { $0 + (i.tokenPrefix.map { " (tokens \($0)…)" } ?? "") } ?? "-",
             i.emailClaim, i.allowedDomains.isEmpty ? "any" : i.allowedDomains.joined(separator: " "), Output.time(i.createdAt)]
        }, empty: "No outside issuers. Add one with: mcpctl issuer add NAME --issuer URL")
    }

    static func remove(_ c: Context, _ issuers: OutsideIssuers) throws {
        let i = try issuers.remove(c.argument(0))
        if c.json { c.out.emit(.object([("name", .string(i.name)), ("issuer", .string(i.issuer)), ("removed", .bool(true))])); return }
        c.out.line("Removed issuer \(i.name): its tokens are refused from the server's next request")
    }
}
