/// A closed set of words an audit column may hold (`AuditSource`, `AuditDecision`). Each is stored as its
/// raw value, which the hash chain covers, so a case is never renamed; a stored word that names no case
/// makes the row malformed.
public protocol AuditVocabulary: RawRepresentable, CaseIterable, Sendable where RawValue == String {}

extension AuditVocabulary {
    /// The accepted values, for a message: "allow or deny".
    public static var names: String {
        let all = allCases.map(\.rawValue)
        return all.dropLast().joined(separator: ", ") + " or " + (all.last ?? "")
    }
}
