import Dispatch
import Foundation
import HTTP
import MCPAuth
import Synchronization

/// A tiny Streamable HTTP MCP server for the gateway to forward to. Paths choose the flavour:
/// `/json` answers `application/json`, `/sse` answers every request with an event stream (a notification,
/// then the response), `/plain` answers JSON labelled `text/plain`, `/paged` lists its tools in two pages,
/// `/nan` and `/nansse` answer tools/list with a `NaN` in it (not JSON), as JSON and as an event stream;
/// `/changing` is `/sse` whose `retool` tool makes read_notes destructive and announces the list changed.
/// It records every request it receives (headers and body) for the tests to inspect.
final class FakeUpstream: Sendable {
    struct Seen: Sendable {
        let method: String
        let path: String
        let headers: HTTPHeaders
        let body: [UInt8]
        var json: JSON? { try? JSON.parse(body) }
    }

    static let tools: [JSON] = [
        tool("read_notes", .object([("readOnlyHint", true)])),
        tool("add_note", .object([("readOnlyHint", false), ("destructiveHint", false)])),
        tool("delete_note", .object([("destructiveHint", true)])),
        tool("mystery", nil),
    ]
    /// The second page of `/paged`.
    static let lateTools: [JSON] = [tool("late_reader", .object([("readOnlyHint", true)]))]

    static func tool(_ name: String, _ annotations: JSON?) -> JSON {
        var t: JSON = .object([("name", .string(name)), ("description", .string("the \(name) tool")),
                               ("inputSchema", .object([("type", "object")]))])
        if let annotations { t.set("annotations", annotations) }
        return t
    }

    private let state = State()
    let server: HTTPServer
    let port: Int

    final class State: Sendable {
        let seen = Guarded<[Seen]>([])
        let sessions = Guarded<Set<String>>([])
        let counter = Atomic<Int>(0)
        /// Set by a `retool` call on `/changing`: read_notes is listed as destructive from then on.
        let retooled = Atomic<Bool>(false)
        /// The GET stream sends its second event only after the test signals this.
        let streamGate = DispatchSemaphore(value: 0)
    }

    init() throws {
        let state = self.state
        var hc = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
        hc.threadStackSize = 512 * 1024
        server = HTTPServer(configuration: hc) { FakeUpstream.handle($0, state) }
        port = try server.start()
    }

    func close() {
        state.streamGate.signal()
        server.shutdown(gracePeriod: 1)
    }

    var requests: [Seen] { state.seen.withLock { $0 } }
    /// POSTed JSON-RPC methods, in order.
    var methods: [String] { requests.compactMap { $0.json?["method"]?.stringValue } }
    func releaseStream() { state.streamGate.signal() }

    static func handle(_ request: HTTPRequest, _ state: State) -> HTTPResponse {
        state.seen.withLock { $0.append(Seen(method: request.method, path: request.path, headers: request.headers, body: request.body)) }
        var headers = HTTPHeaders()
        if let v = request.headers["MCP-Protocol-Version"] { headers["MCP-Protocol-Version"] = v }
        let session = request.headers["Mcp-Session-Id"]
        if let session, !state.sessions.withLock({ $0.contains(session) }) {
            return HTTPResponse(status: 404, headers: headers, body: .bytes(Array(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}"#.utf8)))
        }
        switch request.method {
        case "DELETE":
            guard let session else { return HTTPResponse(status: 400) }
            _ = state.sessions.withLock { $0.remove(session) }
            return HTTPResponse(status: 204, headers: headers)
        case "GET":
            headers["Content-Type"] = "text/event-stream"
            headers["Cache-Control"] = "no-cache"
            return HTTPResponse(status: 200, headers: headers, body: .stream { writer in
                try writer.write(SSEEvent(event: "message", data: #"{"jsonrpc":"2.0","method":"notifications/first"}"#, id: "1").encoded())
                _ = state.streamGate.wait(timeout: .now() + 10)
                try writer.write(SSEEvent(event: "message", data: #"{"jsonrpc":"2.0","method":"notifications/second"}"#, id: "2").encoded())
            })
        case "POST": break
        default:
            return HTTPResponse(status: 405, headers: HTTPHeaders([("Allow", "GET, POST, DELETE")]))
        }
        guard let json = try? JSON.parse(request.body) else { return HTTPResponse(status: 400) }
        guard let method = json["method"]?.stringValue else {
            // A client's response to a server-initiated request (transport: 202 Accepted).
            return HTTPResponse(status: json["result"] != nil || json["error"] != nil ? 202 : 400, headers: headers)
        }
        guard let id = json["id"], !id.isNull else { return HTTPResponse(status: 202, headers: headers) }
        let result: JSON
        switch method {
        case "initialize":
            let n = state.counter.add(1, ordering: .relaxed).newValue
            let sid = "up-session-\(n)"
            state.sessions.withLock { _ = $0.insert(sid) }
            headers["Mcp-Session-Id"] = sid
            result = .object([("protocolVersion", json["params"]?["protocolVersion"] ?? "2025-11-25"),
                              ("capabilities", .object([("tools", .object([]))])),
                              ("serverInfo", .object([("name", "fake-upstream"), ("version", "1")]))])
        case "tools/list" where request.path == "/nan" || request.path == "/nansse":
            // NaN is not JSON, but lenient client parsers (Python's) accept it: passed on, the whole list would show.
            let text = #"{"jsonrpc":"2.0","id":\#(id.encoded()),"result":{"tools":\#(JSON.array(tools).encoded()),"weight":NaN}}"#
            if request.path == "/nan" {
                headers["Content-Type"] = "application/json"
                return HTTPResponse(status: 200, headers: headers, body: .bytes(Array(text.utf8)))
            }
            headers["Content-Type"] = "text/event-stream"
            return HTTPResponse(status: 200, headers: headers, body: .bytes(SSEEvent(event: "message", data: text).encoded()))
        case "tools/list":
            if request.path == "/paged" {
                if json["params"]?["cursor"]?.stringValue == "2" {
                    result = .object([("tools", .array(lateTools))])
                } else {
                    result = .object([("tools", .array(tools)), ("nextCursor", "2")])
                }
            } else if state.retooled.load(ordering: .relaxed) {
                result = .object([("tools", .array([tool("read_notes", .object([("destructiveHint", true)]))] + tools.dropFirst()))])
            } else {
                result = .object([("tools", .array(tools))])
            }
        case "tools/call":
            let name = json["params"]?["name"]?.stringValue ?? ""
            if request.path == "/changing", name == "retool" { state.retooled.store(true, ordering: .relaxed) }
            result = .object([("content", .array([.object([("type", "text"), ("text", .string("upstream did \(name)"))])])), ("isError", false)])
        case "ping":
            result = .object([])
        default:
            let error: JSON = .object([("jsonrpc", "2.0"), ("id", id), ("error", .object([("code", .int(-32601)), ("message", "Method not found")]))])
            headers["Content-Type"] = "application/json"
            return HTTPResponse(status: 200, headers: headers, body: .bytes(error.bytes))
        }
        let response: JSON = .object([("jsonrpc", "2.0"), ("id", id), ("result", result)])
        switch request.path {
        case "/sse", "/changing":
            headers["Content-Type"] = "text/event-stream"
            let changed = request.path == "/changing" && json["params"]?["name"]?.stringValue == "retool"
            let first = changed ? #"{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}"#
                                : #"{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"working"}}"#
            return HTTPResponse(status: 200, headers: headers, body: .stream { writer in
                try writer.write(SSEEvent(event: "message", data: first).encoded())
                try writer.write(SSEEvent(event: "message", data: response.encoded(), id: "ev-1").encoded())
            })
        case "/plain":
            headers["Content-Type"] = "text/plain"
        default:
            headers["Content-Type"] = "application/json"
        }
        return HTTPResponse(status: 200, headers: headers, body: .bytes(response.bytes))
    }
}
