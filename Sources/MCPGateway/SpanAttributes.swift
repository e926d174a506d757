import Foundation

/// The names and attributes of mcpctl's spans, named by the OpenTelemetry semantic conventions where they
/// have a name (HTTP server spans; MCP spans: `mcp.method.name`, `gen_ai.tool.name`), `mcpctl.*` otherwise.
/// Never a credential, a token id, a session id, an email or a client address: spans leave the host
/// for a collector that may keep them anywhere.
enum SpanAttributes {
    /// MCP semantic conventions: `{mcp.method.name} {target}`, the target being the tool; a request
    /// without a JSON-RPC method (GET, DELETE) is named by HTTP method and route.
    static func name(_ r: TracedRequest, into w: inout OTLPJSON) {
        w.raw("\"")
        if let method = r.method {
            w.escaped(method)
            if let tool = r.tool {
                w.raw(" ")
                w.escaped(tool)
            }
        } else {
            w.escaped(r.spans.method)
            w.raw(" /mcp/{app}/{env}")
        }
        w.raw("\"")
    }

    /// The server span: the HTTP exchange and the MCP request in it.
    static func server(_ r: TracedRequest, serverAddress: String?, into w: inout OTLPJSON) {
        w.attribute("http.request.method", r.spans.method)
        w.attribute("http.route", constant: "/mcp/{app}/{env}")
        w.attribute("url.path", r.spans.path)
        w.attribute("http.response.status_code", int: Int64(r.status))
        w.attribute("network.protocol.name", constant: "http")
        if let serverAddress { w.attribute("server.address", serverAddress) }
        mcp(r, into: &w)
        if let version = r.spans.protocolVersion { w.attribute("mcp.protocol.version", version) }
        if let app = r.app { w.attribute("mcpctl.app", app) }
        if let env = r.env { w.attribute("mcpctl.env", env) }
        w.attribute("mcpctl.decision", constant: r.allowed ? "allow" : "deny")
        // HTTP semantic conventions: a server span is an error only for a 5xx, with the status as error.type.
        if r.status >= 500 { w.attribute("error.type", String(r.status)) }
    }

    /// The upstream call (an MCP client span): where it went, host and port only (a URL's path or query
    /// may hold a credential); a stdio command's transport is a pipe; the built-in app has none.
    static func upstream(_ r: TracedRequest, _ servers: inout UpstreamServers, into w: inout OTLPJSON) {
        mcp(r, into: &w)
        if let url = r.spans.upstreamURL, let (host, port) = servers.server(of: url) {
            w.attribute("server.address", host)
            if let port { w.attribute("server.port", int: Int64(port)) }
            w.attribute("network.transport", constant: "tcp")
        } else if r.spans.upstreamIsCommand {
            w.attribute("network.transport", constant: "pipe")
        }
    }

    static func mcp(_ r: TracedRequest, into w: inout OTLPJSON) {
        guard let method = r.method else { return }
        w.attribute("mcp.method.name", method)
        if let tool = r.tool {
            w.attribute("gen_ai.tool.name", tool)
            w.attribute("gen_ai.operation.name", constant: "execute_tool")
        }
    }
}

/// The host and port of each upstream URL, parsed once (on the exporter's thread only).
struct UpstreamServers {
    private var known: [String: (host: String, port: Int?)?] = [:]
    /// The URL asked for last and its answer: requests come in runs to one upstream.
    private var last: (url: String, server: (host: String, port: Int?)?)?

    mutating func server(of url: String) -> (host: String, port: Int?)? {
        if let last, last.url == url { return last.server }
        let server = lookUp(url)
        last = (url, server)
        return server
    }

    private mutating func lookUp(_ url: String) -> (host: String, port: Int?)? {
        if let found = known[url] { return found }
        var parsed: (host: String, port: Int?)?
        if let c = URLComponents(string: url), let host = c.host {
            parsed = (host, c.port ?? (c.scheme == "https" ? 443 : c.scheme == "http" ? 80 : nil))
        }
        if known.count > 1024 { known.removeAll() }
        known[url] = parsed
        return parsed
    }
}
