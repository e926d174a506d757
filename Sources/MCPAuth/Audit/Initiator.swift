/// Who asked for an administrative change, and through which door: the CLI (the operating-system user),
/// a user's own account page, or an operator's admin page (the signed-in email and the browser's address).
/// Domain operations take one so that the same change is audited the same way whoever asks.
public struct Initiator: Sendable {
    /// The audit source: `cli`, `account` or `admin`.
    public let source: AuditSource
    public let actor: String?
    public let remoteAddr: String?

    public init(source: AuditSource, actor: String?, remoteAddr: String?) {
        self.source = source
        self.actor = actor
        self.remoteAddr = remoteAddr
    }

    /// The operator at a shell.
    public static var cli: Initiator { Initiator(source: .cli, actor: OperatingSystemUser.name, remoteAddr: nil) }

    /// A signed-in user acting on what they hold.
    public static func account(email: String, remoteAddr: String?) -> Initiator {
        Initiator(source: .account, actor: email, remoteAddr: remoteAddr)
    }

    /// A signed-in operator acting from the admin pages.
    public static func admin(email: String, remoteAddr: String?) -> Initiator {
        Initiator(source: .admin, actor: email, remoteAddr: remoteAddr)
    }

    /// The audit event of an allowed change made for this initiator.
    public func event(_ action: String, email: String? = nil, tokenID: String? = nil, clientID: String? = nil,
                      app: String? = nil, env: String? = nil, target: String? = nil, reason: String? = nil) -> AuditEvent {
        AuditEvent(source: source, action: action, actor: actor, email: email, tokenID: tokenID, clientID: clientID,
                   app: app, env: env, decision: .allow, reason: reason, remoteAddr: remoteAddr, target: target)
    }
}
