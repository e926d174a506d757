/// What the OAuth endpoints need to know about a client, read by primary key without the aggregates of
/// `ClientRecord` (those count a client's tokens, which grow with every refresh).
public struct OAuthClient: Sendable {
    public let clientID: String
    public let name: String
    public let registration: String
    public let redirectURIs: [String]
    public let authMethod: String
    public let createdAt: Int64
    public let blockedAt: Int64?

    public var isConfidential: Bool { authMethod != "none" }

    public static func find(_ clientID: String, db: Database) throws -> OAuthClient? {
        guard let row = try db.first("""
            SELECT client_id, name, registration, redirect_uris, auth_method, created_at, blocked_at FROM clients WHERE client_id = ?
            """, [.text(clientID)]) else { return nil }
        return OAuthClient(clientID: row.string("client_id") ?? "", name: row.string("name") ?? "",
                           registration: row.string("registration") ?? "",
                           redirectURIs: (try? JSON.parse(row.string("redirect_uris") ?? "[]"))?.arrayValue?.compactMap(\.stringValue) ?? [],
                           authMethod: row.string("auth_method") ?? "none", createdAt: row.int("created_at") ?? 0,
                           blockedAt: row.int("blocked_at"))
    }
}
