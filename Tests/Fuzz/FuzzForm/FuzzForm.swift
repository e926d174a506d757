import FuzzSupport
import HTTP

/// Fuzzes `FormURLEncoding` (WHATWG URL Standard §5).
///
/// Input: any bytes, taken as a form body or query string.
/// Properties: decoded pairs, encoded again, decode to the same pairs; escaping any text and
/// percent-decoding it gives the text back; the string and byte decoders agree.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzForm(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    let pairs = FormURLEncoding.decode(bytes)
    let encoded = FormURLEncoding.encode(pairs)
    let again = FormURLEncoding.decode(encoded)
    invariant(same(pairs, again), "decode(encode(pairs)) changed them: \(pairs) vs \(again) via \(encoded)")
    invariant(FormURLEncoding.encode(again) == encoded, "encoding is not stable: \(encoded)")

    let text = String(decoding: bytes, as: UTF8.self)
    let escaped = FormURLEncoding.escape(text)
    invariant(escaped.utf8.allSatisfy(isUnreservedOrEscape), "escape left a reserved byte in \(escaped)")
    invariant(FormURLEncoding.percentDecode(escaped, plusAsSpace: true) == text, "escape does not round-trip: \(text)")
    if String(validating: bytes, as: UTF8.self) != nil {
        invariant(same(FormURLEncoding.decode(text), pairs), "the String and byte decoders disagree on \(text)")
    }
    return 0
}

func same(_ a: [(name: String, value: String)], _ b: [(name: String, value: String)]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.name == $1.name && $0.value == $1.value }
}

/// RFC 3986 §2.3 unreserved characters, `+` (a space) and `%XX` escapes.
func isUnreservedOrEscape(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
         UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "%"):
        true
    default:
        false
    }
}
