import Foundation
import HTTP
import MCPAuth

/// MCP 2026-07-28 (Streamable HTTP, standard headers): `MCP-Protocol-Version` mirrors the envelope's
/// `params._meta` protocol version, `Mcp-Method` the body's `method`, and `Mcp-Name` its `params.name`
/// (`tools/call`, `prompts/get`) or `params.uri` (`resources/read`, `resources/subscribe`,
/// `resources/unsubscribe`). Servers reject a request whose headers and body disagree, with the
/// JSON-RPC error `-32020` (header mismatch): an intermediary may route, limit or authorize on the
/// headers while the upstream executes the body. On a 2026-07-28 request the headers are required
/// (an absent one disagrees); on an older one they are checked whenever present.
enum MirroredHeaders {
    static let headerMismatch = -32020
    /// MCP 2026-07-28: the envelope names a version the receiver does not serve.
    static let unsupportedProtocolVersion = -32022
    /// JSON-RPC 2.0: invalid method parameters (an envelope without its required keys).
    static let invalidParams = -32602

    /// Why a request cannot be taken as sent: its JSON-RPC error code and the (audited) reason.
    struct Problem: Equatable {
        let code: Int
        let reason: String
    }

    /// The first problem with `message`'s headers and envelope under `revision`; nil when there is none.
    static func problem(_ headers: HTTPHeaders, _ message: MCPMessage, revision: ProtocolRevision) -> Problem? {
        guard case .modern(let version) = revision, message.isRequest else {
            return mismatch(headers, message).map { Problem(code: headerMismatch, reason: $0) }
        }
        // MCP 2026-07-28: the envelope first, then the headers against it, then the version
        // (a client that disagrees with itself is told so before it is told the version is unsupported).
        guard message.hasEnvelope else {
            return Problem(code: invalidParams, reason: "params._meta lacks the protocol version or client capabilities")
        }
        let versionHeader = headers["MCP-Protocol-Version"]
        if versionHeader == nil || versionHeader != message.envelopeVersion {
            return Problem(code: headerMismatch, reason: "MCP-Protocol-Version header does not match the body")
        }
        if headers["Mcp-Method"] != message.method { return Problem(code: headerMismatch, reason: "Mcp-Method header does not match the body") }
        // Mcp-Name must match wherever it is sent, and is required for the methods that name something.
        let mirrored = mirroredName(message)
        if let nameHeader = headers["Mcp-Name"] {
            guard let mirrored, decode(nameHeader) == mirrored else {
                return Problem(code: headerMismatch, reason: "Mcp-Name header does not match the body")
            }
        } else if mirrored != nil, requiredNameMethods.contains(message.method ?? "") {
            return Problem(code: headerMismatch, reason: "Mcp-Name header does not match the body")
        }
        if !ProtocolRevision.modernVersions.contains(version) {
            return Problem(code: unsupportedProtocolVersion, reason: "unsupported protocol version")
        }
        return nil
    }

    /// Why the headers present disagree with `message`; nil when they agree or are absent.
    static func mismatch(_ headers: HTTPHeaders, _ message: MCPMessage) -> String? {
        if let method = headers["Mcp-Method"], method != message.method {
            return "Mcp-Method header does not match the body"
        }
        if let name = headers["Mcp-Name"] {
            guard let decoded = decode(name), let mirrored = mirroredName(message), decoded == mirrored else {
                return "Mcp-Name header does not match the body"
            }
        }
        if let version = message.envelopeVersion, let header = headers["MCP-Protocol-Version"], header != version {
            return "MCP-Protocol-Version header does not match the body"
        }
        return nil
    }

    /// The JSON-RPC error answering `problem` (HTTP 400, as the 2026-07-28 status table maps these codes).
    static func refusal(_ problem: Problem, id: JSON?, requested: String?) -> GatewayRefusal {
        var error: JSON = .object([("code", .int(Int64(problem.code))), ("message", .string(message(for: problem)))])
        if problem.code == unsupportedProtocolVersion {
            error.set("data", .object([("supported", .array(ProtocolRevision.modernVersions.map { .string($0) })),
                                       ("requested", .str(requested))]))
        }
        let body: JSON = .object([("jsonrpc", "2.0"), ("id", id ?? .null), ("error", error)])
        var headers = HTTPHeaders()
        headers["Content-Type"] = "application/json"
        return GatewayRefusal(response: HTTPResponse(status: 400, headers: headers, body: .bytes(body.bytes)), reason: problem.reason)
    }

    private static func message(for problem: Problem) -> String {
        switch problem.code {
        case headerMismatch: return "Header mismatch: \(problem.reason)"
        case unsupportedProtocolVersion: return "Unsupported protocol version"
        default: return "Invalid params: \(problem.reason)"
        }
    }

    /// MCP 2026-07-28: the methods whose requests must carry `Mcp-Name` (the resource subscription methods
    /// of 2025-11-25 are gone from that revision; their header is still checked when present).
    static let requiredNameMethods: Set<String> = ["tools/call", "prompts/get", "resources/read"]

    /// The body field `Mcp-Name` mirrors for this method; nil when the method has none.
    static func mirroredName(_ message: MCPMessage) -> String? {
        switch message.method {
        case "tools/call", "prompts/get": return message.params?["name"]?.stringValue
        case "resources/read", "resources/subscribe", "resources/unsubscribe": return message.params?["uri"]?.stringValue
        default: return nil
        }
    }

    /// A header value as the body carries it: values that cannot ride in an ASCII field arrive as
    /// `=?base64?{standard Base64 of the UTF-8 bytes}?=`; anything else is taken as sent. Nil for a
    /// sentinel that does not decode.
    static func decode(_ value: String) -> String? {
        let prefix = "=?base64?", suffix = "?="
        guard value.hasPrefix(prefix), value.hasSuffix(suffix), value.count >= prefix.count + suffix.count else { return value }
        let payload = String(value.dropFirst(prefix.count).dropLast(suffix.count))
        guard let data = Data(base64Encoded: payload) else { return nil }
        return String(data: data, encoding: .utf8)
    }
}
