import Foundation
import HTTP
import MCPAuth

/// Forwards MCP Streamable HTTP requests to an HTTP(S) upstream: only MCP headers go along (never the
/// client's credentials, cookies or Origin); JSON and SSE answers come back as the upstream sent them,
/// except that `tools/list` results are narrowed to what the caller may call.
struct HTTPUpstream {
    let client: HTTPClient
    /// Seconds an upstream may take, unless its app environment sets its own.
    let timeout: Double
    /// Answers read whole are charged here while the gateway holds them.
    let budget: AnswerBudget
    /// Who opened each MCP session of an HTTP upstream.
    let owners: SessionOwners
    /// Asked again before each piece of a streamed answer.
    let check: AccessCheck
    let log: RequestLog
    /// The values of each environment's `--upstream-header` references.
    let credentials: UpstreamCredentials
    /// Upstream URLs parsed once, not on every request.
    let urls = MemoCache<URL?>()

    /// Request headers passed to the upstream (MCP 2025-11-25 transport and the 2026-07-28 additions).
    /// Not the caller's `traceparent` or `tracestate`: the upstream gets the gateway's span instead (`trace`).
    static let forwardedRequestHeaders = ["Content-Type", "Accept", "Mcp-Session-Id", "MCP-Protocol-Version",
                                          "Last-Event-ID", "Mcp-Method", "Mcp-Name"]
    /// MCP 2026-07-28 (transports, custom headers): `Mcp-Param-{name}` mirrors a tool argument; the
    /// upstream checks it against the body, so it goes along.
    static let forwardedRequestHeaderPrefix = "mcp-param-"
    /// The largest JSON answer taken from an upstream (SSE streams pass through piece by piece).
    static let maxAnswerBytes = 16 * 1024 * 1024
    static let forwardedResponseHeaders = ["Content-Type", "Mcp-Session-Id", "MCP-Protocol-Version", "Cache-Control", "Allow"]

    typealias Outcome = UpstreamOutcome

    /// `filter` narrows every tool list in the answer (a JSON body, or any event of a stream, whatever its
    /// id); nil passes bytes through. With `listsTools` (a tools/list request) the answer is read whole
    /// and refused unless every message in it could be read and narrowed.
    /// `stillAllowed` is asked before each piece of a streamed answer is passed on; once it says no, the
    /// stream ends (a GET stream can outlive the token that opened it).
    /// `toolsChanged` is called when an event stream relays `notifications/tools/list_changed`.
    /// `trace`: the gateway's span, sent as `traceparent` (and `tracestate`).
    func forward(_ request: HTTPRequest, to url: String, timeout appTimeout: Double? = nil, filter: ToolListFilter.Apply?,
                 listsTools: Bool = false, stillAllowed: (@Sendable () -> Bool)? = nil, toolsChanged: @escaping @Sendable () -> Void = {},
                 upstreamHeaders: [(name: String, value: String)] = [], trace: TraceContext? = nil) -> Outcome {
        let reading = Reading(request: request, appTimeout: appTimeout, filter: filter, listsTools: listsTools,
                              stillAllowed: stillAllowed, toolsChanged: toolsChanged)
        switch outbound(request, to: url, timeout: appTimeout, upstreamHeaders: upstreamHeaders, trace: trace) {
        case .answered(let outcome):
            return outcome
        case .send(let upstreamRequest):
            do {
                return outcome(of: try client.send(upstreamRequest), reading)
            } catch {
                return HTTPUpstream.failed(error, doing: "upstream unavailable")
            }
        }
    }

    /// `forward`, without holding this thread while the upstream works: `then` gets the outcome once the
    /// answer has arrived, on the event loop that waited for it or on a worker that read it (see
    /// `HTTPClient.send(_:then:)`); an answer to narrow is narrowed off the loop.
    func forward(_ request: HTTPRequest, to url: String, timeout appTimeout: Double? = nil, filter: ToolListFilter.Apply?,
                 listsTools: Bool = false, stillAllowed: (@Sendable () -> Bool)? = nil, toolsChanged: @escaping @Sendable () -> Void = {},
                 upstreamHeaders: [(name: String, value: String)] = [], trace: TraceContext? = nil,
                 then: @escaping @Sendable (Outcome) -> Void) {
        let reading = Reading(request: request, appTimeout: appTimeout, filter: filter, listsTools: listsTools,
                              stillAllowed: stillAllowed, toolsChanged: toolsChanged)
        switch outbound(request, to: url, timeout: appTimeout, upstreamHeaders: upstreamHeaders, trace: trace) {
        case .answered(let outcome):
            then(outcome)
        case .send(let upstreamRequest):
            client.send(upstreamRequest) { result in
                switch result {
                case .success(let upstream):
                    switch read(upstream, reading) {
                    case .done(let outcome): then(outcome)
                    // Narrowing reads and writes the store: not on the loop thread.
                    case .toNarrow(let answer): LoopThread.elsewhere { then(narrowed(answer, reading)) }
                    }
                case .failure(let error): then(HTTPUpstream.failed(error, doing: "upstream unavailable"))
                }
            }
        }
    }

    /// What the answer to a forwarded request is read with.
    struct Reading: Sendable {
        let request: HTTPRequest
        let appTimeout: Double?
        let filter: ToolListFilter.Apply?
        let listsTools: Bool
        let stillAllowed: (@Sendable () -> Bool)?
        let toolsChanged: @Sendable () -> Void
    }

    /// The request to send upstream, or the answer when none goes.
    enum Outbound {
        case answered(Outcome)
        case send(HTTPClientRequest)
    }

    /// Only MCP headers go along, with the environment's own credentials and the gateway's span.
    func outbound(_ request: HTTPRequest, to url: String, timeout appTimeout: Double?, upstreamHeaders: [(name: String, value: String)],
                  trace: TraceContext?) -> Outbound {
        var headers = request.headers.selecting(HTTPUpstream.forwardedRequestHeaders, orPrefix: HTTPUpstream.forwardedRequestHeaderPrefix)
        if request.method == "POST", headers["Accept"] == nil { headers["Accept"] = "application/json, text/event-stream" }
        headers["User-Agent"] = "mcpctl-gateway"
        // The environment's own credentials (`--upstream-header`), sent only to this upstream.
        for h in upstreamHeaders { headers[h.name] = h.value }
        guard let parsed = urls.value(url, { URL(string: $0) }) else {
            return .answered(Outcome(response: Gateway.jsonRPCError(status: 502, id: nil, code: -32603, message: "upstream URL is invalid"),
                                     status: 502, reason: "invalid upstream URL"))
        }
        // An https answer is buffered whole (CurlTransport), so a standing GET event stream would never
        // deliver anything. MCP 2025-11-25 (transport, "Listening for Messages from the Server") lets a
        // server answer that GET with 405, which clients expect, instead of holding it until the timeout.
        if request.method == "GET", parsed.scheme?.lowercased() == "https" {
            var h = HTTPHeaders()
            h["Allow"] = "POST, DELETE"
            return .answered(Outcome(response: HTTPResponse(status: 405, headers: h), status: 405,
                                     reason: "no event stream from an https upstream (answers are buffered)"))
        }
        var upstreamRequest = HTTPClientRequest(method: request.method, url: parsed, headers: headers,
                                                body: request.method == "POST" ? request.body : [], timeout: appTimeout ?? timeout)
        upstreamRequest.responseLimit = HTTPUpstream.maxAnswerBytes  // https answers are buffered whole: bound them
        upstreamRequest.budget = budget.bytes
        if let trace { HTTPUpstream.send(trace, in: &upstreamRequest) }
        return .send(upstreamRequest)
    }

    /// The outcome of an upstream's answer: refused, relayed as a stream, or read whole (and narrowed).
    func outcome(of upstream: HTTPClientResponse, _ reading: Reading) -> Outcome {
        switch read(upstream, reading) {
        case .done(let outcome): return outcome
        case .toNarrow(let answer): return narrowed(answer, reading)
        }
    }

    /// An answer read whole that may hold a tool list: it is narrowed before it goes on.
    struct ToNarrow: Sendable {
        let body: [UInt8]
        let held: HTTPResponse.Body
        let status: Int
        let headers: HTTPHeaders
    }

    enum Read: Sendable {
        case done(Outcome)
        case toNarrow(ToNarrow)
    }

    /// The answer's outcome, or, when it may hold a tool list, the answer to narrow (which reads and writes
    /// the store).
    func read(_ upstream: HTTPClientResponse, _ reading: Reading) -> Read {
        let (request, appTimeout, filter, listsTools, stillAllowed, toolsChanged) =
            (reading.request, reading.appTimeout, reading.filter, reading.listsTools, reading.stillAllowed, reading.toolsChanged)
        // The client's credentials are never sent upstream, so an upstream 401/403 is about
        // the gateway, not the caller: passed on as-is it would send an OAuth client into re-authorization
        // against our server for nothing. RFC 9110 §15.6.3: 502, the upstream's answer was not usable.
        if upstream.status == 401 || upstream.status == 403 {
            upstream.close()
            return .done(Outcome(response: Gateway.jsonRPCError(status: 502, id: nil, code: -32603,
                                                                message: "upstream refused the gateway (HTTP \(upstream.status))"),
                                 status: 502, reason: "upstream answered \(upstream.status)"))
        }
        let out = upstream.headers.selecting(HTTPUpstream.forwardedResponseHeaders)
        let contentType = (upstream.headers["Content-Type"] ?? "").lowercased()
        if contentType.hasPrefix("text/event-stream") {
            if let filter, listsTools {
                // A tools/list answer is read whole before anything is sent, so that one the gateway cannot
                // read or narrow is refused with 502 instead of reaching the client unfiltered.
                return .done(HTTPUpstream.filteredStream(upstream, headers: out, filter: filter, budget: budget, toolsChanged: toolsChanged))
            }
            let stream = RelayedEventStream(upstream, filter: filter, quietInterval: appTimeout ?? timeout,
                                            allowed: stillAllowed ?? { true }, toolsChanged: toolsChanged)
            // A GET stream may stay open for hours, mostly silent: the server waits on the upstream's socket
            // without holding a thread. Other streams answer one request and end with it.
            let body: HTTPResponse.Body = request.method == "GET" && stream.watchable()
                ? .events(stream) : .stream { writer in try stream.relayBlocking(writer) }
            let response = HTTPResponse(status: upstream.status, headers: out, body: body)
            return .done(Outcome(response: response, status: upstream.status, reason: nil))
        }
        let body: [UInt8]
        do { body = try upstream.readAll(limit: HTTPUpstream.maxAnswerBytes, budget: budget.bytes) } catch {
            upstream.close()
            return .done(HTTPUpstream.failed(error, doing: "upstream answer unreadable"))
        }
        // The answer stays charged until it has been written to the client (or dropped unsent).
        let held: HTTPResponse.Body = body.isEmpty ? .bytes([]) : budget.heldBody(body)
        // Whatever the label (an upstream may send JSON as text/plain or without a type), an answer to
        // tools/list, or any answer that may hold a tool list, is narrowed.
        if filter != nil, !body.isEmpty, listsTools || ToolListRelay.mayHoldToolList(body) {
            return .toNarrow(ToNarrow(body: body, held: held, status: upstream.status, headers: out))
        }
        return .done(Outcome(response: HTTPResponse(status: upstream.status, headers: out, body: held),
                             status: upstream.status, reason: upstream.status >= 400 ? "upstream answered \(upstream.status)" : nil))
    }

    /// Narrows an answer that may hold a tool list; one that cannot be parsed (NaN included) or narrowed is
    /// refused: an unfiltered list would show tools the caller may not call.
    func narrowed(_ answer: ToNarrow, _ reading: Reading) -> Outcome {
        guard let filter = reading.filter else {
            return Outcome(response: HTTPResponse(status: answer.status, headers: answer.headers, body: answer.held), status: answer.status,
                           reason: answer.status >= 400 ? "upstream answered \(answer.status)" : nil)
        }
        let finalBody: [UInt8]
        do {
            guard let json = try? JSON.parse(answer.body) else { throw ToolListFilter.Unusable.unparseable }
            finalBody = try filter(json).bytes
        } catch {
            return HTTPUpstream.unusableToolList(error)
        }
        return Outcome(response: HTTPResponse(status: answer.status, headers: answer.headers, body: .bytes(finalBody)),
                       status: answer.status, reason: answer.status >= 400 ? "upstream answered \(answer.status)" : nil)
    }

    /// W3C Trace Context §3: the gateway's span goes as `traceparent`, with the caller's `tracestate`; both
    /// are written into the request as it goes out (the forwarded headers are not copied for them). A
    /// `tracestate` that is not a valid field value is not sent.
    static func send(_ trace: TraceContext, in request: inout HTTPClientRequest) {
        request.extraFields.add("traceparent", trace.traceparent)
        if let state = trace.state { request.extraFields.add("tracestate", state) }
    }

    /// Sends a request of the gateway's own (`message`, whose id is `id`) within the session of the client
    /// `request` (its `Mcp-Session-Id` and `MCP-Protocol-Version` go along) and returns the answer to it.
    func ask(_ message: JSON, id: JSON, to url: String, timeout appTimeout: Double? = nil, like request: HTTPRequest,
             upstreamHeaders: [(name: String, value: String)] = []) -> JSON? {
        guard let parsed = urls.value(url, { URL(string: $0) }) else { return nil }
        var (headers, message) = HTTPUpstream.asked(message, like: request)
        headers["Content-Type"] = "application/json"
        headers["Accept"] = "application/json, text/event-stream"
        headers["Mcp-Method"] = message["method"]?.stringValue
        headers["User-Agent"] = "mcpctl-gateway"
        for h in upstreamHeaders { headers[h.name] = h.value }
        var upstreamRequest = HTTPClientRequest(method: "POST", url: parsed, headers: headers, body: message.bytes, timeout: appTimeout ?? timeout)
        upstreamRequest.responseLimit = HTTPUpstream.maxAnswerBytes
        guard let upstream = try? client.send(upstreamRequest) else { return nil }
        defer { upstream.close() }
        guard (200..<300).contains(upstream.status) else { return nil }
        let isAnswer = { (json: JSON) in json["id"] == id && json["method"] == nil }
        guard (upstream.headers["Content-Type"] ?? "").lowercased().hasPrefix("text/event-stream") else {
            guard let body = try? upstream.readAll(limit: HTTPUpstream.maxAnswerBytes, budget: budget.bytes) else { return nil }
            defer { budget.release(body.count) }
            return (try? JSON.parse(body)).flatMap { isAnswer($0) ? $0 : nil }
        }
        var parser = SSEParser()
        var read = 0
        defer { budget.release(read) }
        while let chunk = try? upstream.readChunk(), read + chunk.count <= HTTPUpstream.maxAnswerBytes, budget.bytes.tryCharge(chunk.count) {
            read += chunk.count
            for event in parser.feed(chunk) {
                if let json = try? JSON.parse(event.data), isAnswer(json) { return json }
            }
        }
        return nil
    }

    /// The answer to a request the upstream did not serve: 504 when it did not answer in time (RFC 9110
    /// §15.6.5), 503 when holding its answer would take the gateway past its memory budget (RFC 9110
    /// §15.6.4), else 502 (refused, reset, closed or malformed: RFC 9110 §15.6.3).
    static func failed(_ error: any Error, doing what: String) -> Outcome {
        switch error as? HTTPClientError {
        case .some(let e) where e.isTimeout:
            return Outcome(response: Gateway.jsonRPCError(status: 504, id: nil, code: -32603, message: "upstream did not answer in time"),
                           status: 504, reason: Gateway.upstreamTimeout)
        case .budgetExceeded(let limit):
            var h = HTTPHeaders()
            h["Retry-After"] = "1"
            return Outcome(response: Gateway.jsonRPCError(status: 503, id: nil, code: -32603,
                                                          message: "the gateway holds too many upstream answers; retry later", headers: h),
                           status: 503, reason: "buffered answers over --max-buffered-bytes (\(limit) bytes)")
        default:
            return Outcome(response: Gateway.jsonRPCError(status: 502, id: nil, code: -32603, message: what),
                           status: 502, reason: "\(what): \(error)")
        }
    }

    /// 502 for a tools/list answer the gateway could not read or narrow (RFC 9110 §15.6.3).
    static func unusableToolList(_ error: any Error) -> Outcome {
        Outcome(response: Gateway.jsonRPCError(status: 502, id: nil, code: -32603, message: "upstream tool list unusable"),
                status: 502, reason: "tool list unusable: \(error)")
    }

    /// Reads an event stream to its end (or to the first JSON-RPC response in it), bounded, narrowing every
    /// event; answers it as one buffered stream, or 502 when an event is not JSON or cannot be narrowed.
    static func filteredStream(_ upstream: HTTPClientResponse, headers: HTTPHeaders, filter: ToolListFilter.Apply,
                               budget: AnswerBudget, toolsChanged: @Sendable () -> Void) -> Outcome {
        defer { upstream.close() }
        var parser = SSEParser()
        var body: [UInt8] = []
        var read = 0
        defer { budget.release(read) }
        do {
            reading: while let chunk = try upstream.readChunk() {
                guard read + chunk.count <= maxAnswerBytes else { throw ToolListFilter.Unusable.tooLarge }
                guard budget.bytes.tryCharge(chunk.count) else { throw HTTPClientError.budgetExceeded(limit: budget.bytes.limit) }
                read += chunk.count
                for event in parser.feed(chunk) {
                    var e = event
                    if !event.data.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
                        guard let json = try? JSON.parse(event.data) else { throw ToolListFilter.Unusable.unparseable }
                        if json["method"]?.stringValue == ToolListFilter.listChanged { toolsChanged() }
                        e.data = try filter(json).encoded()
                        body += e.encoded()
                        // MCP 2025-11-25 transport: the server ends the stream after the response.
                        if json["method"] == nil, json["result"] != nil || json["error"] != nil { break reading }
                    } else {
                        body += e.encoded()
                    }
                }
            }
        } catch let error as HTTPClientError {
            return failed(error, doing: "upstream tool list unreadable")
        } catch {
            return unusableToolList(error)
        }
        return Outcome(response: HTTPResponse(status: upstream.status, headers: headers, body: .bytes(body)), status: upstream.status, reason: nil)
    }
}

extension HTTPUpstream: Upstream {
    func owns(session: String, user: Int64, app: String, env: String) throws -> Bool {
        try owners.mayUse(session, user: user, app: app, env: env)
    }

    /// Forwards to the environment's URL, then records who opened (or ended) the MCP session.
    func forward(_ call: UpstreamCall) throws -> UpstreamOutcome {
        let (url, stillAllowed, upstreamHeaders) = try destination(call)
        let outcome = forward(call.request, to: url, timeout: call.environment.timeoutSeconds, filter: call.filter,
                              listsTools: call.listsTools, stillAllowed: stillAllowed, toolsChanged: call.toolsChanged, upstreamHeaders: upstreamHeaders,
                              trace: call.trace)
        return try recorded(call, outcome)
    }

    /// `forward(_:)` without holding this thread while the upstream works: `then` gets the outcome, or the
    /// `GatewayRefusal` it would have thrown.
    func forward(_ call: UpstreamCall, then: @escaping @Sendable (Result<UpstreamOutcome, any Error>) -> Void) {
        let destination: (url: String, stillAllowed: @Sendable () -> Bool, headers: [(name: String, value: String)])
        do {
            destination = try self.destination(call)
        } catch {
            then(.failure(error))
            return
        }
        forward(call.request, to: destination.url, timeout: call.environment.timeoutSeconds, filter: call.filter, listsTools: call.listsTools,
                stillAllowed: destination.stillAllowed, toolsChanged: call.toolsChanged, upstreamHeaders: destination.headers, trace: call.trace) { outcome in
            // Recording a session writes the store: not on the loop thread.
            if HTTPUpstream.recordsSession(call) {
                LoopThread.elsewhere { then(Result { try recorded(call, outcome) }) }
            } else {
                then(Result { try recorded(call, outcome) })
            }
        }
    }

    /// Where the call goes, what re-checks its credential during a stream, and the environment's own headers.
    private func destination(_ call: UpstreamCall) throws -> (url: String, stillAllowed: @Sendable () -> Bool, headers: [(name: String, value: String)]) {
        guard let url = call.environment.upstreamURL else {
            throw GatewayRefusal.jsonRPC(502, id: call.message?.id, code: -32603, "app has no upstream", reason: "no upstream")
        }
        let stillAllowed = check.stillAllowed(call.credentials, principal: call.principal, app: call.app, env: call.env,
                                              needed: call.decision.needed ?? .read)
        return (url, stillAllowed, try credentials.require(call.environment, kind: .header, id: call.message?.id))
    }

    /// The outcome once the session it opened (or ended) is on record.
    private func recorded(_ call: UpstreamCall, _ outcome: UpstreamOutcome) throws -> UpstreamOutcome {
        do {
            try recordSession(call, outcome)
        } catch {
            // Without its owner on record the session could not be used anyway (404): fail now, visibly.
            log.error("store error while recording a session: \(error)")
            throw GatewayRefusal.unavailable(id: call.message?.id)
        }
        return outcome
    }

    /// Whether the answer to `call` may open or end an MCP session to be recorded.
    static func recordsSession(_ call: UpstreamCall) -> Bool {
        call.message?.method == "initialize" || call.request.method == "DELETE"
    }

    private func recordSession(_ call: UpstreamCall, _ outcome: UpstreamOutcome) throws {
        guard HTTPUpstream.recordsSession(call) else { return }
        if call.message?.method == "initialize", let session = outcome.response.headers["Mcp-Session-Id"] {
            try owners.register(session, user: call.principal.userID, app: call.app, env: call.env)
        }
        if call.request.method == "DELETE", let session = call.request.headers["Mcp-Session-Id"], outcome.status < 300 {
            try owners.remove(session, app: call.app, env: call.env)
        }
    }
}
