import HTTP
import MCPAuth

/// Which MCP revision a request speaks: 2025-11-25 and earlier open a session with `initialize`;
/// 2026-07-28 has no session and carries its protocol version, client info and capabilities in every
/// request's `params._meta` (MCP 2026-07-28, basic: "Per-request protocol fields").
enum ProtocolRevision: Equatable, Sendable {
    /// A handshake-era request (2025-11-25, or an older revision the upstream negotiated).
    case handshake
    /// A per-request-envelope request at this version.
    case modern(String)

    /// Revisions reached through the `initialize` handshake.
    static let handshakeVersions: Set<String> = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]
    /// Revisions with the per-request envelope that the gateway speaks.
    static let modernVersions = ["2026-07-28"]
    /// The version the gateway offers when it opens a session with a handshake-era upstream.
    static let latestHandshake = "2025-11-25"
    static let latestModern = "2026-07-28"

    /// `params._meta` keys of the 2026-07-28 per-request envelope.
    static let protocolVersionKey = "io.modelcontextprotocol/protocolVersion"
    static let clientInfoKey = "io.modelcontextprotocol/clientInfo"
    static let clientCapabilitiesKey = "io.modelcontextprotocol/clientCapabilities"
    static let serverInfoKey = "io.modelcontextprotocol/serverInfo"

    /// MCP 2026-07-28 (transports): a `MCP-Protocol-Version` header that names no handshake-era revision
    /// routes the request to the per-request path, as does an envelope in the body.
    static func of(_ headers: HTTPHeaders, _ message: MCPMessage?) -> ProtocolRevision {
        if let header = headers["MCP-Protocol-Version"], !handshakeVersions.contains(header) { return .modern(header) }
        if let version = message?.envelopeVersion { return .modern(version) }
        return .handshake
    }

    var isModern: Bool { if case .modern = self { return true }; return false }
}

extension MCPMessage {
    /// The body's `params._meta` protocol version (2026-07-28 envelope), when it has one.
    var envelopeVersion: String? { meta?[ProtocolRevision.protocolVersionKey]?.stringValue }
    /// Whether `params._meta` carries the envelope's required pair (protocol version and client capabilities).
    var hasEnvelope: Bool {
        guard let meta, meta.objectValue != nil else { return false }
        return meta[ProtocolRevision.protocolVersionKey] != nil && meta[ProtocolRevision.clientCapabilitiesKey] != nil
    }
}
