#if canImport(Glibc)
import Glibc
#endif

/// Where an `HTTPServer` listens and the limits it enforces on clients.
public struct HTTPServerConfiguration: Sendable {
    /// An IPv4 or IPv6 literal (`127.0.0.1`, `::1`, `0.0.0.0`, `::`), or `localhost`.
    public var host: String
    /// The TCP port; 0 picks a free one (see `HTTPServer.start()`).
    public var port: Int
    /// Longest request head (request line and fields); longer → 431 (414 for a request line alone).
    public var maxHeadBytes: Int
    /// Largest request body; larger → 413.
    public var maxBodyBytes: Int
    /// Most header fields in one request; more → 431.
    public var maxHeaderCount: Int
    /// Seconds from the first byte of a request until its head is complete; slower → 408 and close.
    public var headTimeout: Double
    /// Seconds from the end of the head until the body is complete; slower → 408 and close.
    public var bodyTimeout: Double
    /// Seconds a connection may sit idle (before its first request, or kept alive between requests) before
    /// it is closed silently (RFC 9112 §9.8 lets a server close an idle connection at any time). Short, so
    /// that idle sockets do not hold connection slots.
    public var idleTimeout: Double
    /// Seconds one write to the client may block (client not reading) before the connection is dropped.
    public var writeTimeout: Double
    /// Most simultaneous connections; beyond this new ones get a 503 and are closed.
    public var maxConnections: Int
    /// Most simultaneous connections from one client IP address; beyond this that address's new connections
    /// get a 503 and are closed, while other addresses are still admitted.
    public var maxConnectionsPerAddress: Int
    /// Stack size of each worker thread; handlers run on it.
    public var threadStackSize: Int
    /// Event-loop threads: one accepts, and connections are shared out among all of them in turn. By default
    /// one per CPU core, at most four.
    public var eventLoops: Int = HTTPServerConfiguration.defaultEventLoops

    public static var defaultEventLoops: Int { max(1, min(4, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))) }

    public init(host: String = "127.0.0.1", port: Int = 8000,
                maxHeadBytes: Int = 16 * 1024, maxBodyBytes: Int = 4 * 1024 * 1024, maxHeaderCount: Int = 100,
                headTimeout: Double = 10, bodyTimeout: Double = 30, idleTimeout: Double = 10,
                writeTimeout: Double = 30, maxConnections: Int = 1024, maxConnectionsPerAddress: Int = 64,
                threadStackSize: Int = 4 * 1024 * 1024) {
        self.host = host
        self.port = port
        self.maxHeadBytes = maxHeadBytes
        self.maxBodyBytes = maxBodyBytes
        self.maxHeaderCount = maxHeaderCount
        self.headTimeout = headTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.writeTimeout = writeTimeout
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
        self.threadStackSize = threadStackSize
    }
}
