/// A named set of users: a grant given to it applies to every member, as if given to each.
public struct Group: Sendable {
    public let id: Int64
    public let name: String
    /// The identity provider's groups-claim value this group follows at sign-in; nil when managed by hand.
    public let idpGroup: String?
    /// The identity provider whose groups claim the mapping reads; nil with an `idpGroup` only when the
    /// mapping was made before any provider existed and was never bound (it then follows no provider).
    public let idp: String?
    public let createdAt: Int64
    public let memberCount: Int64
    public let grantCount: Int64

    init(row: Row) throws {
        id = try row.integer("id", of: "user_groups")
        name = try row.text("name", of: "user_groups")
        idpGroup = row.string("idp_group")
        idp = row.string("idp")
        createdAt = try row.integer("created_at", of: "user_groups")
        memberCount = try row.integer("member_count", of: "user_groups")
        grantCount = try row.integer("grant_count", of: "user_groups")
    }

    public var json: JSON {
        .object([("name", .string(name)), ("idp_group", .str(idpGroup)), ("idp", .str(idp)), ("member_count", .int(memberCount)),
                 ("grant_count", .int(grantCount)), ("created_at", .string(Clock.rfc3339(createdAt)))])
    }
}

/// Adding, listing and removing groups and their members. Every change is audited, and bumps the
/// policy generation (migration `0007_groups`) so the gateway honours it on its next request.
public struct Groups: Sendable {
    let store: Store
    var db: Database { store.db }

    public init(store: Store) { self.store = store }

    static let select = """
        SELECT g.id, g.name, g.idp_group, g.idp, g.created_at,
               (SELECT count(*) FROM group_members m WHERE m.group_id = g.id) AS member_count,
               (SELECT count(*) FROM group_grants x WHERE x.group_id = g.id) AS grant_count
        FROM user_groups g
        """

    /// Adds a group; with `idpGroup` its membership follows that value of the groups claim of one identity
    /// provider: `idp`, or else the only provider there is. A mapping made before any provider exists is
    /// bound to the first one added (`IdentityProviders.add`); with several providers `idp` is required, so
    /// that one provider's groups claim can never decide membership of a group meant for another's.
    @discardableResult
    public func add(name: String, idpGroup: String? = nil, idp: String? = nil) throws -> Group {
        try GroupName.validate(name)
        if let idpGroup { try GroupName.validateIdPGroup(idpGroup) }
        if idp != nil && idpGroup == nil { throw DomainError.invalid("--idp names the provider of an --idp-group mapping: give --idp-group too") }
        return try db.write {
            if let existing = try find(name) { throw DomainError.alreadyExists("a group named '\(existing.name)' already exists") }
            let provider = try idpGroup == nil ? nil : mappingProvider(idp)
            try db.run("INSERT INTO user_groups (name, idp_group, idp, created_at) VALUES (?, ?, ?, ?)",
                       [.text(name), idpGroup.map { .text($0) } ?? .null, provider.map { .text($0) } ?? .null, .integer(Clock.nowMillis())])
            try AuditLog.append(.cli("group.add", target: name, reason: "group \(name)" + (idpGroup.map { ", idp_group=\($0)" } ?? "")
                                     + (provider.map { ", idp=\($0)" } ?? "")), to: db)
            return try require(name)
        }
    }

    /// The provider a new mapping is bound to: the one named (it must exist), the only one, or none yet.
    private func mappingProvider(_ named: String?) throws -> String? {
        let providers = IdentityProviders(store: store)
        if let named { return try providers.require(named).name }
        let all = try providers.list()
        guard all.count <= 1 else {
            throw DomainError.invalid("there are \(all.count) identity providers: name the one whose groups claim this group follows with --idp")
        }
        return all.first?.name
    }

    /// The group named `name` (ASCII case-insensitive), or nil. A name that could never have been stored is refused.
    public func find(_ name: String) throws -> Group? {
        try GroupName.validate(name)
        return try db.first(Groups.select + " WHERE g.name = ?", [.text(name)]).map(Group.init)
    }

    /// The group, or a not-found error naming it.
    public func require(_ name: String) throws -> Group {
        guard let group = try find(name) else { throw DomainError.notFound("no group named '\(name)' (see 'mcpctl group list')") }
        return group
    }

    public func list() throws -> [Group] {
        try db.query(Groups.select + " ORDER BY g.name").map(Group.init)
    }

    /// The members of the group, in email order.
    public func members(of name: String) throws -> [User] {
        let group = try require(name)
        return try db.query("SELECT \(Users.columns) FROM users WHERE id IN (SELECT user_id FROM group_members WHERE group_id = ?) ORDER BY email",
                            [.integer(group.id)]).map(User.init)
    }

    /// The names of the groups a user belongs to, in name order.
    public func names(ofUserID userID: Int64) throws -> [String] {
        try db.query("SELECT g.name FROM group_members m JOIN user_groups g ON g.id = m.group_id WHERE m.user_id = ? ORDER BY g.name",
                     [.integer(userID)]).map { try $0.text("name", of: "user_groups") }
    }

    /// Removes the group with its memberships and grants. Returns the group as it was.
    @discardableResult
    public func remove(_ name: String) throws -> Group {
        try db.write {
            let group = try require(name)
            try db.run("DELETE FROM user_groups WHERE id = ?", [.integer(group.id)])
            try AuditLog.append(.cli("group.remove", target: group.name,
                                     reason: "group \(group.name): \(group.memberCount) members, \(group.grantCount) grants removed"), to: db)
            return group
        }
    }

    /// Makes the user a member; a member already is one (refused, nothing changes). Returns the group's
    /// and the user's names as stored.
    @discardableResult
    public func addMember(group name: String, email: String) throws -> (group: String, email: String) {
        try db.write {
            let group = try require(name)
            let user = try Users(store: store).require(email)
            let n = try db.run("INSERT INTO group_members (user_id, group_id, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                               [.integer(user.id), .integer(group.id), .integer(Clock.nowMillis())])
            guard n > 0 else { throw DomainError.alreadyExists("\(user.email) is already a member of group '\(group.name)'") }
            try AuditLog.append(.cli("group.member.add", email: user.email, target: group.name, reason: "group \(group.name)"), to: db)
            return (group.name, user.email)
        }
    }

    /// Ends the user's membership; what it granted is gone on the gateway's next request.
    @discardableResult
    public func removeMember(group name: String, email: String) throws -> (group: String, email: String) {
        try db.write {
            let group = try require(name)
            let user = try Users(store: store).require(email)
            let n = try db.run("DELETE FROM group_members WHERE user_id = ? AND group_id = ?", [.integer(user.id), .integer(group.id)])
            guard n > 0 else { throw DomainError.notFound("\(user.email) is not a member of group '\(group.name)'") }
            try AuditLog.append(.cli("group.member.remove", email: user.email, target: group.name, reason: "group \(group.name)"), to: db)
            return (group.name, user.email)
        }
    }
}
