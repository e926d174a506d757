import MCPAuth

/// The gateway's own answer to `server/discover` (MCP 2026-07-28, lifecycle) for an upstream that only
/// speaks the `initialize` handshake: what that upstream's `initialize` answered, in the discover shape.
enum DiscoverAnswer {
    /// The `server/discover` result built from an `initialize` result.
    static func result(fromInitialize initialize: JSON) -> JSON {
        var result: JSON = .object([
            ("supportedVersions", .array(ProtocolRevision.modernVersions.map { .string($0) })),
            ("capabilities", initialize["capabilities"] ?? .object([])),
            ("resultType", "complete"),
            // Answered per caller from the caller's own upstream session: never shared, fresh at once.
            ("cacheScope", "private"),
            ("ttlMs", .int(0)),
        ])
        if let instructions = initialize["instructions"]?.stringValue { result.set("instructions", .string(instructions)) }
        if let info = initialize["serverInfo"], info.objectValue != nil {
            result.set("_meta", .object([(ProtocolRevision.serverInfoKey, info)]))
        }
        return result
    }

    /// The JSON-RPC response to a discover request `id`.
    static func response(id: JSON?, fromInitialize initialize: JSON) -> JSON {
        MCPMessage.result(id: id, result(fromInitialize: initialize))
    }
}
