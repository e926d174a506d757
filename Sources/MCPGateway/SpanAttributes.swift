import Foundation
import MCPAuth

/// The names and attributes of mcpctl's spans, named by the OpenTelemetry semantic conventions where they
/// have a name (HTTP server spans; MCP spans: `mcp.method.name`, `gen_ai.tool.name`), `mcpctl.*` otherwise.
/// Never a credential, a token id, a session id, an email or a client address: spans leave the host
/// for a collector that may keep them anywhere.
enum SpanAttributes {
    /// MCP semantic conventions: `{mcp.method.name} {target}`, the target being the tool; a request
    /// without a JSON-RPC method (GET, DELETE) is named by HTTP method and route.
    static func name(_ r: TracedRequest) -> String {
        guard let method = r.method else { return "\(r.spans.method) /mcp/{app}/{env}" }
        return r.tool.map { "\(method) \($0)" } ?? method
    }

    /// The server span: the HTTP exchange and the MCP request in it.
    static func server(_ r: TracedRequest, serverAddress: String?) -> [(String, TraceSpan.Value)] {
        var a: [(String, TraceSpan.Value)] = [
            ("http.request.method", .string(r.spans.method)),
            ("http.route", .string("/mcp/{app}/{env}")),
            ("url.path", .string(r.spans.path)),
            ("http.response.status_code", .int(Int64(r.status))),
            ("network.protocol.name", .string("http")),
        ]
        if let serverAddress { a.append(("server.address", .string(serverAddress))) }
        a += mcp(r)
        if let version = r.spans.protocolVersion { a.append(("mcp.protocol.version", .string(version))) }
        if let app = r.app { a.append(("mcpctl.app", .string(app))) }
        if let env = r.env { a.append(("mcpctl.env", .string(env))) }
        a.append(("mcpctl.decision", .string(r.allowed ? "allow" : "deny")))
        // HTTP semantic conventions: a server span is an error only for a 5xx, with the status as error.type.
        if r.status >= 500 { a.append(("error.type", .string(String(r.status)))) }
        return a
    }

    /// The upstream call (an MCP client span): where it went, host and port only (a URL's path or query
    /// may hold a credential); a stdio command's transport is a pipe; the built-in app has none.
    static func upstream(_ r: TracedRequest) -> [(String, TraceSpan.Value)] {
        var a = mcp(r)
        if let url = r.spans.upstreamURL.flatMap(URLComponents.init(string:)), let host = url.host {
            a.append(("server.address", .string(host)))
            if let port = url.port ?? (url.scheme == "https" ? 443 : url.scheme == "http" ? 80 : nil) { a.append(("server.port", .int(Int64(port)))) }
            a.append(("network.transport", .string("tcp")))
        } else if r.spans.upstreamIsCommand {
            a.append(("network.transport", .string("pipe")))
        }
        return a
    }

    static func mcp(_ r: TracedRequest) -> [(String, TraceSpan.Value)] {
        guard let method = r.method else { return [] }
        var a: [(String, TraceSpan.Value)] = [("mcp.method.name", .string(method))]
        if let tool = r.tool {
            a.append(("gen_ai.tool.name", .string(tool)))
            a.append(("gen_ai.operation.name", .string("execute_tool")))
        }
        return a
    }
}
