import Foundation
import HTTP
import MCPAuth

/// Forwards MCP Streamable HTTP requests to an HTTP(S) upstream: only MCP headers go along (never the
/// client's credentials, cookies or Origin); JSON and SSE answers come back as the upstream sent them,
/// except that `tools/list` results are narrowed to what the caller may call.
struct HTTPUpstream {
    let client: HTTPClient
    let timeout: Double
    /// Upstream URLs parsed once, not on every request.
    let urls = MemoCache<URL?>()

    /// Request headers passed to the upstream (MCP 2025-11-25 transport and the 2026-07-28 additions).
    static let forwardedRequestHeaders = ["Content-Type", "Accept", "Mcp-Session-Id", "MCP-Protocol-Version",
                                          "Last-Event-ID", "Mcp-Method", "Mcp-Name"]
    /// The largest JSON answer taken from an upstream (SSE streams pass through piece by piece).
    static let maxAnswerBytes = 16 * 1024 * 1024
    static let forwardedResponseHeaders = ["Content-Type", "Mcp-Session-Id", "MCP-Protocol-Version", "Cache-Control", "Allow"]

    struct Outcome {
        let response: HTTPResponse
        let status: Int
        let reason: String?
    }

    /// `filter` rewrites a JSON-RPC message from the upstream (used for tools/list); nil passes bytes through.
    /// `stillAllowed` is asked before each piece of a streamed answer is passed on; once it says no, the
    /// stream ends (a GET stream can outlive the token that opened it).
    func forward(_ request: HTTPRequest, to url: String, filter: (@Sendable (JSON) -> JSON)?,
                 stillAllowed: (@Sendable () -> Bool)? = nil) -> Outcome {
        var headers = HTTPHeaders()
        for name in HTTPUpstream.forwardedRequestHeaders {
            for value in request.headers.values(for: name) { headers.add(name, value) }
        }
        if request.method == "POST", headers["Accept"] == nil { headers["Accept"] = "application/json, text/event-stream" }
        headers["User-Agent"] = "mcpctl-gateway"
        guard let parsed = urls.value(url, { URL(string: $0) }) else {
            return Outcome(response: Gateway.jsonRPCError(status: 502, id: nil, code: -32603, message: "upstream URL is invalid"),
                           status: 502, reason: "invalid upstream URL")
        }
        // An https answer is buffered whole (CurlTransport), so a standing GET event stream would never
        // deliver anything. MCP 2025-11-25 (transport, "Listening for Messages from the Server") lets a
        // server answer that GET with 405, which clients expect, instead of holding it until the timeout.
        if request.method == "GET", parsed.scheme?.lowercased() == "https" {
            var h = HTTPHeaders()
            h["Allow"] = "POST, DELETE"
            return Outcome(response: HTTPResponse(status: 405, headers: h), status: 405,
                           reason: "no event stream from an https upstream (answers are buffered)")
        }
        var upstreamRequest = HTTPClientRequest(method: request.method, url: parsed, headers: headers,
                                                body: request.method == "POST" ? request.body : [], timeout: timeout)
        upstreamRequest.responseLimit = HTTPUpstream.maxAnswerBytes  // https answers are buffered whole: bound them
        let upstream: HTTPClientResponse
        do {
            upstream = try client.send(upstreamRequest)
        } catch {
            return Outcome(response: Gateway.jsonRPCError(status: 502, id: nil, code: -32603, message: "upstream unavailable"),
                           status: 502, reason: "upstream unavailable: \(error)")
        }
        // The client's credentials are never sent upstream (issue 4 item 5), so an upstream 401/403 is about
        // the gateway, not the caller: passed on as-is it would send an OAuth client into re-authorization
        // against our server for nothing. RFC 9110 §15.6.3: 502, the upstream's answer was not usable.
        if upstream.status == 401 || upstream.status == 403 {
            upstream.close()
            return Outcome(response: Gateway.jsonRPCError(status: 502, id: nil, code: -32603,
                                                          message: "upstream refused the gateway (HTTP \(upstream.status))"),
                           status: 502, reason: "upstream answered \(upstream.status)")
        }
        var out = HTTPHeaders()
        for name in HTTPUpstream.forwardedResponseHeaders {
            for value in upstream.headers.values(for: name) { out.add(name, value) }
        }
        let contentType = (upstream.headers["Content-Type"] ?? "").lowercased()
        if contentType.hasPrefix("text/event-stream") {
            let allowed = stillAllowed ?? { true }
            let response = HTTPResponse(status: upstream.status, headers: out, body: .stream { writer in
                defer { upstream.close() }
                if let filter {
                    var parser = SSEParser()
                    while let chunk = try HTTPUpstream.readChunk(upstream, writer, allowed) {
                        for event in parser.feed(chunk) {
                            var e = event
                            if let json = try? JSON.parse(event.data) { e.data = filter(json).encoded() }
                            try writer.write(e.encoded())
                        }
                    }
                } else {
                    while let chunk = try HTTPUpstream.readChunk(upstream, writer, allowed) { try writer.write(chunk) }
                }
            })
            return Outcome(response: response, status: upstream.status, reason: nil)
        }
        let body: [UInt8]
        do { body = try upstream.readAll(limit: HTTPUpstream.maxAnswerBytes) } catch {
            upstream.close()
            return Outcome(response: Gateway.jsonRPCError(status: 502, id: nil, code: -32603, message: "upstream answer unreadable"),
                           status: 502, reason: "upstream body: \(error)")
        }
        var finalBody = body
        // Whatever the label (an upstream may send JSON as text/plain or without a type), a JSON answer to
        // tools/list is narrowed: an unfiltered list would show tools the caller may not call (DESIGN.md §5).
        if let filter, let json = try? JSON.parse(body) {
            finalBody = filter(json).bytes
        }
        return Outcome(response: HTTPResponse(status: upstream.status, headers: out, body: .bytes(finalBody)),
                       status: upstream.status, reason: upstream.status >= 400 ? "upstream answered \(upstream.status)" : nil)
    }

    /// Reads the next chunk; on a quiet long-lived stream, sends an SSE comment as a keep-alive (which
    /// also notices a client that went away) and keeps waiting. Nil (the end) once `allowed` says the
    /// caller may no longer receive anything: issue 4 item 7, a revoked token, disabled user or removed
    /// grant takes effect at once, on open streams too.
    static func readChunk(_ upstream: HTTPClientResponse, _ writer: any HTTPBodyWriter, _ allowed: () -> Bool) throws -> [UInt8]? {
        while true {
            do {
                guard let chunk = try upstream.readChunk() else { return nil }
                return allowed() ? chunk : nil
            } catch HTTPClientError.timedOut {
                guard allowed() else { return nil }
                try writer.write(SSEEvent.comment("keep-alive"))
            }
        }
    }
}
