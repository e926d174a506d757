/// Who may use the admin pages: a user holding `admin` (read, write and delete) on the built-in app, in its
/// `local` environment or on every environment (`*`).
public enum Operators {
    public static func isOperator(_ user: User, store: Store) throws -> Bool {
        guard user.disabledAt == nil else { return false }
        let grants = try Grants(store: store).applicable(userID: user.id, app: Apps.builtInApp, env: Apps.builtInEnv)
        return grants.contains { $0.scopes.isSuperset(of: .all) }
    }
}
