import Foundation
import HTTP
import MCPAuth

/// Which HTTP upstreams serve 2026-07-28 requests themselves, learnt the way a 2026-07-28 client learns it
/// (MCP 2026-07-28, lifecycle: a `server/discover` probe whose answer lists a version of that revision),
/// remembered per URL for a while. Stdio upstreams are spoken to with the handshake (2025-11-25).
final class UpstreamEras: Sendable {
    private struct Known { let modern: Bool; let until: Date }
    private let known = Guarded<[String: Known]>([:])
    /// How long a probe's answer is trusted.
    static let remembered: Double = 300
    /// More URLs than this and the memory starts afresh (each is probed again on its next request).
    private let limit = 10_000

    /// What is remembered of the upstream at `url`, without asking it: nil when nothing (or only an expired answer) is.
    func known(_ url: String) -> Bool? {
        guard let k = known.withLock({ $0[url] }), k.until > Date() else { return nil }
        return k.modern
    }

    /// Whether the upstream at `url` answers 2026-07-28 requests; `probe` asks it (nil: it did not answer).
    func isModern(_ url: String, probe: () -> Bool?) -> Bool {
        let now = Date()
        if let k = known.withLock({ $0[url] }), k.until > now { return k.modern }
        guard let modern = probe() else { return false }
        known.withLock {
            if $0.count >= limit { $0.removeAll() }
            $0[url] = Known(modern: modern, until: now.addingTimeInterval(UpstreamEras.remembered))
        }
        return modern
    }
}

extension HTTPUpstream {
    /// Probes `url` with `server/discover` at the newest 2026-07-28 version: true when it answers as a
    /// server of that revision, false when it answers otherwise (a 2025-11-25 server refuses the probe),
    /// nil when it did not answer at all.
    func answersModern(_ url: String, timeout: Double?) -> Bool? {
        let id: JSON = "mcpctl-discover"
        let version = ProtocolRevision.latestModern
        let probe: JSON = .object([("jsonrpc", "2.0"), ("id", id), ("method", "server/discover"), ("params", .object([
            ("_meta", .object([(ProtocolRevision.protocolVersionKey, .string(version)), (ProtocolRevision.clientCapabilitiesKey, .object([])),
                               (ProtocolRevision.clientInfoKey, .object([("name", "mcpctl-gateway"), ("version", "1")]))])),
        ]))])
        var headers = HTTPHeaders()
        headers["Content-Type"] = "application/json"
        headers["Accept"] = "application/json, text/event-stream"
        headers["MCP-Protocol-Version"] = version
        headers["Mcp-Method"] = "server/discover"
        let request = HTTPRequest(method: "POST", target: "/", headers: headers, body: probe.bytes)
        let outcome = forward(request, to: url, timeout: timeout, filter: nil)
        let answer = ResponseBody.answer(outcome.response, id: id)  // read whole, so the connection is released
        if outcome.status >= 500 { return nil }
        // A 2025-11-25 server may open a session even for the request it refuses: end it (MCP 2025-11-25
        // transport, session management: DELETE).
        if !(200..<300).contains(outcome.status), let session = outcome.response.headers["Mcp-Session-Id"] {
            var h = HTTPHeaders()
            h["Mcp-Session-Id"] = session
            _ = ResponseBody.bytes(forward(HTTPRequest(method: "DELETE", target: "/", headers: h), to: url, timeout: timeout, filter: nil).response)
        }
        guard (200..<300).contains(outcome.status), let versions = answer?["result"]?["supportedVersions"]?.arrayValue else {
            return false
        }
        return versions.contains { $0.stringValue.map(ProtocolRevision.modernVersions.contains) ?? false }
    }

    /// A request of the gateway's own as the caller's `request` is sent: within its session (its
    /// `Mcp-Session-Id` and `MCP-Protocol-Version`), or, for a 2026-07-28 caller, with its own envelope
    /// (that revision has no session).
    static func asked(_ message: JSON, like request: HTTPRequest) -> (HTTPHeaders, JSON) {
        var headers = HTTPHeaders()
        guard case .modern(let version) = ProtocolRevision.of(request.headers, nil) else {
            for name in ["Mcp-Session-Id", "MCP-Protocol-Version"] {
                if let value = request.headers[name] { headers[name] = value }
            }
            return (headers, message)
        }
        headers["MCP-Protocol-Version"] = version
        var out = message
        var params = message["params"] ?? .object([])
        params.set("_meta", .object([(ProtocolRevision.protocolVersionKey, .string(version)), (ProtocolRevision.clientCapabilitiesKey, .object([]))]))
        out.set("params", params)
        return (headers, out)
    }
}
