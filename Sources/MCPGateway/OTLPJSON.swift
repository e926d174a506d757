import MCPAuth

/// OTLP/HTTP's JSON encoding of an `ExportTraceServiceRequest` (OTLP specification, "JSON Protobuf
/// Encoding"): the proto3 JSON mapping with lowerCamelCase field names, trace and span ids as hex strings
/// (not base64), enums as integers, and 64-bit integers (times, int attributes) as decimal strings.
/// Shape: resourceSpans → resource + scopeSpans → scope + spans.
enum OTLPJSON {
    static func exportRequest(_ spans: [TraceSpan], resource: [(String, TraceSpan.Value)], scope: (name: String, version: String)) -> [UInt8] {
        let scopeSpans: JSON = .object([
            ("scope", .object([("name", .string(scope.name)), ("version", .string(scope.version))])),
            ("spans", .array(spans.map(span))),
        ])
        let resourceSpans: JSON = .object([
            ("resource", .object([("attributes", attributes(resource))])),
            ("scopeSpans", .array([scopeSpans])),
        ])
        return JSON.object([("resourceSpans", .array([resourceSpans]))]).bytes
    }

    static func span(_ s: TraceSpan) -> JSON {
        var fields: [(String, JSON)] = [("traceId", .string(s.traceID)), ("spanId", .string(s.spanID))]
        if let state = s.traceState { fields.append(("traceState", .string(state))) }
        if let parent = s.parentSpanID { fields.append(("parentSpanId", .string(parent))) }
        fields += [
            ("name", .string(s.name)),
            ("kind", .int(Int64(s.kind.rawValue))),
            ("startTimeUnixNano", .string(String(s.start))),
            ("endTimeUnixNano", .string(String(s.end))),
            ("attributes", attributes(s.attributes)),
        ]
        if s.status != .unset { fields.append(("status", .object([("code", .int(Int64(s.status.rawValue)))]))) }
        return .object(fields)
    }

    /// `repeated KeyValue`, each value an `AnyValue` with one of its fields set.
    static func attributes(_ pairs: [(String, TraceSpan.Value)]) -> JSON {
        .array(pairs.map { key, value in
            let any: JSON
            switch value {
            case .string(let s): any = .object([("stringValue", .string(s))])
            case .int(let i): any = .object([("intValue", .string(String(i)))])
            }
            return .object([("key", .string(key)), ("value", any)])
        })
    }
}
