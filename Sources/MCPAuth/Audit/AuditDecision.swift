/// The outcome an audit row records; a row without one stores NULL.
public enum AuditDecision: String, AuditVocabulary {
    case allow
    case deny
}
