import HTTP
import MCPAuth

/// Relays an event stream that is not the answer to a tools/list request (a GET stream, a resumed one, the
/// stream of any other POST) event by event, narrowing each event that may hold a tool list: an upstream
/// may put a `tools/list` result on any stream, under any id (MCP 2025-11-25 transport: a client resuming
/// with `Last-Event-ID` takes the response from the GET stream), and the client would accept it. What the
/// client receives is re-encoded from the events the gateway read, so it sees exactly what was checked.
struct ToolListRelay {
    let filter: ToolListFilter.Apply
    private var parser = SSEParser()
    /// Bytes fed since the last event was completed: one event may not grow past `maxEventBytes`.
    private var pending = 0
    private var lastEventID = ""
    private var reconnectionTime: Int?

    /// The largest event held back while it is read.
    static let maxEventBytes = HTTPUpstream.maxAnswerBytes

    init(filter: @escaping ToolListFilter.Apply) { self.filter = filter }

    /// The bytes to send for `chunk` (maybe none yet: an event is passed on once complete); nil when the
    /// stream must end: an event that may hold a tool list could not be read or narrowed, or an event
    /// grew too large.
    mutating func pass(_ chunk: [UInt8]) -> [UInt8]? {
        pending += chunk.count
        let events = parser.feed(chunk)
        if !events.isEmpty { pending = 0 }
        guard pending <= ToolListRelay.maxEventBytes else { return nil }
        var out: [UInt8] = []
        for var event in events {
            if ToolListRelay.mayHoldToolList(Array(event.data.utf8)) {
                guard let json = try? JSON.parse(event.data), let narrowed = try? filter(json) else { return nil }
                event.data = narrowed.encoded()
            }
            out += event.encoded()
            if let id = event.id { lastEventID = id }
            if let retry = event.retry { reconnectionTime = retry }
        }
        // WHATWG HTML §9.2.6: an `id` or `retry` field sets the stream's state even in a block with no data
        // (no event is dispatched), and the client resumes from it; such blocks are passed on as fields.
        if parser.lastEventID != lastEventID {
            lastEventID = parser.lastEventID
            out += Array("id: \(lastEventID.filter { $0 != "\r" && $0 != "\n" && $0 != "\r\n" && $0 != "\0" })\n\n".utf8)
        }
        if parser.reconnectionTime != reconnectionTime, let retry = parser.reconnectionTime {
            reconnectionTime = retry
            out += Array("retry: \(retry)\n\n".utf8)
        }
        return out
    }

    /// Whether a JSON text may hold a `tools` member: it spells the name out, or it has a `\u` escape,
    /// the only other way to write it (RFC 8259 §7). Anything else cannot be a tool list and needs no parse.
    static func mayHoldToolList(_ text: [UInt8]) -> Bool {
        ByteSearch.contains(text, toolsName) || ByteSearch.contains(text, unicodeEscape)
    }

    private static let toolsName = Array("tools".utf8)
    private static let unicodeEscape = Array("\\u".utf8)
}
