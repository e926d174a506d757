/// A person who holds credentials: identified by email (case-insensitive), may be disabled.
public struct User: Sendable {
    public let id: Int64
    public let email: String
    public let name: String?
    public let createdAt: Int64
    public let disabledAt: Int64?
    public let hasPassword: Bool

    /// `MalformedRow` for a row without what the schema promises; name and disabled_at may be NULL, and a
    /// NULL password hash means the user signs in only with tokens.
    init(row: Row) throws {
        id = try row.integer("id", of: "users")
        email = try row.text("email", of: "users")
        name = try row.optionalText("name", of: "users")
        createdAt = try row.integer("created_at", of: "users")
        disabledAt = try row.optionalInteger("disabled_at", of: "users")
        hasPassword = row["password_hash"] != .null
    }

    public var json: JSON {
        .object([("email", .string(email)), ("name", .str(name)), ("status", .string(disabledAt == nil ? "active" : "disabled")),
                 ("has_password", .bool(hasPassword)), ("created_at", .string(Clock.rfc3339(createdAt))),
                 ("disabled_at", disabledAt.map { .string(Clock.rfc3339($0)) } ?? .null)])
    }
}

/// Email addresses as mcpctl accepts them: a pragmatic subset of RFC 5321 mailboxes, lower-cased.
public enum EmailAddress {
    /// Returns the normalised (lower-case) address, or nil if it is not a plausible mailbox. Only ASCII
    /// is accepted, checked before lower-casing: Unicode case mapping folds some non-ASCII letters into
    /// ASCII ones (U+212A KELVIN SIGN lower-cases to "k"), which would let a different address stand
    /// for an existing user.
    public static func normalize(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
        guard trimmed.utf8.count <= 254, trimmed.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7f }) else { return nil }
        let s = trimmed.lowercased()
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64, !parts[1].isEmpty else { return nil }
        let localAllowed = Set("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~.-")
        guard parts[0].allSatisfy({ localAllowed.contains($0) }), !parts[0].hasPrefix("."), !parts[0].hasSuffix("."),
              !parts[0].contains("..") else { return nil }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard !label.isEmpty, label.count <= 63, !label.hasPrefix("-"), !label.hasSuffix("-"),
                  label.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else { return nil }
        }
        return s
    }
}

import Foundation
