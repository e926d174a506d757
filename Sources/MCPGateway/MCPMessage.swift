import MCPAuth

/// The parts of a JSON-RPC message the gateway decides on: method, id, and for `tools/call` the tool.
struct MCPMessage: Sendable {
    let json: JSON
    // Read once when parsed: every step of a request asks for them.
    let method: String?
    let id: JSON?
    let params: JSON?
    /// `params._meta`, when there is one.
    let meta: JSON?
    /// For `tools/call`, the tool.
    let toolName: String?

    init(json: JSON) {
        self.json = json
        method = json["method"]?.stringValue
        id = json["id"]
        params = json["params"]
        meta = params?["_meta"]
        toolName = method == "tools/call" ? params?["name"]?.stringValue : nil
    }

    var isRequest: Bool { method != nil && id != nil && id?.isNull == false }
    var isNotification: Bool { method != nil && (id == nil || id?.isNull == true) }
    /// A response or error sent by the client (to a server-initiated request).
    var isResponse: Bool { method == nil && (json["result"] != nil || json["error"] != nil) }
    var arguments: JSON? { params?["arguments"] }

    enum ParseError: Error { case invalidJSON, notAMessage, batch, ambiguousKey(String) }

    static func parse(_ body: [UInt8]) throws -> MCPMessage {
        let json: JSON
        do { json = try JSON.parse(body) } catch { throw ParseError.invalidJSON }
        // MCP 2025-06-18 removed JSON-RPC batching; 2025-11-25 keeps it removed.
        if case .array = json { throw ParseError.batch }
        guard case .object(let members) = json, json["jsonrpc"]?.stringValue == "2.0" else { throw ParseError.notAMessage }
        // The objects the gateway decides on (the message, its params and their _meta) must read the same
        // to every parser behind it: no name in them may repeat another, exactly or after case folding.
        let m = MCPMessage(json: json)
        if let name = AmbiguousKeys.clash(in: members) ?? m.params?.objectValue.flatMap(AmbiguousKeys.clash)
            ?? m.meta?.objectValue.flatMap(AmbiguousKeys.clash) {
            throw ParseError.ambiguousKey(name)
        }
        guard m.method != nil || m.isResponse else { throw ParseError.notAMessage }
        if m.method == "tools/call", m.toolName == nil { throw ParseError.notAMessage }
        return m
    }

    /// A JSON-RPC error object answering `id`.
    static func error(id: JSON?, code: Int, message: String) -> JSON {
        .object([("jsonrpc", "2.0"), ("id", id ?? .null), ("error", .object([("code", .int(Int64(code))), ("message", .string(message))]))])
    }

    static func result(id: JSON?, _ result: JSON) -> JSON {
        .object([("jsonrpc", "2.0"), ("id", id ?? .null), ("result", result)])
    }
}
