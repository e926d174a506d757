/// A closed set of words an audit column may hold (`AuditSource`, `AuditDecision`). Each is stored as its
/// raw value, which the hash chain covers, so a case is never renamed; a stored word that names no case
/// makes the row malformed.
public protocol AuditVocabulary: RawRepresentable, CaseIterable, Sendable, ExpressibleByStringLiteral
where RawValue == String, StringLiteralType == String {}

extension AuditVocabulary {
    /// A literal in code names a case, as `HTTPField.Name` literals do in swift-http-types: one that names
    /// none is a programmer error and stops the process at its first use. Text read from a store or typed
    /// by a user goes through `init(rawValue:)` instead.
    public init(stringLiteral value: String) {
        guard let word = Self(rawValue: value) else { preconditionFailure("'\(value)' is not a \(Self.self) value") }
        self = word
    }

    /// The accepted values, for a message: "allow or deny".
    public static var names: String {
        let all = allCases.map(\.rawValue)
        return all.dropLast().joined(separator: ", ") + " or " + (all.last ?? "")
    }
}
