/// The display name of a user: free text for people, so it is checked before it is stored, because it is
/// shown on terminals, in the account pages and in audit output.
public enum UserName {
    /// The most Unicode scalars a name may have.
    public static let maxLength = 256

    /// Refuses a name that is too long or contains control characters, escape sequences, line breaks or
    /// bidirectional overrides; the same check for every path that sets a name.
    public static func validate(_ name: String) throws {
        guard name.unicodeScalars.count <= maxLength else {
            throw DomainError.invalid("the name is too long: at most \(maxLength) characters")
        }
        guard !HiddenCharacters.any(in: name) else {
            throw DomainError.invalid("the name contains a control character, line break or bidirectional override: use printable text only")
        }
    }
}
