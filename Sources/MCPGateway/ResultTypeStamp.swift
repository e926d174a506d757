import HTTP
import MCPAuth

/// MCP 2026-07-28 (basic): every result carries `resultType` (`"complete"` for a final answer); a
/// 2025-11-25 server, and the built-in app, send results without it. When the gateway stands in for a
/// 2026-07-28 server it adds the field, to JSON answers and to each event of a stream.
enum ResultTypeStamp {
    /// `message` with `result.resultType` set to `complete` when it is a result without one.
    static func stamped(_ message: JSON) -> JSON {
        guard message["method"] == nil, var result = message["result"], result.objectValue != nil, result["resultType"] == nil else { return message }
        result.set("resultType", "complete")
        var out = message
        out.set("result", result)
        return out
    }

    /// `response` with every JSON-RPC result in it stamped; bodies that are not JSON pass unchanged.
    static func stamped(_ response: HTTPResponse) -> HTTPResponse {
        var out = response
        let isStream = (response.headers["Content-Type"] ?? "").lowercased().hasPrefix("text/event-stream")
        switch response.body {
        case .bytes(let body) where !body.isEmpty:
            if isStream {
                var parser = SSEParser()
                out.body = .bytes(parser.feed(body).flatMap { stamped($0).encoded() })
            } else if let json = try? JSON.parse(body) {
                out.body = .bytes(stamped(json).bytes)
            }
        case .held(let held) where !isStream:
            // A JSON answer the gateway holds whole (charged to its memory budget until written).
            if let json = try? JSON.parse(held.bytes) { out.body = .held(held.replacingBytes(stamped(json).bytes)) }
        case .held(let held) where !held.bytes.isEmpty:
            var parser = SSEParser()
            out.body = .held(held.replacingBytes(parser.feed(held.bytes).flatMap { stamped($0).encoded() }))
        case .stream(let produce) where isStream:
            out.body = .stream { writer in try produce(StampingWriter(writer)) }
        case .stream(let produce):
            // A JSON answer produced as a stream: taken whole, then stamped.
            out.body = .stream { writer in
                let whole = WholeBody()
                try produce(whole)
                try writer.write((try? JSON.parse(whole.bytes)).map { stamped($0).bytes } ?? whole.bytes)
            }
        default: break
        }
        return out
    }

    private static func stamped(_ event: SSEEvent) -> SSEEvent {
        guard let json = try? JSON.parse(Array(event.data.utf8)) else { return event }
        var e = event
        e.data = stamped(json).encoded()
        return e
    }

    /// Takes a body whole.
    private final class WholeBody: HTTPBodyWriter, @unchecked Sendable {
        var bytes: [UInt8] = []
        func write(_ chunk: [UInt8]) throws { bytes += chunk }
    }

    /// Passes an event stream on event by event, each stamped.
    private final class StampingWriter: HTTPBodyWriter, @unchecked Sendable {
        let inner: any HTTPBodyWriter
        var parser = SSEParser()
        init(_ inner: any HTTPBodyWriter) { self.inner = inner }
        func write(_ bytes: [UInt8]) throws {
            let events = parser.feed(bytes)
            // A keep-alive comment yields no event: passed on as sent, so the client still sees traffic.
            // Part of an event yields none either: it waits for the rest.
            if events.isEmpty {
                if bytes.first == UInt8(ascii: ":") { try inner.write(bytes) }
                return
            }
            try inner.write(events.flatMap { ResultTypeStamp.stamped($0).encoded() })
        }
    }
}
