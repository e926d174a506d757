/// The one rule for an OAuth client's display name, wherever it comes from (RFC 7591 registration, a
/// client metadata document, `client register --name`): it is shown to users on the consent page and to
/// operators in a terminal, so it may not carry anything that changes how the text around it is shown.
public enum ClientName {
    public static let maxCharacters = 256

    /// Why `name` cannot be a client name, or nil when it can. Refused: control characters (C0, DEL, C1:
    /// escape sequences, newlines, tabs), bidirectional embeddings, overrides and isolates (U+202A–U+202E,
    /// U+2066–U+2069, which reorder what follows them: "Trojan Source", CVE-2021-42574), more than
    /// `maxCharacters` Unicode scalars, and a name that is only white space. `field` names it in the message.
    public static func problem(_ name: String, field: String = "client name") -> String? {
        if let bad = name.unicodeScalars.first(where: isForbidden) {
            return "\(field) contains a control or bidirectional-formatting character (U+\(hex(bad.value)))"
        }
        guard name.unicodeScalars.count <= maxCharacters else { return "\(field) is longer than \(maxCharacters) characters" }
        guard name.contains(where: { !$0.isWhitespace }) else { return "\(field) is empty" }
        return nil
    }

    static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1f, 0x7f...0x9f, 0x202a...0x202e, 0x2066...0x2069: return true
        default: return false
        }
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
