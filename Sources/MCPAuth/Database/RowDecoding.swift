/// A stored row that lacks a value its schema promises, or holds one that does not parse: refused, never
/// replaced by a default (an empty client id, a user id of 0 or an unknown audit source would each be a
/// different fact from the one stored). The message names the table and column, never the value.
public struct MalformedRow: Error, Sendable, Equatable, CustomStringConvertible {
    public let table: String
    public let column: String

    public init(table: String, column: String) {
        self.table = table
        self.column = column
    }

    public var description: String { "the store holds a malformed \(table) row (column \(column) is missing or unreadable)" }
}

/// Reading a row's columns as the schema types them: every accessor throws `MalformedRow` instead of
/// guessing. Optional results are only for columns the schema lets be NULL.
extension Row {
    /// The text in `column`; `MalformedRow` when it is NULL or not text.
    public func text(_ column: String, of table: String) throws -> String {
        guard let v = string(column) else { throw MalformedRow(table: table, column: column) }
        return v
    }

    /// The integer in `column`; `MalformedRow` when it is NULL or not an integer.
    public func integer(_ column: String, of table: String) throws -> Int64 {
        guard let v = int(column) else { throw MalformedRow(table: table, column: column) }
        return v
    }

    /// The integer in a nullable `column`: nil for NULL, `MalformedRow` for a value of another type.
    public func optionalInteger(_ column: String, of table: String) throws -> Int64? {
        if case .null = self[column] { return nil }
        return try integer(column, of: table)
    }

    /// The text in a nullable `column`: nil for NULL, `MalformedRow` for a value of another type.
    public func optionalText(_ column: String, of table: String) throws -> String? {
        if case .null = self[column] { return nil }
        return try text(column, of: table)
    }

    /// The bytes of the blob in `column`; `MalformedRow` when it is NULL or not a blob.
    public func blob(_ column: String, of table: String) throws -> [UInt8] {
        guard case .blob(let v) = self[column] else { throw MalformedRow(table: table, column: column) }
        return v
    }

    /// The case of `Word` that `column` names; `MalformedRow` when it is NULL or names none.
    public func word<Word: RawRepresentable>(_ column: String, of table: String, as _: Word.Type = Word.self) throws -> Word
    where Word.RawValue == String {
        guard let word = Word(rawValue: try text(column, of: table)) else { throw MalformedRow(table: table, column: column) }
        return word
    }

    /// The case of `Word` that a nullable `column` names: nil for NULL, `MalformedRow` when it names none.
    public func optionalWord<Word: RawRepresentable>(_ column: String, of table: String, as _: Word.Type = Word.self) throws -> Word?
    where Word.RawValue == String {
        if case .null = self[column] { return nil }
        return try word(column, of: table)
    }

    /// The scope set in `column`: empty for an empty list (a grant or token may carry no scope),
    /// `MalformedRow` when it is NULL or does not parse.
    public func scopes(_ column: String, of table: String) throws -> ScopeSet {
        let text = try text(column, of: table)
        guard !text.isEmpty else { return [] }
        guard let set = ScopeSet(parsing: text) else { throw MalformedRow(table: table, column: column) }
        return set
    }
}
