/// Which part of mcpctl wrote an audit row.
public enum AuditSource: String, AuditVocabulary {
    /// The operator's command line.
    case cli
    /// The MCP gateway.
    case mcp
    /// The OAuth authorization server.
    case oauth
    /// The account pages a signed-in user sees.
    case account
    /// The administration pages and API.
    case admin
    /// Sign-in through an external identity provider.
    case sso
}
