import MCPAuth

/// Keys that could mean different things to the gateway and to the server behind it. RFC 8259 §4 leaves
/// repeated names undefined ("the names within an object SHOULD be unique"): parsers keep the first or the
/// last, and some match names without regard to case — Go's `encoding/json` folds case, `ſ` and `K`
/// (U+212A KELVIN SIGN) included. An object the gateway decides on must therefore not hold two names that
/// are equal once case is folded, or a caller could have `read_note` authorized while the server runs the
/// tool named by a second `"Name"`.
enum AmbiguousKeys {
    /// The first name in `object` that repeats another one, exactly or after case folding; nil if none does.
    static func clash(in object: [(String, JSON)]) -> String? {
        guard object.count > 1 else { return nil }
        if object.allSatisfy({ $0.0.utf8.allSatisfy { $0 < 0x80 } }) {
            return asciiClash(object)
        }
        var seen = Set<String>()
        for (name, _) in object where !seen.insert(folded(name)).inserted { return name }
        return nil
    }

    /// Unicode case folding as the parsers behind the gateway may apply it: uppercasing then lowercasing
    /// maps `ſ` to `s` and `K` to `k`, as simple case folding does.
    private static func folded(_ name: String) -> String {
        String(decoding: name.uppercased().lowercased().utf8, as: UTF8.self)
    }

    /// The common case, all names ASCII: compared pairwise, byte for byte with ASCII letters folded, no allocation.
    private static func asciiClash(_ object: [(String, JSON)]) -> String? {
        for i in 1..<object.count {
            for j in 0..<i where equalIgnoringASCIICase(object[i].0.utf8, object[j].0.utf8) { return object[i].0 }
        }
        return nil
    }

    private static func equalIgnoringASCIICase(_ a: String.UTF8View, _ b: String.UTF8View) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { x, y in x == y || (x | 0x20 == y | 0x20 && (x | 0x20) >= 0x61 && (x | 0x20) <= 0x7a) }
    }
}
