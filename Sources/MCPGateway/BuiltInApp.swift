import Foundation
import MCPAuth

/// The built-in MCP server of app `mcpctl`, environment `local`: read-only tools over the store itself,
/// answering for the caller (their identity, tokens, connected applications, audit events, permissions).
struct BuiltInApp {
    static let supportedVersions = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
    static let readOnly: JSON = .object([("readOnlyHint", true), ("destructiveHint", false), ("openWorldHint", false)])

    static func tool(_ name: String, _ description: String, _ properties: [(String, JSON)], required: [String] = []) -> JSON {
        .object([("name", .string(name)), ("description", .string(description)),
                 ("inputSchema", .object([("type", "object"), ("properties", .object(properties)),
                                          ("required", .array(required.map { .string($0) }))])),
                 ("annotations", readOnly)])
    }

    static let tools: [JSON] = [
        tool("whoami", "Who the caller is: email, token, scopes and grants.", []),
        tool("audit_query", "Recent audit events of the caller (all users' events for admins of mcpctl/local).", [
            ("limit", .object([("type", "integer"), ("description", "At most this many events (default 20, max 200).")])),
            ("since", .object([("type", "string"), ("description", "Only events newer than this duration, e.g. 1h or 7d.")])),
            ("tool", .object([("type", "string"), ("description", "Only calls of this tool.")])),
            ("decision", .object([("type", "string"), ("enum", .array(["allow", "deny"]))])),
            ("email", .object([("type", "string"), ("description", "Admins only: events of this user.")])),
        ]),
        tool("list_connected_applications", "OAuth clients the caller has connected.", []),
        tool("list_my_tokens", "The caller's live tokens (never their secrets).", []),
        tool("can_i", "Whether the caller may do something on an app/env, and why.", [
            ("action", .object([("type", "string"), ("description", "read, write, delete or tool/NAME")])),
            ("app", .object([("type", "string")])), ("env", .object([("type", "string")])),
        ], required: ["action", "app", "env"]),
    ]

    let store: Store
    let principal: Principal
    let effective: ScopeSet

    /// Answers one JSON-RPC request (nil for notifications and client responses, which get 202).
    func answer(_ m: MCPMessage) -> JSON? {
        guard m.isRequest, let method = m.method else { return nil }
        switch method {
        case "initialize":
            let asked = m.params?["protocolVersion"]?.stringValue ?? ""
            let version = BuiltInApp.supportedVersions.contains(asked) ? asked : BuiltInApp.supportedVersions[0]
            return MCPMessage.result(id: m.id, .object([
                ("protocolVersion", .string(version)),
                ("capabilities", .object([("tools", .object([("listChanged", false)]))])),
                ("serverInfo", .object([("name", "mcpctl"), ("version", "0.1.0")])),
                ("instructions", "Read-only tools over this mcpctl store: whoami, audit_query, list_connected_applications, list_my_tokens, can_i."),
            ]))
        case "ping":
            return MCPMessage.result(id: m.id, .object([]))
        case "tools/list":
            return MCPMessage.result(id: m.id, .object([("tools", .array(BuiltInApp.tools))]))
        case "tools/call":
            let name = m.toolName ?? ""
            do {
                let text = try call(name, m.arguments ?? .object([]))
                return MCPMessage.result(id: m.id, .object([("content", .array([.object([("type", "text"), ("text", .string(text.encoded(pretty: true)))])])),
                                                            ("structuredContent", text.objectValue != nil ? text : .object([("items", text)])),
                                                            ("isError", false)]))
            } catch let e as DomainError {
                return MCPMessage.result(id: m.id, .object([("content", .array([.object([("type", "text"), ("text", .string(e.description))])])), ("isError", true)]))
            } catch BuiltInError.unknownTool {
                return MCPMessage.error(id: m.id, code: -32602, message: "Unknown tool: \(name)")
            } catch {
                return MCPMessage.result(id: m.id, .object([("content", .array([.object([("type", "text"), ("text", "internal error")])])), ("isError", true)]))
            }
        case "resources/list": return MCPMessage.result(id: m.id, .object([("resources", .array([]))]))
        case "prompts/list": return MCPMessage.result(id: m.id, .object([("prompts", .array([]))]))
        default:
            return MCPMessage.error(id: m.id, code: -32601, message: "Method not found: \(method)")
        }
    }

    enum BuiltInError: Error { case unknownTool }

    func call(_ name: String, _ args: JSON) throws -> JSON {
        switch name {
        case "whoami":
            let grants = try Grants(store: store).list(email: principal.email)
            return .object([("email", .string(principal.email)), ("token_id", .string(principal.tokenID)),
                            ("token_kind", .string(principal.kind.rawValue)), ("client_id", .str(principal.clientID)),
                            ("token_scopes", .array(principal.scopes.list.map { .string($0) })),
                            ("effective_scopes", .array(effective.list.map { .string($0) })),
                            ("grants", .array(grants.map(\.json)))])
        case "audit_query":
            var f = AuditFilter()
            let isAdmin = effective.contains(.delete)
            if let email = args["email"]?.stringValue, isAdmin { f.email = email } else if !isAdmin { f.email = principal.email }
            if let since = args["since"]?.stringValue {
                guard let s = DurationText.seconds(since) else { throw DomainError.invalid("since must be a duration like 1h or 7d") }
                f.since = Clock.nowMillis() - s * 1000
            }
            f.tool = args["tool"]?.stringValue
            if let d = args["decision"]?.stringValue {
                guard let decision = AuditDecision(rawValue: d) else { throw DomainError.invalid("decision must be allow or deny") }
                f.decision = decision
            }
            let limit = min(200, max(1, Int(args["limit"]?.intValue ?? 20)))
            return .array(try AuditQuery.list(f, limit: limit, db: store.db).map(\.json))
        case "list_connected_applications":
            return .array(try Clients(store: store).list(email: principal.email, includeBlocked: false).map(\.json))
        case "list_my_tokens":
            return .array(try Tokens(store: store).list(email: principal.email, includeInactive: false).map(\.json))
        case "can_i":
            guard let action = args["action"]?.stringValue, let app = args["app"]?.stringValue, let env = args["env"]?.stringValue else {
                throw DomainError.invalid("can_i needs action, app and env")
            }
            let asked: AccessRequest.Action
            if action.hasPrefix("tool/") {
                asked = .tool(String(action.dropFirst(5)))
            } else if let s = ScopeSet.named(action) { asked = .scope(s) } else {
                throw DomainError.invalid("action must be read, write, delete or tool/NAME")
            }
            let d = try Policy.answer(AccessRequest(principal: principal, app: app, env: env, action: asked), store: store)
            return .object([("allowed", .bool(d.allowed)), ("reason", .string(d.hasAccess ? d.reason : "App not found"))])
        default:
            throw BuiltInError.unknownTool
        }
    }
}
