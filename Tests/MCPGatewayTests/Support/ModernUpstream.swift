import Foundation
import HTTP
import MCPAuth

/// A tiny MCP 2026-07-28 server over HTTP for the gateway to forward to: no sessions; it answers
/// `server/discover` with that revision and every other request with a result stamped `resultType`, and
/// records what it receives.
final class ModernUpstream: Sendable {
    let seen = Guarded<[FakeUpstream.Seen]>([])
    let server: HTTPServer
    let port: Int

    init() throws {
        let seen = self.seen
        var hc = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
        hc.threadStackSize = 512 * 1024
        server = HTTPServer(configuration: hc) { request in
            seen.withLock { $0.append(FakeUpstream.Seen(method: request.method, path: request.path, headers: request.headers, body: request.body)) }
            guard let json = try? JSON.parse(request.body), let method = json["method"]?.stringValue else { return HTTPResponse(status: 400) }
            let result: JSON
            switch method {
            case "server/discover":
                result = .object([("supportedVersions", .array(["2026-07-28"])), ("capabilities", .object([("tools", .object([]))])),
                                  ("resultType", "complete"), ("ttlMs", .int(0)), ("cacheScope", "public")])
            case "tools/list":
                result = .object([("tools", .array(FakeUpstream.tools)), ("resultType", "complete"), ("ttlMs", .int(300_000)), ("cacheScope", "public")])
            default:
                result = .object([("content", .array([])), ("resultType", "complete")])
            }
            return .json(JSON.object([("jsonrpc", "2.0"), ("id", json["id"] ?? .null), ("result", result)]).bytes)
        }
        port = try server.start()
    }

    var requests: [FakeUpstream.Seen] { seen.withLock { $0 } }
    func close() { server.shutdown(gracePeriod: 1) }
}
