import HTTP
import MCPAuth

/// A request the gateway will not pass on: the answer to send and the reason for its audit row. Every
/// stage throws it; `Gateway.mcp` turns it into the response and the denial row in one place.
struct GatewayRefusal: Error {
    let response: HTTPResponse
    let reason: String

    /// A JSON-RPC error answer (with `headers`, e.g. `Allow`) carried by HTTP status `status`.
    static func jsonRPC(_ status: Int, id: JSON? = nil, code: Int, _ message: String, reason: String,
                        headers: HTTPHeaders = HTTPHeaders()) -> GatewayRefusal {
        GatewayRefusal(response: Gateway.jsonRPCError(status: status, id: id, code: code, message: message, headers: headers), reason: reason)
    }

    /// 503 for a store that could not be read or written: fail closed, say nothing more.
    static func unavailable(id: JSON? = nil) -> GatewayRefusal {
        .jsonRPC(503, id: id, code: -32603, "temporarily unavailable", reason: "store unavailable")
    }

    /// 404 "App not found": the same answer whether the app is missing or merely not granted.
    static func appNotFound(id: JSON?, reason: String) -> GatewayRefusal {
        .jsonRPC(404, id: id, code: -32001, "App not found", reason: reason)
    }

    /// RFC 6750 §3: 401 with its `WWW-Authenticate` challenge.
    static func unauthorized(metadataURL: String, tokenPresented: Bool, reason: String) -> GatewayRefusal {
        GatewayRefusal(response: AuthChallenge.unauthorized(metadataURL: metadataURL, tokenPresented: tokenPresented), reason: reason)
    }
}
