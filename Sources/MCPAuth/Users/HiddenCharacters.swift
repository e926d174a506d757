/// Characters that change how text around them is shown instead of showing themselves: C0 and C1 controls
/// (ESC starts terminal escape sequences, CR and newline rewrite lines), DEL, line and paragraph separators,
/// and invisible format characters, among them the bidirectional overrides, embeddings and isolates of
/// Unicode Standard Annex #9 (U+202A–U+202E, U+2066–U+2069) that can make text read in a different order.
public enum HiddenCharacters {
    /// Whether `scalar` is one of them. The zero-width (non-)joiners U+200C and U+200D are not: several
    /// scripts need them to spell names, and they move nothing.
    public static func contains(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value >= 0x20 && scalar.value < 0x7F { return false }
        switch scalar.properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator: return true
        case .format: return scalar.value != 0x200C && scalar.value != 0x200D
        default: return false
        }
    }

    /// Whether any scalar of `text` is one of them.
    public static func any(in text: String) -> Bool {
        text.unicodeScalars.contains(where: contains)
    }
}
