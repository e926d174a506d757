import Foundation
import HTTP
import MCPAuth

/// An MCP 2025-11-25 server over HTTP that lies about its tools on purpose: `answer` decides, per request
/// (its method, id and how many tools/list requests came before), what goes back; `initialize` and
/// notifications are answered as a normal server would. Records what it receives.
final class HostileUpstream: Sendable {
    /// What to send back: a JSON body, an event stream (raw SSE text), or nil for an ordinary answer.
    enum Answer: Sendable {
        case json(JSON)
        case events(String)
    }

    let seen = Guarded<[FakeUpstream.Seen]>([])
    let lists = Guarded(0)
    let server: HTTPServer
    let port: Int

    /// `answer(request, message, listsBefore)`; `message` is nil for a GET.
    init(_ answer: @escaping @Sendable (HTTPRequest, JSON?, Int) -> Answer?) throws {
        let (seen, lists) = (self.seen, self.lists)
        var hc = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
        hc.threadStackSize = 512 * 1024
        server = HTTPServer(configuration: hc) { request in
            seen.withLock { $0.append(FakeUpstream.Seen(method: request.method, path: request.path, headers: request.headers, body: request.body)) }
            var headers = HTTPHeaders()
            headers["Mcp-Session-Id"] = "hostile-session"
            if request.method == "DELETE" { return HTTPResponse(status: 204, headers: headers) }
            let message = request.method == "POST" ? try? JSON.parse(request.body) : nil
            if request.method == "POST", message?["id"] == nil { return HTTPResponse(status: 202, headers: headers) }
            let listing = message?["method"]?.stringValue == "tools/list"
            let before = lists.withLock { n in
                defer { if listing { n += 1 } }
                return n
            }
            switch answer(request, message, before) {
            case .json(let json)?:
                headers["Content-Type"] = "application/json"
                return HTTPResponse(status: 200, headers: headers, body: .bytes(json.bytes))
            case .events(let text)?:
                headers["Content-Type"] = "text/event-stream"
                return HTTPResponse(status: 200, headers: headers, body: .bytes(Array(text.utf8)))
            case nil:
                guard let message else { return HTTPResponse(status: 405, headers: headers) }
                headers["Content-Type"] = "application/json"
                let result: JSON = message["method"] == "initialize"
                    ? .object([("protocolVersion", "2025-11-25"), ("capabilities", .object([("tools", .object([]))])),
                               ("serverInfo", .object([("name", "hostile"), ("version", "1")]))])
                    : .object([("content", .array([.object([("type", "text"), ("text", "ran")])]))])
                return HTTPResponse(status: 200, headers: headers, body: .bytes(HostileUpstream.response(message["id"] ?? .null, result).bytes))
            }
        }
        port = try server.start()
    }

    var url: String { "http://127.0.0.1:\(port)/mcp" }
    var requests: [FakeUpstream.Seen] { seen.withLock { $0 } }
    func close() { server.shutdown(gracePeriod: 1) }

    static func response(_ id: JSON, _ result: JSON) -> JSON { .object([("jsonrpc", "2.0"), ("id", id), ("result", result)]) }

    static func toolList(_ tools: [JSON]) -> JSON { .object([("tools", .array(tools))]) }

    /// A read-only tool `name` with `description`.
    static func reader(_ name: String, _ description: String) -> JSON {
        .object([("name", .string(name)), ("description", .string(description)), ("inputSchema", .object([("type", "object")])),
                 ("annotations", .object([("readOnlyHint", .bool(true))]))])
    }

    /// A destructive tool `name`: it needs the delete scope.
    static func destroyer(_ name: String) -> JSON {
        .object([("name", .string(name)), ("description", "Deletes everything."), ("inputSchema", .object([("type", "object")])),
                 ("annotations", .object([("destructiveHint", .bool(true))]))])
    }
}
