import HTTP
import MCPAuth

/// MCP 2026-07-28 (caching): list results carry `ttlMs` (how long a client may treat them as fresh) and
/// `cacheScope` (`public`: shareable across authorization contexts, `private`: only within the one that
/// produced it). A list the gateway narrowed for one caller is that caller's alone, so it is marked
/// private, and its freshness is capped so that a grant or scope change shows within a minute.
enum CacheHints {
    /// The longest freshness the gateway gives a list it narrowed per caller, in milliseconds.
    static let maxPrivateTTL: Int64 = 60_000

    /// `message` (a JSON-RPC response) with its result marked private and its `ttlMs` at most the
    /// upstream's and at most `maxPrivateTTL`; a message without a result is returned unchanged.
    /// `modern` adds the hints when the upstream gave none (a handshake-era upstream, or none given).
    static func narrowed(_ message: JSON, modern: Bool) -> JSON {
        guard var result = message["result"], result.objectValue != nil else { return message }
        let upstreamTTL = result["ttlMs"]?.intValue
        guard modern || upstreamTTL != nil || result["cacheScope"] != nil else { return message }
        result = ToolListFilter.replacing("cacheScope", in: result, with: "private")
        result = ToolListFilter.replacing("ttlMs", in: result, with: .int(min(max(upstreamTTL ?? 0, 0), maxPrivateTTL)))
        return ToolListFilter.replacing("result", in: message, with: result)
    }

    /// RFC 9111 §5.2.2.7: an HTTP answer meant for one caller is `private` to shared caches.
    static func markPrivate(_ response: inout HTTPResponse) {
        response.headers["Cache-Control"] = "private"
    }
}
