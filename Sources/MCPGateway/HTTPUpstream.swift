import Foundation
import HTTP
import MCPAuth

/// Forwards MCP Streamable HTTP requests to an HTTP(S) upstream: only MCP headers go along (never the
/// client's credentials, cookies or Origin); JSON and SSE answers come back as the upstream sent them,
/// except that `tools/list` results are narrowed to what the caller may call.
struct HTTPUpstream {
    let client: HTTPClient
    let timeout: Double

    /// Request headers passed to the upstream (MCP 2025-11-25 transport and the 2026-07-28 additions).
    static let forwardedRequestHeaders = ["Content-Type", "Accept", "Mcp-Session-Id", "MCP-Protocol-Version",
                                          "Last-Event-ID", "Mcp-Method", "Mcp-Name"]
    static let forwardedResponseHeaders = ["Content-Type", "Mcp-Session-Id", "MCP-Protocol-Version", "Cache-Control", "Allow"]

    struct Outcome {
        let response: HTTPResponse
        let status: Int
        let reason: String?
    }

    /// `filter` rewrites a JSON-RPC message from the upstream (used for tools/list); nil passes bytes through.
    func forward(_ request: HTTPRequest, to url: String, filter: (@Sendable (JSON) -> JSON)?) -> Outcome {
        var headers = HTTPHeaders()
        for name in HTTPUpstream.forwardedRequestHeaders {
            for value in request.headers.values(for: name) { headers.add(name, value) }
        }
        if request.method == "POST", headers["Accept"] == nil { headers["Accept"] = "application/json, text/event-stream" }
        headers["User-Agent"] = "mcpctl-gateway"
        guard let upstreamRequest = HTTPClientRequest(method: request.method, url: url, headers: headers,
                                                      body: request.method == "POST" ? request.body : [], timeout: timeout) else {
            return Outcome(response: Gateway.jsonRPCError(status: 502, id: nil, code: -32603, message: "upstream URL is invalid"),
                           status: 502, reason: "invalid upstream URL")
        }
        let upstream: HTTPClientResponse
        do {
            upstream = try client.send(upstreamRequest)
        } catch {
            return Outcome(response: Gateway.jsonRPCError(status: 502, id: nil, code: -32603, message: "upstream unavailable"),
                           status: 502, reason: "upstream unavailable: \(error)")
        }
        var out = HTTPHeaders()
        for name in HTTPUpstream.forwardedResponseHeaders {
            for value in upstream.headers.values(for: name) { out.add(name, value) }
        }
        let contentType = (upstream.headers["Content-Type"] ?? "").lowercased()
        if contentType.hasPrefix("text/event-stream") {
            let response = HTTPResponse(status: upstream.status, headers: out, body: .stream { writer in
                defer { upstream.close() }
                if let filter {
                    var parser = SSEParser()
                    while let chunk = try HTTPUpstream.readChunk(upstream, writer) {
                        for event in parser.feed(chunk) {
                            var e = event
                            if let json = try? JSON.parse(event.data) { e.data = filter(json).encoded() }
                            try writer.write(e.encoded())
                        }
                    }
                } else {
                    while let chunk = try HTTPUpstream.readChunk(upstream, writer) { try writer.write(chunk) }
                }
            })
            return Outcome(response: response, status: upstream.status, reason: nil)
        }
        let body: [UInt8]
        do { body = try upstream.readAll(limit: 16 * 1024 * 1024) } catch {
            upstream.close()
            return Outcome(response: Gateway.jsonRPCError(status: 502, id: nil, code: -32603, message: "upstream answer unreadable"),
                           status: 502, reason: "upstream body: \(error)")
        }
        var finalBody = body
        if let filter, contentType.hasPrefix("application/json"), let json = try? JSON.parse(body) {
            finalBody = filter(json).bytes
        }
        return Outcome(response: HTTPResponse(status: upstream.status, headers: out, body: .bytes(finalBody)),
                       status: upstream.status, reason: upstream.status >= 400 ? "upstream answered \(upstream.status)" : nil)
    }

    /// Reads the next chunk; on a quiet long-lived stream, sends an SSE comment as a keep-alive (which
    /// also notices a client that went away) and keeps waiting.
    static func readChunk(_ upstream: HTTPClientResponse, _ writer: any HTTPBodyWriter) throws -> [UInt8]? {
        while true {
            do { return try upstream.readChunk() } catch HTTPClientError.timedOut {
                try writer.write(SSEEvent.comment("keep-alive"))
            }
        }
    }
}
