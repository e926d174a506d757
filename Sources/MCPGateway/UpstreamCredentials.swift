import MCPAuth

/// The values behind the upstream credential references of every environment (`--upstream-header`,
/// `--env-var`), read by `serve` from its own environment and from files. Resolved for every environment
/// when the server starts (a missing one stops it), again on SIGHUP (files may have been rotated), and
/// on first use for an environment added later. Values live only here, in memory: they are never logged,
/// audited, stored or put in an error message, and each goes only to the upstream that references it.
public final class UpstreamCredentials: Sendable {
    /// `serve`'s environment when it started: where `env:VAR` references are looked up.
    private let environment: [String: String]
    /// Resolved values by (app, env, kind, reference).
    private let values = Guarded<[String: String]>([:])

    public init(environment: [String: String] = [:]) {
        self.environment = environment
    }

    private static func key(_ e: AppEnvironment, _ kind: UpstreamCredential.Kind, _ c: UpstreamCredential) -> String {
        [e.app, e.env, kind == .header ? "h" : "v", c.description].joined(separator: "\u{0}")
    }

    /// Resolves every reference of `environments`; throws one error naming each that cannot be resolved
    /// (the app/env, the option and the reference, never a value). Nothing is kept unless all resolve.
    public func resolveAll(_ environments: [AppEnvironment]) throws {
        var resolved: [String: String] = [:]
        var problems: [String] = []
        for e in environments {
            for (kind, list) in [(UpstreamCredential.Kind.header, e.upstreamHeaders), (.environmentVariable, e.environmentVariables)] {
                for c in list {
                    do { resolved[UpstreamCredentials.key(e, kind, c)] = try c.resolve(environment: environment, kind: kind, app: e.app, env: e.env) } catch {
                        problems.append(String(describing: error))
                    }
                }
            }
        }
        guard problems.isEmpty else {
            throw UpstreamCredential.ResolutionError(description: "upstream credentials could not be resolved: " + problems.joined(separator: "; "))
        }
        values.withLock { $0 = resolved }
    }

    /// The header (or variable) name/value pairs for one environment, resolving any reference not seen yet.
    public func resolved(_ e: AppEnvironment, kind: UpstreamCredential.Kind) throws -> [(name: String, value: String)] {
        let list = kind == .header ? e.upstreamHeaders : e.environmentVariables
        guard !list.isEmpty else { return [] }
        return try list.map { c in
            let key = UpstreamCredentials.key(e, kind, c)
            if let v = values.withLock({ $0[key] }) { return (c.name, v) }
            let v = try c.resolve(environment: environment, kind: kind, app: e.app, env: e.env)
            values.withLock { $0[key] = v }
            return (c.name, v)
        }
    }

    /// `resolved`, or the refusal of a request whose upstream credentials cannot be read (502, RFC 9110
    /// §15.6.3: the gateway cannot make a usable request upstream). The reason names the reference only.
    func require(_ e: AppEnvironment, kind: UpstreamCredential.Kind, id: JSON?) throws -> [(name: String, value: String)] {
        do { return try resolved(e, kind: kind) } catch {
            throw GatewayRefusal.jsonRPC(502, id: id, code: -32603, "upstream credentials unavailable", reason: String(describing: error))
        }
    }
}
