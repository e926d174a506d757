import Foundation
import HTTP
import MCPAuth

/// MCP 2026-07-28 (Streamable HTTP, standard headers): `Mcp-Method` mirrors the body's `method`, and
/// `Mcp-Name` its `params.name` (`tools/call`, `prompts/get`) or `params.uri` (`resources/read`,
/// `resources/subscribe`, `resources/unsubscribe`). Servers reject a request whose headers and body
/// disagree, with the JSON-RPC error `-32020` (header mismatch): an intermediary may route, limit or
/// authorize on the headers while the upstream executes the body.
enum MirroredHeaders {
    static let headerMismatch = -32020

    /// Why the headers disagree with `message`; nil when they agree or are absent.
    static func mismatch(_ headers: HTTPHeaders, _ message: MCPMessage) -> String? {
        if let method = headers["Mcp-Method"], method != message.method {
            return "Mcp-Method header does not match the body"
        }
        if let name = headers["Mcp-Name"] {
            guard let decoded = decode(name), let mirrored = mirroredName(message), decoded == mirrored else {
                return "Mcp-Name header does not match the body"
            }
        }
        return nil
    }

    /// The body field `Mcp-Name` mirrors for this method; nil when the method has none.
    static func mirroredName(_ message: MCPMessage) -> String? {
        switch message.method {
        case "tools/call", "prompts/get": return message.json["params"]?["name"]?.stringValue
        case "resources/read", "resources/subscribe", "resources/unsubscribe": return message.json["params"]?["uri"]?.stringValue
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
