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
            if let stamped = stampedWhole(body, isStream: isStream) { out.body = .bytes(stamped) }
        case .held(let held) where !held.bytes.isEmpty:
            // An answer the gateway holds whole (charged to its memory budget until written).
            if let stamped = stampedWhole(held.bytes, isStream: isStream) { out.body = .held(held.replacingBytes(stamped)) }
        case .stream(let produce) where isStream:
            out.body = .stream { writer in try produce(StampingWriter(writer)) }
        case .stream(let produce):
            // A JSON answer produced as a stream: taken whole, then stamped.
            out.body = .stream { writer in
                let whole = WholeBody()
                try produce(whole)
                try writer.write(stampedWhole(whole.bytes, isStream: false) ?? whole.bytes)
            }
        default: break
        }
        return out
    }

    /// A whole body (an event stream or one JSON message) with its results stamped; nil when it is not JSON.
    private static func stampedWhole(_ body: [UInt8], isStream: Bool) -> [UInt8]? {
        if isStream {
            var parser = SSEParser()
            return parser.feed(body).flatMap { stamped($0).encoded() }
        }
        return (try? JSON.parse(body)).map { stamped($0).bytes }
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
