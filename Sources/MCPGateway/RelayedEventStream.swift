import HTTP

/// An upstream's event stream passed on to the client (a GET stream, a resumed one, any POST answered with a
/// stream that is not a tools/list answer): chunk by chunk as the upstream sends it, each tool list in it
/// narrowed (`ToolListRelay`), `notifications/tools/list_changed` noticed (`ListChangedWatch`), and the
/// caller's access asked again before each piece. A quiet stream gets an SSE comment as a keep-alive after
/// each quiet interval (which also notices a client that went away); once the caller may no longer receive
/// anything (a revoked token, disabled user or removed grant) the stream ends at its next piece or keep-alive.
///
/// As an `HTTPEventSource` the server waits on the upstream's socket without a thread and calls `pump` only
/// when bytes arrived or the interval passed; `relayBlocking` runs it on the calling thread instead (an
/// answer read off no socket the server could watch). One thread at a time uses it: the server hands it
/// over through locks.
final class RelayedEventStream: HTTPEventSource, @unchecked Sendable {
    let quietInterval: Double
    private let upstream: HTTPClientResponse
    private let allowed: @Sendable () -> Bool
    private let toolsChanged: @Sendable () -> Void
    private var watch = ListChangedWatch()
    private var relay: ToolListRelay?
    /// The upstream socket, once `watchable()` took it; nil before.
    private var held: Int32?

    init(_ upstream: HTTPClientResponse, filter: ToolListFilter.Apply?, quietInterval: Double,
         allowed: @escaping @Sendable () -> Bool, toolsChanged: @escaping @Sendable () -> Void) {
        self.upstream = upstream
        self.quietInterval = quietInterval
        self.allowed = allowed
        self.toolsChanged = toolsChanged
        relay = filter.map { ToolListRelay(filter: $0) }
    }

    /// Whether the server can wait on the upstream's socket (a plain-http answer still being read); from
    /// then on that socket stays the stream's until `close()`.
    func watchable() -> Bool {
        held = upstream.holdDescriptor()
        return held != nil
    }

    var descriptor: Int32 { held ?? -1 }

    func pump(_ writer: any HTTPBodyWriter, quiet: Bool) throws -> Bool {
        if quiet {
            guard allowed() else { return false }
            try writer.write(SSEEvent.comment("keep-alive"))
        }
        while true {
            guard let chunk = try upstream.readAvailableChunk() else { return false }
            if chunk.isEmpty { return true }
            guard allowed(), try pass(chunk, to: writer) else { return false }
        }
    }

    func close() {
        upstream.close()
    }

    /// Runs the stream to its end on the calling thread, waiting in the upstream's reads.
    func relayBlocking(_ writer: any HTTPBodyWriter) throws {
        defer { close() }
        while let chunk = try nextChunk(writer) {
            guard try pass(chunk, to: writer) else { return }
        }
    }

    /// Passes one chunk on; false when the stream must end: a tool list it could not narrow, or an event
    /// that grew too large.
    private func pass(_ chunk: [UInt8], to writer: any HTTPBodyWriter) throws -> Bool {
        if watch.sees(chunk) { toolsChanged() }
        guard relay != nil else {
            try writer.write(chunk)
            return true
        }
        guard let out = relay?.pass(chunk) else { return false }
        if !out.isEmpty { try writer.write(out) }
        return true
    }

    /// The next chunk, waiting up to the upstream timeout and sending a keep-alive after each wait; nil
    /// at the end, or once the caller may no longer receive anything.
    private func nextChunk(_ writer: any HTTPBodyWriter) throws -> [UInt8]? {
        while true {
            do {
                guard let chunk = try upstream.readChunk() else { return nil }
                return allowed() ? chunk : nil
            } catch HTTPClientError.timedOut {
                guard allowed() else { return nil }
                try writer.write(SSEEvent.comment("keep-alive"))
            }
        }
    }
}
