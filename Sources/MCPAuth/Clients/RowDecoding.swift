/// A stored row that lacks a value its schema promises, or holds one that does not parse: refused, never
/// replaced by a default (an empty client id or redirect URI list would be a different client).
public struct MalformedRow: Error, Sendable, Equatable, CustomStringConvertible {
    public let table: String
    public let column: String

    public init(table: String, column: String) {
        self.table = table
        self.column = column
    }

    public var description: String { "the store holds a malformed \(table) row (column \(column) is missing or unreadable)" }
}

extension Row {
    /// The text in `column`, or `MalformedRow` when it is missing.
    func text(_ column: String, of table: String) throws -> String {
        guard let v = string(column) else { throw MalformedRow(table: table, column: column) }
        return v
    }

    /// The integer in `column`, or `MalformedRow` when it is missing.
    func integer(_ column: String, of table: String) throws -> Int64 {
        guard let v = int(column) else { throw MalformedRow(table: table, column: column) }
        return v
    }

    /// The scope set in `column`: empty when NULL or empty, `MalformedRow` when it does not parse.
    func scopes(_ column: String, of table: String) throws -> ScopeSet {
        guard let text = string(column), !text.isEmpty else { return [] }
        guard let set = ScopeSet(parsing: text) else { throw MalformedRow(table: table, column: column) }
        return set
    }
}
