/// One access question — may this user (through this token, if any) do this on app/env? — asked the same
/// way by the gateway, `mcpctl can-i`, the built-in `can_i` tool and the consent page, and answered by
/// `Policy.answer` (or `AccessView.decide`, through the gateway's cache).
public struct AccessRequest: Sendable {
    /// What is asked for: a scope, a call of a tool (whose scope the store says), or anything at all
    /// (then the answer's effective scopes say what).
    public enum Action: Sendable {
        case scope(ScopeSet)
        case tool(String)
        case anything
    }

    public let userID: Int64
    public let app: String
    public let env: String
    public let action: Action
    /// The token's scopes; nil when the question is about the user's grants alone.
    public let tokenScopes: ScopeSet?
    public let tokenID: String?
    /// The app/environment a token is bound to; a token bound elsewhere reaches nothing here.
    public let binding: (app: String?, env: String?)

    public init(userID: Int64, app: String, env: String, action: Action, tokenScopes: ScopeSet? = nil, tokenID: String? = nil,
                binding: (app: String?, env: String?) = (nil, nil)) {
        self.userID = userID; self.app = app; self.env = env; self.action = action
        self.tokenScopes = tokenScopes; self.tokenID = tokenID; self.binding = binding
    }

    /// The question for a verified token: its scopes, and its binding when it is a personal token (an
    /// OAuth access token's resource is checked where it is presented).
    public init(principal p: Principal, app: String, env: String, action: Action) {
        self.init(userID: p.userID, app: app, env: env, action: action, tokenScopes: p.scopes, tokenID: p.tokenID,
                  binding: p.kind == .pat ? (p.app, p.env) : (nil, nil))
    }
}
