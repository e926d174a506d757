import Foundation
import MCPAuth

/// The sessions the gateway holds with handshake-era upstreams (2025-11-25: `initialize`, then
/// `Mcp-Session-Id`) on behalf of 2026-07-28 clients, which have no session of their own. One session per
/// (user, app, environment): a session belongs to the user and the endpoint that opened it (MCP
/// security best practices: session hijacking), so callers never share one. Bounded (the least
/// recently used goes first) and closed when idle.
final class UpstreamSessionPool: Sendable {
    /// Whose session it is.
    struct Key: Hashable, Sendable {
        let user: Int64
        let app: String
        let env: String
    }

    /// An open upstream session and what its `initialize` answered.
    struct Session: Sendable {
        let id: String
        /// The `initialize` result (protocol version, capabilities, server info, instructions).
        let initializeResult: JSON
        /// Ends the session at the upstream (DELETE, or the stdio process).
        let close: @Sendable () -> Void
        var protocolVersion: String { initializeResult["protocolVersion"]?.stringValue ?? ProtocolRevision.latestHandshake }
    }

    private struct Entry {
        var session: Session
        var lastUsed: Date
    }

    private let entries = Guarded<[Key: Entry]>([:])
    let limit: Int
    let idleTimeout: Double

    /// Most sessions held at once unless the server says otherwise.
    static let defaultLimit = 256

    init(limit: Int = UpstreamSessionPool.defaultLimit, idleTimeout: Double) {
        self.limit = max(1, limit)
        self.idleTimeout = idleTimeout
    }

    var count: Int { entries.withLock { $0.count } }

    /// The key's session, opened with `open` when there is none. Opening happens outside the lock; when two
    /// requests open one at once, the later is closed and the first kept.
    func session(_ key: Key, open: () throws -> Session) rethrows -> Session {
        if let found = touch(key) { return found }
        let opened = try open()
        let (kept, extra) = insert(opened, for: key)
        for s in extra { s.close() }
        return kept
    }

    /// Forgets the key's session if it is still `id` (the upstream said it no longer knows it), and closes it.
    func drop(_ key: Key, id: String) {
        let gone = entries.withLock { e -> Session? in
            guard let entry = e[key], entry.session.id == id else { return nil }
            e.removeValue(forKey: key)
            return entry.session
        }
        gone?.close()
    }

    /// Closes the sessions idle longer than the timeout (`now` for tests); returns how many.
    @discardableResult
    func closeIdle(now: Date = Date()) -> Int {
        let idle = entries.withLock { e -> [Session] in
            let keys = e.filter { now.timeIntervalSince($0.value.lastUsed) > idleTimeout }.map(\.key)
            return keys.compactMap { e.removeValue(forKey: $0)?.session }
        }
        for s in idle { s.close() }
        return idle.count
    }

    /// Closes every session (on shutdown).
    func closeAll() {
        let all = entries.withLock { e -> [Session] in defer { e.removeAll() }; return e.values.map(\.session) }
        for s in all { s.close() }
    }

    private func touch(_ key: Key) -> Session? {
        entries.withLock { e in
            guard e[key] != nil else { return nil }
            e[key]?.lastUsed = Date()
            return e[key]?.session
        }
    }

    /// Stores `opened` unless another request stored one first; over the limit, the least recently used
    /// sessions make room. Returns the session to use and those to close.
    private func insert(_ opened: Session, for key: Key) -> (Session, [Session]) {
        entries.withLock { e in
            if let existing = e[key] { return (existing.session, [opened]) }
            var evicted: [Session] = []
            while e.count >= limit, let oldest = e.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
                evicted.append(oldest.value.session)
                e.removeValue(forKey: oldest.key)
            }
            e[key] = Entry(session: opened, lastUsed: Date())
            return (opened, evicted)
        }
    }
}
