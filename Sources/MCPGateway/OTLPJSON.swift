import HTTP
import MCPAuth

/// OTLP/HTTP's JSON encoding of an `ExportTraceServiceRequest` (OTLP specification, "JSON Protobuf
/// Encoding"): the proto3 JSON mapping with lowerCamelCase field names, trace and span ids as hex strings
/// (not base64), enums as integers, and 64-bit integers (times, int attributes) as decimal strings.
/// Shape: resourceSpans → resource + scopeSpans → scope + spans. Written span by span straight into one
/// byte buffer that the exporter reuses from batch to batch: before each request the buffer is grown to
/// hold the most that request should take (`room(for:)`), and every store is checked against that bound
/// before it is made. A write that would pass it stores nothing; the request is then written again with
/// twice the room, so the buffer never holds a byte past the room it was given.
package struct OTLPJSON {
    /// `Span.SpanKind`: 1 internal, 2 server, 3 client.
    enum Kind: UInt8 {
        case `internal` = 1
        case server = 2
        case client = 3
    }

    private let out: UnsafeMutablePointer<UInt8>
    /// Bytes written so far.
    package private(set) var count: Int
    /// Where the room ends: no byte is stored at or past it.
    private var limit: Int
    /// A write did not fit in the room: it stored nothing, and neither does any write after it.
    package private(set) var overflowed = false
    private var firstAttribute = true

    private init(_ out: UnsafeMutablePointer<UInt8>, count: Int, limit: Int) {
        self.out = out
        self.count = count
        self.limit = limit
    }

    /// A writer whose room is `buffer`.
    package init(writingInto buffer: UnsafeMutableBufferPointer<UInt8>) {
        self.init(buffer.baseAddress!, count: 0, limit: buffer.count)
    }

    /// Whether `n` more bytes fit in the room, checked before they are stored; once one write does not
    /// fit, no later one does either (the writing is incomplete and is done again).
    private mutating func fits(_ n: Int) -> Bool {
        if count + n <= limit { return true }
        overflowed = true
        limit = count
        return false
    }

    /// Replaces `body` with one request body holding the spans of `requests`; `body`'s storage is reused.
    /// `startingRoom`: the room each part is first written with instead of its computed bound.
    static func exportRequest(_ requests: [TracedRequest], service: (name: String, version: String), serverAddress: String?,
                              servers: inout UpstreamServers, into body: inout [UInt8], startingRoom: Int? = nil) {
        var used = 0
        body.removeAll(keepingCapacity: true)
        let head = 1024 + 6 * (service.name.utf8.count + 2 * service.version.utf8.count)
        write(into: &body, used: &used, room: startingRoom ?? head) { w in
            w.raw(#"{"resourceSpans":[{"resource":{"attributes":["#)
            w.firstAttribute = true
            w.attribute("service.name", service.name)
            if !service.version.isEmpty { w.attribute("service.version", service.version) }
            w.raw(#"]},"scopeSpans":[{"scope":{"name":"mcpctl","version":"#)
            w.quote(service.version)
            w.raw(#"},"spans":["#)
        }
        for (i, r) in requests.enumerated() {
            write(into: &body, used: &used, room: startingRoom ?? room(for: r, serverAddress: serverAddress)) { w in
                if i > 0 { w.raw(",") }
                w.request(r, serverAddress: serverAddress, servers: &servers)
            }
        }
        write(into: &body, used: &used, room: startingRoom ?? 16) { $0.raw("]}]}]}") }
        body.removeLast(body.count - used)
    }

    /// Makes room for `room` more bytes after `used` (zeroed, so the array stays initialized), then lets
    /// `writing` store at most that many; when they were not enough, `writing` starts again at `used` with
    /// twice the room.
    private static func write(into body: inout [UInt8], used: inout Int, room: Int, _ writing: (inout OTLPJSON) -> Void) {
        var room = max(room, 1)
        while true {
            if body.count - used < room {
                body.append(contentsOf: repeatElement(0, count: max(room, body.count, 1 << 16)))
            }
            let end = body.withUnsafeMutableBufferPointer { buffer in
                var w = OTLPJSON(buffer.baseAddress!, count: used, limit: used + room)
                writing(&w)
                return w.overflowed ? nil : w.count
            }
            if let end {
                used = end
                return
            }
            room *= 2
        }
    }

    /// The most bytes `r`'s spans can take: each span's fixed JSON (names, keys, ids, times: under 2 KiB with
    /// every attribute present) plus every string it writes, each at most 6 bytes per byte once escaped.
    static func room(for r: TracedRequest, serverAddress: String?) -> Int {
        let s = r.spans
        let mcp = (r.method?.utf8.count ?? 0) + (r.tool?.utf8.count ?? 0)
        let strings = 4 * mcp + 3 * s.method.utf8.count + s.path.utf8.count + (serverAddress?.utf8.count ?? 0)
            + (s.protocolVersion?.utf8.count ?? 0) + (r.app?.utf8.count ?? 0) + (r.env?.utf8.count ?? 0)
            + (s.upstreamURL?.utf8.count ?? 0) + r.spanCount * (s.traceState?.utf8.count ?? 0)
        return r.spanCount * 2048 + 6 * strings
    }

    /// The request's server span, then one child span per stage it reached.
    mutating func request(_ r: TracedRequest, serverAddress: String?, servers: inout UpstreamServers) {
        let s = r.spans
        span(r, id: s.serverSpanID, parent: s.parentSpanID, kind: .server, start: s.start, end: r.end, failed: r.status >= 500,
             name: { SpanAttributes.name(r, into: &$0) }, attributes: { SpanAttributes.server(r, serverAddress: serverAddress, into: &$0) })
        for stage in 0..<4 {
            let stage = RequestSpans.Stage(rawValue: stage)!
            let i = s[stage]
            guard i.start != 0 else { continue }
            byte(UInt8(ascii: ","))
            let end = max(i.start, i.end == 0 ? r.end : i.end)
            if stage == .upstream {
                span(r, id: s.upstreamSpanID, parent: s.serverSpanID, kind: .client, start: i.start, end: end, failed: i.failed || r.status >= 500,
                     name: { SpanAttributes.name(r, into: &$0) }, attributes: { SpanAttributes.upstream(r, &servers, into: &$0) })
            } else {
                span(r, id: s.spanID(stage), parent: s.serverSpanID, kind: .internal, start: i.start, end: end, failed: i.failed,
                     name: { $0.quoted(stage.name) }, attributes: { _ in })
            }
        }
    }

    /// One `Span`; `failed`: status code 2 (error), else the status is left unset.
    mutating func span(_ r: TracedRequest, id: UInt64, parent: UInt64, kind: Kind, start: UInt64, end: UInt64, failed: Bool,
                       name: (inout OTLPJSON) -> Void, attributes: (inout OTLPJSON) -> Void) {
        raw(#"{"traceId":""#)
        hex(r.spans.trace.high)
        hex(r.spans.trace.low)
        raw(#"","spanId":""#)
        hex(id)
        if parent != 0 {
            raw(#"","parentSpanId":""#)
            hex(parent)
        }
        byte(UInt8(ascii: "\""))
        if let state = r.spans.traceState {
            raw(#","traceState":"#)
            quote(state)
        }
        raw(#","kind":"#)
        byte(UInt8(ascii: "0") + kind.rawValue)
        raw(#","startTimeUnixNano":""#)
        decimal(start)
        raw(#"","endTimeUnixNano":""#)
        decimal(end)
        byte(UInt8(ascii: "\""))
        if failed { raw(#","status":{"code":2}"#) }
        raw(#","name":"#)
        name(&self)
        raw(#","attributes":["#)
        firstAttribute = true
        attributes(&self)
        raw("]}")
    }

    /// A `KeyValue` whose `AnyValue` is a string.
    mutating func attribute(_ key: StaticString, _ value: String) {
        attributeKey(key)
        raw(#"","value":{"stringValue":""#)
        escaped(value)
        raw(#""}}"#)
    }

    /// A `KeyValue` whose `AnyValue` is a string known when the program is built (no escaping needed).
    mutating func attribute(_ key: StaticString, constant value: StaticString) {
        attributeKey(key)
        raw(#"","value":{"stringValue":""#)
        raw(value)
        raw(#""}}"#)
    }

    /// A `KeyValue` whose `AnyValue` is an int (int64: a decimal string).
    mutating func attribute(_ key: StaticString, int value: Int64) {
        attributeKey(key)
        raw(#"","value":{"intValue":""#)
        if value < 0 { byte(UInt8(ascii: "-")) }
        decimal(value.magnitude)
        raw(#""}}"#)
    }

    /// `{"key":"` and the key, after a comma unless it is the span's first attribute.
    private mutating func attributeKey(_ key: StaticString) {
        if !firstAttribute { byte(UInt8(ascii: ",")) }
        firstAttribute = false
        raw(#"{"key":""#)
        raw(key)
    }

    mutating func raw(_ s: StaticString) {
        let n = s.utf8CodeUnitCount
        guard fits(n) else { return }
        (out + count).update(from: s.utf8Start, count: n)
        count += n
    }

    mutating func byte(_ b: UInt8) {
        guard fits(1) else { return }
        out[count] = b
        count += 1
    }

    /// A JSON string whose characters need no escaping.
    mutating func quoted(_ s: StaticString) {
        byte(UInt8(ascii: "\""))
        raw(s)
        byte(UInt8(ascii: "\""))
    }

    /// 16 lowercase hex digits.
    mutating func hex(_ value: UInt64) {
        guard fits(16) else { return }
        Hex16.write(value, to: UnsafeMutableRawPointer(out + count))
        count += 16
    }

    /// "00" … "99", two ASCII digits each.
    private static let digitPairs: [UInt8] = (0..<100).flatMap { [UInt8(ascii: "0") + UInt8($0 / 10), UInt8(ascii: "0") + UInt8($0 % 10)] }

    mutating func decimal(_ value: UInt64) {
        // Every time in nanoseconds from 2001-09-09 to 2286 has 19 digits: 3, then two runs of 8.
        guard value < 1_000_000_000_000_000_000 || value >= 10_000_000_000_000_000_000 else { return time(value) }
        var digits = 1, v = value
        while v >= 10 {
            v /= 10
            digits += 1
        }
        guard fits(digits) else { return }
        var end = count + digits
        count = end
        v = value
        Self.digitPairs.withUnsafeBufferPointer { pairs in
            while v >= 100 {
                let pair = Int(v % 100) * 2
                v /= 100
                end -= 2
                out[end] = pairs[pair]
                out[end + 1] = pairs[pair + 1]
            }
            if v >= 10 {
                out[end - 2] = pairs[Int(v) * 2]
                out[end - 1] = pairs[Int(v) * 2 + 1]
            } else {
                out[end - 1] = UInt8(ascii: "0") + UInt8(v)
            }
        }
    }

    /// A 19-digit number (10^18 ≤ value < 10^19) in decimal, with 32-bit divisions only after the first two.
    private mutating func time(_ value: UInt64) {
        guard fits(19) else { return }
        let top = Int(value / 10_000_000_000_000_000)  // 100…999
        let rest = value % 10_000_000_000_000_000
        let at = out + count
        Self.digitPairs.withUnsafeBufferPointer { pairs in
            at[0] = UInt8(ascii: "0") + UInt8(top / 100)
            at[1] = pairs[top % 100 * 2]
            at[2] = pairs[top % 100 * 2 + 1]
            Self.eight(UInt32(truncatingIfNeeded: rest / 100_000_000), at + 3, pairs)
            Self.eight(UInt32(truncatingIfNeeded: rest % 100_000_000), at + 11, pairs)
        }
        count += 19
    }

    /// The 8 decimal digits of `v` (< 10^8, leading zeros included) at `at`.
    private static func eight(_ v: UInt32, _ at: UnsafeMutablePointer<UInt8>, _ pairs: UnsafeBufferPointer<UInt8>) {
        four(v / 10_000, at, pairs)
        four(v % 10_000, at + 4, pairs)
    }

    /// The 4 decimal digits of `v` (< 10^4, leading zeros included) at `at`.
    private static func four(_ v: UInt32, _ at: UnsafeMutablePointer<UInt8>, _ pairs: UnsafeBufferPointer<UInt8>) {
        let a = Int(v / 100) * 2, b = Int(v % 100) * 2
        at[0] = pairs[a]
        at[1] = pairs[a + 1]
        at[2] = pairs[b]
        at[3] = pairs[b + 1]
    }

    /// A JSON string (RFC 8259 §7).
    package mutating func quote(_ s: String) {
        byte(UInt8(ascii: "\""))
        escaped(s)
        byte(UInt8(ascii: "\""))
    }

    private static let hexDigits: StaticString = "0123456789abcdef"

    /// The characters of a JSON string without its quotes: quotation mark, reverse solidus and control
    /// characters escaped (RFC 8259 §7).
    mutating func escaped(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            if !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                guard fits(utf8.count) else { return }
                if let base = utf8.baseAddress { (out + count).update(from: base, count: utf8.count) }
                count += utf8.count
                return
            }
            for b in utf8 {
                switch b {
                case UInt8(ascii: "\""): raw("\\\"")
                case UInt8(ascii: "\\"): raw("\\\\")
                case UInt8(ascii: "\n"): raw("\\n")
                case UInt8(ascii: "\r"): raw("\\r")
                case UInt8(ascii: "\t"): raw("\\t")
                case 0..<0x20:
                    raw("\\u00")
                    byte(Self.hexDigits.utf8Start[Int(b >> 4)])
                    byte(Self.hexDigits.utf8Start[Int(b & 0xF)])
                default: byte(b)
                }
            }
        }
    }
}

extension OTLPJSON {
    /// The export body of one request's spans (server span and every stage), written once per entry of
    /// `startingRooms`: each part first with that many bytes of room (nil: its computed bound). The same
    /// spans each time, so the bodies are equal whatever room writing them started with.
    package static func exportBodies(of request: HTTPRequest, _ event: AuditEvent, status: Int, startingRooms: [Int?]) -> [[UInt8]] {
        var spans = RequestSpans(request, sampleBelow: .max)
        for stage in RequestSpans.Stage.allCases { spans.begin(stage) }
        let end = SpanClock.now()
        spans.end(at: end)
        let traced = TracedRequest(spans, event, status: status, end: end)
        return startingRooms.map { room in
            var servers = UpstreamServers()
            var body: [UInt8] = []
            exportRequest([traced], service: ("mcpctl", "1.0"), serverAddress: "gateway.example", servers: &servers, into: &body,
                          startingRoom: room)
            return body
        }
    }
}
