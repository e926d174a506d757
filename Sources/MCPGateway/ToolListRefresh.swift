import Foundation
import HTTP
import MCPAuth

/// App/environments whose remembered tool list is out of date: the upstream announced
/// `notifications/tools/list_changed` (MCP 2025-11-25, server/tools), or this process has not asked for
/// the list within `freshFor` (an upstream can change its tools silently, e.g. when it is redeployed;
/// tool pinning must see the change before a call goes through), so the next `tools/call` there asks for
/// the list again before it is decided.
final class StaleToolLists: Sendable {
    private let stale = Guarded<Set<String>>([])
    /// When this process last asked each app/env for its tool list.
    private let asked = Guarded<[String: Date]>([:])
    /// More than this many stale lists at once and the oldest facts are dropped (each is re-marked by its upstream).
    private let limit = 10_000
    /// How long a tool list read from the upstream is trusted without a `list_changed` notification.
    static let freshFor: TimeInterval = 300

    private static func key(_ app: String, _ env: String) -> String { app + "\u{0}" + env }

    func mark(app: String, env: String) {
        stale.withLock {
            if $0.count >= limit { $0.removeAll() }
            $0.insert(StaleToolLists.key(app, env))
        }
    }

    /// Records that the list was asked for now (whether or not the upstream answered), so that an
    /// upstream that cannot list its tools is not asked on every call.
    func asking(app: String, env: String) {
        asked.withLock {
            if $0.count >= limit { $0.removeAll() }
            $0[StaleToolLists.key(app, env)] = Date()
        }
    }

    func clear(app: String, env: String) { _ = stale.withLock { $0.remove(StaleToolLists.key(app, env)) } }

    func isStale(app: String, env: String) -> Bool {
        let key = StaleToolLists.key(app, env)
        if stale.withLock({ $0.contains(key) }) { return true }
        guard let at = asked.withLock({ $0[key] }) else { return true }
        return Date().timeIntervalSince(at) > StaleToolLists.freshFor
    }
}

/// Asking an upstream for its tool list on the gateway's own account, within the caller's session (the
/// caller's `Mcp-Session-Id` on an HTTP upstream, the caller's process on a stdio one): done before a
/// `tools/call` of a tool the gateway has not seen, so that a tool's annotations, not its absence, decide
/// the scope it needs. Only a tool the upstream does not list falls to delete.
extension Gateway {
    /// Most pages of a paginated list read in one refresh (MCP 2025-11-25 pagination).
    static let maxRefreshPages = 16

    /// Reads the upstream's whole tool list and remembers it; false when it could not be read.
    @discardableResult
    func refreshToolList(_ request: HTTPRequest, environment: AppEnvironment, principal: Principal, app: String, env: String) -> Bool {
        staleTools.asking(app: app, env: env)
        var tools: [ToolListFilter.SeenTool] = []
        var definitions: [JSON] = []
        var cursor: String?
        for _ in 0..<Gateway.maxRefreshPages {
            guard let result = listPage(request, environment: environment, principal: principal, app: app, env: env, cursor: cursor),
                  let page = result["tools"]?.arrayValue else { return false }
            definitions += page
            for tool in page {
                if let name = tool["name"]?.stringValue { tools.append((name, tool["annotations"], tool["description"]?.stringValue)) }
            }
            guard let next = result["nextCursor"]?.stringValue, !next.isEmpty else {
                do {
                    try pool.with {
                        try ToolListFilter.pin(store: $0, app: app, env: env, tools: definitions, approval: configuration.toolApproval)
                        try ToolListFilter.remember(store: $0, app: app, env: env, tools: tools, replacing: true)
                    }
                } catch {
                    log.error("store error while recording a refreshed tool list: \(error)")
                    return false
                }
                staleTools.clear(app: app, env: env)
                return true
            }
            cursor = next
        }
        return false
    }

    /// One `tools/list` page's result from the upstream, or nil.
    private func listPage(_ request: HTTPRequest, environment: AppEnvironment, principal: Principal, app: String, env: String,
                          cursor: String?) -> JSON? {
        let id: JSON = .string("mcpctl-refresh-" + Base62.random(count: 16))
        var params: JSON = .object([])
        if let cursor { params.set("cursor", .string(cursor)) }
        let ask: JSON = .object([("jsonrpc", "2.0"), ("id", id), ("method", "tools/list"), ("params", params)])
        let answer: JSON?
        if environment.command != nil {
            guard let sessionID = request.headers["Mcp-Session-Id"],
                  let session = stdio.session(sessionID, user: principal.userID, app: app, env: env) else { return nil }
            answer = session.request(ask, id: id, timeout: environment.timeoutSeconds ?? configuration.upstreamTimeout)
        } else if let url = environment.upstreamURL {
            guard let headers = try? configuration.upstreamCredentials.resolved(environment, kind: .header) else { return nil }
            answer = http.ask(ask, id: id, to: url, timeout: environment.timeoutSeconds, like: request, upstreamHeaders: headers)
        } else {
            answer = nil
        }
        return answer?["result"]
    }
}
