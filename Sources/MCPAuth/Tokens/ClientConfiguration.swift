/// The MCP client configuration that goes with a new personal token: where the endpoint is, and the
/// `Email` / `Token` header pair. `token create --print-config` and the account page print the same block.
public enum ClientConfiguration {
    /// The `mcpServers` block for `app`/`env` at `baseURL` (a server URL, or an endpoint URL already
    /// containing `/mcp/`).
    public static func block(baseURL: String, email: String, app: String, env: String, secret: String) -> JSON {
        var url = baseURL
        if !url.contains("/mcp/") {
            while url.hasSuffix("/") { url.removeLast() }
            url += "/mcp/\(app)/\(env)"
        }
        return .object([("mcpServers", .object([
            ("\(app)-\(env)", .object([
                ("type", "http"), ("url", .string(url)),
                ("headers", .object([("Email", .string(email)), ("Token", .string(secret))])),
            ])),
        ]))])
    }

    /// The environments (other than the built-in app's) that the user's grants cover, in name order.
    public static func grantedEnvironments(store: Store, email: String) throws -> [(app: String, env: String)] {
        guard EmailAddress.normalize(email) != nil else { return [] }
        let grants = try Grants(store: store).list(email: email)
        return try Apps(store: store).list().filter { e in
            !e.isBuiltIn && grants.contains { $0.app == e.app && ($0.env == "*" || $0.env == e.env) }
        }.map { ($0.app, $0.env) }
    }

    /// Where an unbound token's configuration points: the only granted environment, else the built-in app.
    public static func defaultTarget(store: Store, email: String) throws -> (app: String, env: String) {
        let candidates = try grantedEnvironments(store: store, email: email)
        return candidates.count == 1 ? candidates[0] : (Apps.builtInApp, Apps.builtInEnv)
    }
}
