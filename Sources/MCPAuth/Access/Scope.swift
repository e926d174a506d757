/// The three scopes, as a set. `read` lists and reads, `write` calls non-destructive
/// tools, `delete` calls destructive ones.
public struct ScopeSet: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let read = ScopeSet(rawValue: 1)
    public static let write = ScopeSet(rawValue: 2)
    public static let delete = ScopeSet(rawValue: 4)
    public static let all: ScopeSet = [.read, .write, .delete]

    public static let names: [(String, ScopeSet)] = [("read", .read), ("write", .write), ("delete", .delete)]

    /// Parses "read,write" (commas or spaces); nil if any name is unknown or the list is empty.
    public init?(parsing text: String) {
        var set: ScopeSet = []
        let parts = text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map { $0.lowercased() }
        guard !parts.isEmpty else { return nil }
        for part in parts {
            guard let s = ScopeSet.named(part) else { return nil }
            set.insert(s)
        }
        self = set
    }

    public static func named(_ name: String) -> ScopeSet? {
        names.first(where: { $0.0 == name })?.1
    }

    /// Role aliases: viewer = read, editor = read+write, admin = read+write+delete.
    public static func role(_ name: String) -> ScopeSet? {
        switch name.lowercased() {
        case "viewer": return .read
        case "editor": return [.read, .write]
        case "admin": return .all
        default: return nil
        }
    }

    public var list: [String] { ScopeSet.names.filter { contains($0.1) }.map(\.0) }
    /// Comma-separated, in canonical order ("read,write").
    public var description: String { list.joined(separator: ",") }
    /// Space-separated, as OAuth writes scopes (RFC 6749 §3.3).
    public var oauthString: String { list.joined(separator: " ") }
}

import Foundation
