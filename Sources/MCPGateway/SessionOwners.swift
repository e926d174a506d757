import Synchronization

/// Binds each MCP session id to the user who created it, so a session id seen or guessed by another
/// user is worthless (MCP security best practices: session hijacking).
final class SessionOwners: Sendable {
    private let owners = Mutex<[String: Int64]>([:])

    func register(_ session: String, user: Int64) { owners.withLock { $0[session] = user } }
    func remove(_ session: String) { _ = owners.withLock { $0.removeValue(forKey: session) } }

    /// False when the session belongs to someone else; unknown sessions are left to the upstream.
    func mayUse(_ session: String, user: Int64) -> Bool {
        owners.withLock { $0[session].map { $0 == user } ?? true }
    }
}
