/// OTLP/HTTP's JSON encoding of an `ExportTraceServiceRequest` (OTLP specification, "JSON Protobuf
/// Encoding"): the proto3 JSON mapping with lowerCamelCase field names, trace and span ids as hex strings
/// (not base64), enums as integers, and 64-bit integers (times, int attributes) as decimal strings.
/// Shape: resourceSpans → resource + scopeSpans → scope + spans. Written straight into one string.
enum OTLPJSON {
    static func exportRequest(_ spans: [TraceSpan], resource: [(String, TraceSpan.Value)], scope: (name: String, version: String)) -> [UInt8] {
        var out = #"{"resourceSpans":[{"resource":{"attributes":"#
        attributes(resource, into: &out)
        out += #"},"scopeSpans":[{"scope":{"name":"#
        quote(scope.name, into: &out)
        out += #","version":"#
        quote(scope.version, into: &out)
        out += #"},"spans":["#
        for (i, s) in spans.enumerated() {
            if i > 0 { out += "," }
            span(s, into: &out)
        }
        out += "]}]}]}"
        return Array(out.utf8)
    }

    static func span(_ s: TraceSpan, into out: inout String) {
        out += #"{"traceId":""# + s.trace.hex + #"","spanId":""# + SpanClock.hex(s.spanID) + "\""
        if let state = s.traceState {
            out += #","traceState":"#
            quote(state, into: &out)
        }
        if s.parentSpanID != 0 { out += #","parentSpanId":""# + SpanClock.hex(s.parentSpanID) + "\"" }
        out += #","name":"#
        quote(s.name, into: &out)
        out += #","kind":\#(s.kind.rawValue),"startTimeUnixNano":"\#(s.start)","endTimeUnixNano":"\#(s.end)","attributes":"#
        attributes(s.attributes, into: &out)
        if s.status != .unset { out += #","status":{"code":\#(s.status.rawValue)}"# }
        out += "}"
    }

    /// `repeated KeyValue`, each value an `AnyValue` with one of its fields set.
    static func attributes(_ pairs: [(String, TraceSpan.Value)], into out: inout String) {
        out += "["
        for (i, (key, value)) in pairs.enumerated() {
            out += i > 0 ? #",{"key":"# : #"{"key":"#
            quote(key, into: &out)
            switch value {
            case .string(let s):
                out += #","value":{"stringValue":"#
                quote(s, into: &out)
                out += "}}"
            case .int(let n):
                out += #","value":{"intValue":"\#(n)"}}"#
            }
        }
        out += "]"
    }

    /// A JSON string (RFC 8259 §7): quotation mark, reverse solidus and control characters escaped.
    static func quote(_ s: String, into out: inout String) {
        out += "\""
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            out += s
            out += "\""
            return
        }
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
