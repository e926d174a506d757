/// One audit-log entry before it is written: who did what, to what, with which outcome. Never a secret.
public struct AuditEvent: Sendable {
    public var at: Int64
    public var source: AuditSource
    public var action: String          // e.g. token.create, tools/call, oauth.token
    public var actor: String?          // operating-system user for cli events
    public var email: String?
    public var tokenID: String?
    public var clientID: String?
    public var app: String?
    public var env: String?
    public var method: String?
    public var tool: String?
    public var decision: AuditDecision?
    public var reason: String?
    public var status: Int?
    public var durationMs: Double?
    public var remoteAddr: String?
    public var target: String?
    public var argsDigest: String?

    public init(source: AuditSource, action: String, actor: String? = nil, email: String? = nil, tokenID: String? = nil,
                clientID: String? = nil, app: String? = nil, env: String? = nil, method: String? = nil, tool: String? = nil,
                decision: AuditDecision? = nil, reason: String? = nil, status: Int? = nil, durationMs: Double? = nil,
                remoteAddr: String? = nil, target: String? = nil, argsDigest: String? = nil, at: Int64 = Clock.nowMillis()) {
        self.at = at; self.source = source; self.action = action; self.actor = actor; self.email = email
        self.tokenID = tokenID; self.clientID = clientID; self.app = app; self.env = env; self.method = method
        self.tool = tool; self.decision = decision; self.reason = reason; self.status = status
        self.durationMs = durationMs; self.remoteAddr = remoteAddr; self.target = target; self.argsDigest = argsDigest
    }

    /// An administrative event from the CLI, attributed to the operating-system user.
    public static func cli(_ action: String, email: String? = nil, tokenID: String? = nil, clientID: String? = nil,
                           app: String? = nil, env: String? = nil, target: String? = nil, reason: String? = nil) -> AuditEvent {
        AuditEvent(source: .cli, action: action, actor: OperatingSystemUser.name, email: email, tokenID: tokenID,
                   clientID: clientID, app: app, env: env, decision: .allow, reason: reason, target: target)
    }
}

/// The name of the user running this process, for attributing CLI changes.
public enum OperatingSystemUser {
    public static let name: String = {
        if let pw = getpwuid(geteuid()), let n = pw.pointee.pw_name { return String(cString: n) }
        return "uid:\(geteuid())"
    }()
}
#if canImport(Glibc)
import Glibc
#endif
