/// The name of a group of users, and the identity-provider group value it may follow: both are shown on
/// terminals, in `can-i` answers and in audit output, so they are checked before they are stored or looked up.
public enum GroupName {
    /// The most Unicode scalars a group name may have.
    public static let maxLength = 64
    /// The most Unicode scalars an identity provider's group value may have (they can be long paths or DNs).
    public static let maxIdPGroupLength = 256

    /// Refuses an empty name, one too long, one with spaces at either end, or one holding control
    /// characters, escape sequences, line breaks or bidirectional overrides.
    public static func validate(_ name: String) throws {
        try check(name, what: "group name", maxLength: maxLength)
    }

    /// The same rules for an `--idp-group` value, with a longer cap.
    public static func validateIdPGroup(_ value: String) throws {
        try check(value, what: "identity provider group", maxLength: maxIdPGroupLength)
    }

    private static func check(_ text: String, what: String, maxLength: Int) throws {
        guard !text.isEmpty else { throw DomainError.invalid("the \(what) is empty") }
        guard text.unicodeScalars.count <= maxLength else {
            throw DomainError.invalid("the \(what) is too long: at most \(maxLength) characters")
        }
        guard !HiddenCharacters.any(in: text) else {
            throw DomainError.invalid("the \(what) contains a control character, line break or bidirectional override: use printable text only")
        }
        guard text.first?.isWhitespace == false, text.last?.isWhitespace == false else {
            throw DomainError.invalid("the \(what) starts or ends with a space")
        }
    }
}
