/// An ordered list of header fields whose names compare case-insensitively (RFC 9110 §5.1).
///
/// Names must be tokens and values must not contain control characters other than
/// HTAB (RFC 9110 §5.5). Setters and `add` silently refuse anything else, so a value
/// that came from a client can never inject a header line or split a response.
public struct HTTPHeaders: Sendable, Sequence, CustomStringConvertible {
    public typealias Element = (name: String, value: String)

    private var fields: [Element]

    public init() {
        fields = []
    }

    /// Creates headers from name/value pairs in order, dropping invalid ones.
    public init(_ pairs: [(String, String)]) {
        fields = []
        fields.reserveCapacity(pairs.count)
        for (name, value) in pairs { add(name, value) }
    }

    /// Adopts fields that a parser has already validated.
    init(validated fields: [Element]) {
        self.fields = fields
    }

    /// The first value for `name`; setting replaces every value, `nil` removes the field.
    public subscript(name: String) -> String? {
        get {
            for field in fields where HTTPSyntax.equalsIgnoringCase(field.name, name) {
                return field.value
            }
            return nil
        }
        set {
            guard let newValue else {
                remove(name)
                return
            }
            guard Self.isValidName(name), Self.isValidValue(newValue) else { return }
            if let first = fields.firstIndex(where: { HTTPSyntax.equalsIgnoringCase($0.name, name) }) {
                fields[first].value = newValue
                var index = fields.count - 1
                while index > first {
                    if HTTPSyntax.equalsIgnoringCase(fields[index].name, name) { fields.remove(at: index) }
                    index -= 1
                }
            } else {
                fields.append((name, newValue))
            }
        }
    }

    /// Every value of `name`, in order.
    public func values(for name: String) -> [String] {
        fields.compactMap { HTTPSyntax.equalsIgnoringCase($0.name, name) ? $0.value : nil }
    }

    public func contains(_ name: String) -> Bool {
        fields.contains { HTTPSyntax.equalsIgnoringCase($0.name, name) }
    }

    /// The fields named one of `names`, or whose name starts with `prefix` (lowercase), ignoring case, in
    /// their order: one pass over the fields, whatever the number of names.
    public func selecting(_ names: [String], orPrefix prefix: String? = nil) -> HTTPHeaders {
        var selected = HTTPHeaders()
        for field in fields where names.contains(where: { HTTPSyntax.equalsIgnoringCase(field.name, $0) })
            || prefix.map({ HTTPSyntax.hasPrefixIgnoringCase(field.name, $0) }) == true {
            selected.fields.append(field)  // already valid: it is a field of these headers
        }
        return selected
    }

    /// Whether two field names are the same name: field names are case-insensitive (RFC 9110 §5.1).
    public static func sameName(_ name: String, _ other: String) -> Bool {
        HTTPSyntax.equalsIgnoringCase(name, other)
    }

    /// Appends a field, keeping any existing ones with the same name.
    public mutating func add(_ name: String, _ value: String) {
        guard Self.isValidName(name), Self.isValidValue(value) else { return }
        fields.append((name, value))
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { HTTPSyntax.equalsIgnoringCase($0.name, name) }
    }

    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }

    public func makeIterator() -> IndexingIterator<[Element]> {
        fields.makeIterator()
    }

    public var description: String {
        fields.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
    }

    /// True when `name` is a non-empty token (RFC 9110 §5.1).
    public static func isValidName(_ name: String) -> Bool {
        HTTPSyntax.isToken(name.utf8)
    }

    /// True when `value` holds no CR, LF, NUL or other control character except HTAB (RFC 9110 §5.5).
    public static func isValidValue(_ value: String) -> Bool {
        HTTPSyntax.isFieldValue(value.utf8)
    }
}
