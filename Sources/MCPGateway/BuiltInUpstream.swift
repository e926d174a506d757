import HTTP
import MCPAuth

/// The built-in app as an upstream: answered in process, with no sessions to own.
struct BuiltInUpstream: Upstream {
    let pool: StorePool

    func owns(session: String, user: Int64, app: String, env: String) throws -> Bool { true }

    func forward(_ call: UpstreamCall) throws -> UpstreamOutcome {
        let response = answer(call)
        return UpstreamOutcome(response: response, status: response.status, reason: nil)
    }

    private func answer(_ call: UpstreamCall) -> HTTPResponse {
        guard call.request.method == "POST", let message = call.message else {
            var h = HTTPHeaders(); h["Allow"] = "POST"
            return HTTPResponse(status: 405, headers: h)
        }
        do {
            let answer = try pool.with { store -> JSON? in
                let app = BuiltInApp(store: store, principal: call.principal, effective: call.decision.effective)
                return BuiltInUpstream.isDiscover(message) ? discover(app, message) : app.answer(message)
            }
            guard let answer else { return HTTPResponse(status: 202) }
            // tools/list shows only the tools the caller may call: the built-in list too
            // (an operator override may put a built-in tool out of the caller's reach).
            return .json((try call.filter.map { try $0(answer) } ?? answer).bytes)
        } catch {
            return Gateway.jsonRPCError(status: 500, id: message.id, code: -32603, message: "internal error")
        }
    }

    static func isDiscover(_ message: MCPMessage) -> Bool { message.method == "server/discover" && message.isRequest }

    /// MCP 2026-07-28: the built-in app answers `server/discover` with what its `initialize` says.
    private func discover(_ app: BuiltInApp, _ message: MCPMessage) -> JSON {
        let initialize = MCPMessage(json: .object([("jsonrpc", "2.0"), ("id", "discover"), ("method", "initialize"),
                                                  ("params", .object([("protocolVersion", .string(ProtocolRevision.latestHandshake))]))]))
        return DiscoverAnswer.response(id: message.id, fromInitialize: app.answer(initialize)?["result"] ?? .object([]))
    }
}
