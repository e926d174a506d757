import MCPAuth

/// Text from outside made safe for a terminal: every hidden character (controls, escape sequences, line
/// breaks, bidirectional overrides) is shown as a visible escape, `\x1b` or `\u202e`, instead of acting.
enum TerminalText {
    /// The one escaping function for people's output: tables, show pages, messages and errors.
    static func escape(_ text: String) -> String {
        guard !isPrintableASCII(text), HiddenCharacters.any(in: text) else { return text }
        return rewrite(text, where: HiddenCharacters.contains, as: visible)
    }

    /// `\n`, `\r` and `\t` for the line breaks and tab, `\x1b` for another scalar below U+0100, `\u202e` up
    /// to U+FFFF, `\U000e0001` above: the escapes Python's `repr` shows.
    static func visible(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16)
        switch scalar.value {
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        case 0x09: return "\\t"
        case ..<0x100: return "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
        case ..<0x10000: return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: return "\\U" + String(repeating: "0", count: 8 - hex.count) + hex
        }
    }

    /// Encoded JSON with every hidden character left in it written as a JSON escape (RFC 8259 §7: any
    /// character may be escaped as `\uXXXX`, above U+FFFF as a UTF-16 surrogate pair), so the value is
    /// the same but a terminal shows `\u202e` instead of obeying it. The encoder already escapes C0
    /// controls inside strings, so those left (below U+0020) are layout between tokens and stay.
    static func escapeJSON(_ encoded: String) -> String {
        func needsEscape(_ scalar: Unicode.Scalar) -> Bool { scalar.value >= 0x7F && HiddenCharacters.contains(scalar) }
        guard !encoded.utf8.allSatisfy({ $0 < 0x7F }), encoded.unicodeScalars.contains(where: needsEscape) else { return encoded }
        return rewrite(encoded, where: needsEscape) { scalar in
            String(scalar).utf16.map { unit in
                let hex = String(unit, radix: 16)
                return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }.joined()
        }
    }

    /// Whether every byte is printable ASCII (U+0020–U+007E): the common case, answered without decoding.
    private static func isPrintableASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }

    /// `text` with each scalar that `matches` replaced, built as UTF-8 bytes in one buffer.
    private static func rewrite(_ text: String, where matches: (Unicode.Scalar) -> Bool,
                                as replacement: (Unicode.Scalar) -> String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 32)
        for scalar in text.unicodeScalars {
            if matches(scalar) {
                bytes.append(contentsOf: replacement(scalar).utf8)
            } else {
                UTF8.encode(scalar) { bytes.append($0) }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
