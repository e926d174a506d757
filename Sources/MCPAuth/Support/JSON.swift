/// A JSON value with object keys kept in insertion order, so machine output is stable.
public enum JSON: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }

    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.int(let x), .double(let y)), (.double(let y), .int(let x)): return Double(x) == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// Looks up a key of an object (the last one wins, as in most parsers).
    public subscript(key: String) -> JSON? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.last(where: { $0.0 == key })?.1
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9e15: return Int64(d)
        default: return nil
        }
    }
    public var arrayValue: [JSON]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: [(String, JSON)]? { if case .object(let o) = self { return o }; return nil }
    public var isNull: Bool { if case .null = self { return true }; return false }

    /// Builds a string value, or null when nil.
    public static func str(_ s: String?) -> JSON { s.map { .string($0) } ?? .null }
    public static func num(_ i: Int64?) -> JSON { i.map { .int($0) } ?? .null }

    /// Replaces or adds a key of an object.
    public mutating func set(_ key: String, _ value: JSON) {
        guard case .object(var pairs) = self else { return }
        if let i = pairs.firstIndex(where: { $0.0 == key }) { pairs[i].1 = value } else { pairs.append((key, value)) }
        self = .object(pairs)
    }

    // MARK: Encoding (RFC 8259)

    /// Compact encoding (`pretty` indents by two spaces).
    public func encoded(pretty: Bool = false) -> String {
        var out = ""
        write(to: &out, pretty: pretty, indent: 0)
        return out
    }

    public var bytes: [UInt8] { Array(encoded().utf8) }

    private func write(to out: inout String, pretty: Bool, indent: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if d.isFinite {
                if d.rounded() == d && abs(d) < 1e15 { out += String(Int64(d)) } else { out += "\(d)" }
            } else { out += "null" }
        case .string(let s): JSON.quote(s, into: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                if pretty { out += "\n" + String(repeating: "  ", count: indent + 1) }
                item.write(to: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { out += "\n" + String(repeating: "  ", count: indent) }
            out += "]"
        case .object(let pairs):
            if pairs.isEmpty { out += "{}"; return }
            out += "{"
            for (i, (key, value)) in pairs.enumerated() {
                if i > 0 { out += "," }
                if pretty { out += "\n" + String(repeating: "  ", count: indent + 1) }
                JSON.quote(key, into: &out)
                out += pretty ? ": " : ":"
                value.write(to: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { out += "\n" + String(repeating: "  ", count: indent) }
            out += "}"
        }
    }

    static func quote(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    // MARK: Decoding (RFC 8259)

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public let offset: Int
        public let reason: String
        public var description: String { "invalid JSON at byte \(offset): \(reason)" }
    }

    /// Parses one JSON text; trailing non-whitespace is an error. Depth is capped to stop hostile nesting.
    public static func parse<C: Collection>(_ bytes: C, maxDepth: Int = 128) throws -> JSON where C.Element == UInt8 {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { buf in
            var parser = Parser(buf: buf, maxDepth: maxDepth)
            parser.skipSpace()
            let value = try parser.value(depth: 0)
            parser.skipSpace()
            guard parser.pos == buf.count else { throw parser.fail("trailing characters") }
            return value
        }
    }

    public static func parse(_ string: String) throws -> JSON { try parse(Array(string.utf8)) }

    private struct Parser {
        let buf: UnsafeBufferPointer<UInt8>
        let maxDepth: Int
        var pos = 0

        init(buf: UnsafeBufferPointer<UInt8>, maxDepth: Int) { self.buf = buf; self.maxDepth = maxDepth }

        func fail(_ reason: String) -> ParseError { ParseError(offset: pos, reason: reason) }

        mutating func skipSpace() {
            while pos < buf.count, buf[pos] == 0x20 || buf[pos] == 0x0A || buf[pos] == 0x0D || buf[pos] == 0x09 { pos += 1 }
        }

        mutating func literal(_ word: StaticString, _ value: JSON) throws -> JSON {
            let n = word.utf8CodeUnitCount
            guard pos + n <= buf.count else { throw fail("unexpected end") }
            for i in 0..<n where buf[pos + i] != word.utf8Start[i] { throw fail("invalid literal") }
            pos += n
            return value
        }

        mutating func value(depth: Int) throws -> JSON {
            guard depth < maxDepth else { throw fail("nesting too deep") }
            guard pos < buf.count else { throw fail("unexpected end") }
            switch buf[pos] {
            case UInt8(ascii: "{"):
                pos += 1
                var pairs: [(String, JSON)] = []
                skipSpace()
                if pos < buf.count, buf[pos] == UInt8(ascii: "}") { pos += 1; return .object(pairs) }
                while true {
                    skipSpace()
                    guard pos < buf.count, buf[pos] == UInt8(ascii: "\"") else { throw fail("expected key") }
                    let key = try string()
                    skipSpace()
                    guard pos < buf.count, buf[pos] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                    pos += 1
                    skipSpace()
                    pairs.append((key, try value(depth: depth + 1)))
                    skipSpace()
                    guard pos < buf.count else { throw fail("unexpected end") }
                    if buf[pos] == UInt8(ascii: ",") { pos += 1; continue }
                    if buf[pos] == UInt8(ascii: "}") { pos += 1; return .object(pairs) }
                    throw fail("expected ',' or '}'")
                }
            case UInt8(ascii: "["):
                pos += 1
                var items: [JSON] = []
                skipSpace()
                if pos < buf.count, buf[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
                while true {
                    skipSpace()
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard pos < buf.count else { throw fail("unexpected end") }
                    if buf[pos] == UInt8(ascii: ",") { pos += 1; continue }
                    if buf[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
                    throw fail("expected ',' or ']'")
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            default: return try number()
            }
        }

        mutating func number() throws -> JSON {
            let start = pos
            var isInteger = true
            if pos < buf.count, buf[pos] == UInt8(ascii: "-") { pos += 1 }
            guard pos < buf.count, (0x30...0x39).contains(buf[pos]) else { throw fail("invalid value") }
            if buf[pos] == 0x30 { pos += 1 } else { while pos < buf.count, (0x30...0x39).contains(buf[pos]) { pos += 1 } }
            if pos < buf.count, buf[pos] == UInt8(ascii: ".") {
                isInteger = false
                pos += 1
                guard pos < buf.count, (0x30...0x39).contains(buf[pos]) else { throw fail("invalid number") }
                while pos < buf.count, (0x30...0x39).contains(buf[pos]) { pos += 1 }
            }
            if pos < buf.count, buf[pos] == UInt8(ascii: "e") || buf[pos] == UInt8(ascii: "E") {
                isInteger = false
                pos += 1
                if pos < buf.count, buf[pos] == UInt8(ascii: "+") || buf[pos] == UInt8(ascii: "-") { pos += 1 }
                guard pos < buf.count, (0x30...0x39).contains(buf[pos]) else { throw fail("invalid number") }
                while pos < buf.count, (0x30...0x39).contains(buf[pos]) { pos += 1 }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: buf[start..<pos]), as: UTF8.self)
            if isInteger, let i = Int64(text) { return .int(i) }
            // RFC 8259 §6: a number beyond the range of a double (1e400) is refused, not read as infinity.
            guard let d = Double(text), d.isFinite else { throw fail("number out of range") }
            return .double(d)
        }

        mutating func hex4() throws -> UInt32 {
            guard pos + 4 <= buf.count else { throw fail("bad escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = buf[pos]
                let d: UInt8
                switch c {
                case 0x30...0x39: d = c - 0x30
                case 0x41...0x46: d = c - 0x41 + 10
                case 0x61...0x66: d = c - 0x61 + 10
                default: throw fail("bad escape")
                }
                v = v << 4 | UInt32(d)
                pos += 1
            }
            return v
        }

        mutating func string() throws -> String {
            pos += 1  // opening quote
            var bytes: [UInt8] = []
            while true {
                guard pos < buf.count else { throw fail("unterminated string") }
                let c = buf[pos]
                if c == UInt8(ascii: "\"") { pos += 1; break }
                if c < 0x20 { throw fail("control character in string") }
                if c != UInt8(ascii: "\\") { bytes.append(c); pos += 1; continue }
                pos += 1
                guard pos < buf.count else { throw fail("bad escape") }
                let e = buf[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""): bytes.append(0x22)
                case UInt8(ascii: "\\"): bytes.append(0x5C)
                case UInt8(ascii: "/"): bytes.append(0x2F)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800...0xDBFF).contains(code) {
                        if pos + 6 <= buf.count, buf[pos] == UInt8(ascii: "\\"), buf[pos + 1] == UInt8(ascii: "u") {
                            pos += 2
                            let low = try hex4()
                            if (0xDC00...0xDFFF).contains(low) {
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                            } else { code = 0xFFFD }
                        } else { code = 0xFFFD }
                    } else if (0xDC00...0xDFFF).contains(code) { code = 0xFFFD }
                    let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                    bytes.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: throw fail("bad escape")
                }
            }
            // Invalid UTF-8 is repaired with U+FFFD rather than rejected.
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
