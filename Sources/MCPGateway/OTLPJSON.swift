/// OTLP/HTTP's JSON encoding of an `ExportTraceServiceRequest` (OTLP specification, "JSON Protobuf
/// Encoding"): the proto3 JSON mapping with lowerCamelCase field names, trace and span ids as hex strings
/// (not base64), enums as integers, and 64-bit integers (times, int attributes) as decimal strings.
/// Shape: resourceSpans → resource + scopeSpans → scope + spans. Written straight into one byte buffer,
/// span by span, with no intermediate values.
struct OTLPJSON {
    /// `Span.SpanKind`: 1 internal, 2 server, 3 client.
    enum Kind: UInt64 {
        case `internal` = 1
        case server = 2
        case client = 3
    }

    private(set) var bytes: [UInt8] = []
    private var firstAttribute = true

    /// One request body holding the spans of `requests`.
    static func exportRequest(_ requests: [TracedRequest], service: (name: String, version: String), serverAddress: String?,
                              servers: inout UpstreamServers) -> [UInt8] {
        var w = OTLPJSON()
        w.bytes.reserveCapacity(512 + requests.count * 3200)
        w.raw(#"{"resourceSpans":[{"resource":{"attributes":["#)
        w.firstAttribute = true
        w.attribute("service.name", service.name)
        if !service.version.isEmpty { w.attribute("service.version", service.version) }
        w.raw(#"]},"scopeSpans":[{"scope":{"name":"mcpctl","version":"#)
        w.quote(service.version)
        w.raw(#"},"spans":["#)
        for (i, r) in requests.enumerated() {
            if i > 0 { w.raw(",") }
            w.request(r, serverAddress: serverAddress, servers: &servers)
        }
        w.raw("]}]}]}")
        return w.bytes
    }

    /// The request's server span, then one child span per stage it reached.
    mutating func request(_ r: TracedRequest, serverAddress: String?, servers: inout UpstreamServers) {
        let s = r.spans
        span(r, id: s.serverSpanID, parent: s.parentSpanID, kind: .server, start: s.start, end: r.end, failed: r.status >= 500,
             name: { SpanAttributes.name(r, into: &$0) }, attributes: { SpanAttributes.server(r, serverAddress: serverAddress, into: &$0) })
        for i in s.intervals {
            raw(",")
            let end = max(i.start, i.end == 0 ? r.end : i.end)
            if i.stage == .upstream {
                span(r, id: s.upstreamSpanID, parent: s.serverSpanID, kind: .client, start: i.start, end: end, failed: i.failed || r.status >= 500,
                     name: { SpanAttributes.name(r, into: &$0) }, attributes: { SpanAttributes.upstream(r, &servers, into: &$0) })
            } else {
                span(r, id: SpanClock.id(), parent: s.serverSpanID, kind: .internal, start: i.start, end: end, failed: i.failed,
                     name: { $0.quote(i.stage.name) }, attributes: { _ in })
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
        raw("\"")
        if parent != 0 {
            raw(#","parentSpanId":""#)
            hex(parent)
            raw("\"")
        }
        if let state = r.spans.traceState {
            raw(#","traceState":"#)
            quote(state)
        }
        raw(#","kind":"#)
        decimal(kind.rawValue)
        raw(#","startTimeUnixNano":""#)
        decimal(start)
        raw(#"","endTimeUnixNano":""#)
        decimal(end)
        raw("\"")
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
        raw(#"{"stringValue":"#)
        quote(value)
        raw("}}")
    }

    /// A `KeyValue` whose `AnyValue` is an int (int64: a decimal string).
    mutating func attribute(_ key: StaticString, int value: Int64) {
        attributeKey(key)
        raw(#"{"intValue":""#)
        if value < 0 { raw("-") }
        decimal(value.magnitude)
        raw("\"}}")
    }

    private mutating func attributeKey(_ key: StaticString) {
        raw(firstAttribute ? #"{"key":""# : #",{"key":""#)
        firstAttribute = false
        raw(key)
        raw(#"","value":"#)
    }

    mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    private static let digits = Array("0123456789abcdef".utf8)

    /// 16 lowercase hex digits.
    mutating func hex(_ value: UInt64) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { out in
            for i in 0..<16 { out[i] = Self.digits[Int((value >> UInt64(60 - 4 * i)) & 0xF)] }
            bytes.append(contentsOf: out)
        }
    }

    mutating func decimal(_ value: UInt64) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { out in
            var v = value, i = 20
            repeat {
                i -= 1
                out[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            } while v > 0
            bytes.append(contentsOf: out[i...])
        }
    }

    /// A JSON string (RFC 8259 §7).
    mutating func quote(_ s: String) {
        raw("\"")
        escaped(s)
        raw("\"")
    }

    /// The characters of a JSON string without its quotes: quotation mark, reverse solidus and control
    /// characters escaped (RFC 8259 §7).
    mutating func escaped(_ s: String) {
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            return bytes.append(contentsOf: s.utf8)
        }
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case UInt8(ascii: "\n"): raw("\\n")
            case UInt8(ascii: "\r"): raw("\\r")
            case UInt8(ascii: "\t"): raw("\\t")
            case 0..<0x20:
                raw("\\u00")
                bytes.append(Self.digits[Int(b >> 4)])
                bytes.append(Self.digits[Int(b & 0xF)])
            default: bytes.append(b)
            }
        }
    }
}
