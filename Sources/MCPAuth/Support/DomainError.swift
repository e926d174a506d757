/// A refusal the operator can act on: what was wrong, in words that never include a secret.
public enum DomainError: Error, CustomStringConvertible, Sendable, Equatable {
    case notFound(String)
    case alreadyExists(String)
    case invalid(String)
    case conflict(String)

    public var description: String {
        switch self {
        case .notFound(let s), .alreadyExists(let s), .invalid(let s), .conflict(let s): return s
        }
    }
}
