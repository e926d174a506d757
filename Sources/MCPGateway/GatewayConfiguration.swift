import MCPAuth

/// Settings of the MCP gateway, filled in by `mcpctl serve`.
public struct GatewayConfiguration: Sendable {
    /// The URL clients use (no trailing slash); the resource of `/mcp/{app}/{env}` is built from it.
    public var publicURL: String
    /// Browser origins allowed besides the public URL's own.
    public var allowedOrigins: [String] = []
    /// How long an upstream may take to answer (seconds), unless its app environment sets its own; past
    /// it the call is answered 504.
    public var upstreamTimeout: Double = 60
    /// Most bytes of upstream answers held in memory at once, all requests together; an answer that would
    /// go past it is refused with 503 instead of buffered.
    public var maxBufferedBytes = 256 * 1024 * 1024
    /// The longest message line a stdio upstream may write (the request body limit); a longer one ends
    /// the process.
    public var maxMessageBytes = 4 * 1024 * 1024
    /// Lines of a stdio upstream's stderr logged per second per process; the rest are counted, not logged.
    public var stderrLinesPerSecond = 100
    /// A stdio session with no request for this long is ended and its process killed.
    public var sessionIdleTimeout: Double = 600
    /// Most stdio processes alive at once.
    public var maxStdioSessions = 64
    /// Reverse proxies whose `X-Forwarded-For` names the client (audit rows and per-address limits).
    public var trustedProxies: [String] = []
    /// Unauthenticated or failed-credential requests allowed per client address per minute; beyond it
    /// they are answered 429 and their audit rows summarised.
    public var unauthenticatedPerMinute = 120
    /// The values behind each environment's upstream credential references.
    public var upstreamCredentials = UpstreamCredentials()
    /// Which tools wait for an operator's approval before they are served.
    public var toolApproval = ToolApproval.changed

    public init(publicURL: String) {
        var url = publicURL
        while url.hasSuffix("/") { url.removeLast() }
        self.publicURL = url
    }

    /// The origin (scheme://host[:port]) of the public URL.
    public var publicOrigin: String {
        guard let c = URLComponents(string: publicURL), let scheme = c.scheme, let host = c.host else { return publicURL }
        return "\(scheme)://\(host)" + (c.port.map { ":\($0)" } ?? "")
    }

    public func resource(app: String, env: String) -> String { "\(publicURL)/mcp/\(app)/\(env)" }
    public func resourceMetadataURL(app: String, env: String) -> String {
        "\(publicURL)/.well-known/oauth-protected-resource/mcp/\(app)/\(env)"
    }
}

import Foundation
