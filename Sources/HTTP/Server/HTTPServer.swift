#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// An HTTP/1.1 server: one event-loop thread (epoll) owns every connection that is waiting for bytes, and
/// a pool of worker threads calls the handler for each complete request and writes its response.
///
/// A connection holds a thread only while one of its requests is being answered (a `.stream` response holds
/// it for as long as it streams; an `.events` response only while it delivers, see `HTTPEventSource`); idle
/// keep-alive connections, requests still arriving and event streams waiting for their source hold none. The
/// handler may block (database, upstream calls); requests on one connection are served in order, connections
/// run in parallel. Limits and timeouts come from `HTTPServerConfiguration`; malformed or oversized requests
/// are answered with 400/408/413/414/431/501/505 before the handler sees them. A connection beyond the total
/// or the per-address cap is answered 503 by the loop and closed; an idle connection is closed after
/// `idleTimeout`, so idle sockets from one address cannot hold the slots others need.
public final class HTTPServer: Sendable {
    /// Why `start()` failed, apart from socket errors (`SocketError`).
    public enum StartError: Error, Sendable, CustomStringConvertible {
        case alreadyStarted
        case threadCreationFailed

        public var description: String {
            switch self {
            case .alreadyStarted: "the server was already started or shut down"
            case .threadCreationFailed: "could not start the event loop thread"
            }
        }
    }

    private enum Lifecycle {
        case idle
        /// The first loop accepts; all of them serve connections.
        case running(loops: [EventLoop], wake: (read: Int32, write: Int32))
        case stopping
        case stopped
    }

    public let configuration: HTTPServerConfiguration
    private let handler: @Sendable (HTTPRequest) -> HTTPResponse
    private let lifecycle = Guarded(Lifecycle.idle)
    /// Live connections. A connection leaves this table before its socket is closed,
    /// so a forced shutdown never touches a descriptor that was reused.
    private let connections = Guarded(ConnectionTable())
    private let stopping = Atomic(false)
    private let stopped = DispatchGroup()
    /// Runs handlers for every loop of the server. Every request in progress may hold a worker (a handler may
    /// wait on its upstream), as each held a thread of its own before; a smaller cap would let a few slow
    /// requests stall all the others. An event stream holds one only while it delivers.
    private let workers: WorkerPool

    private let onRejection: (@Sendable (HTTPRejection) -> Void)?
    private let answersOnLoop: (@Sendable (HTTPRequest) -> Bool)?

    /// `onRejection` is called (on a worker thread, before the error response is sent) for every
    /// request the server refuses itself; see `HTTPRejection`. The handler of a request `answersOnLoop`
    /// accepts runs on the loop thread itself and must not block there (see `LoopThread`).
    public init(configuration: HTTPServerConfiguration, onRejection: (@Sendable (HTTPRejection) -> Void)? = nil,
                answersOnLoop: (@Sendable (HTTPRequest) -> Bool)? = nil,
                handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse) {
        self.configuration = configuration
        self.handler = handler
        self.onRejection = onRejection
        self.answersOnLoop = answersOnLoop
        let connections = self.connections
        workers = WorkerPool(maxThreads: configuration.maxConnections, stackSize: configuration.threadStackSize,
                             jobSources: { connections.withLock { $0.count } })
    }

    /// Binds (with SO_REUSEADDR), listens and starts the event loop on a thread of its own; returns the bound port.
    @discardableResult
    public func start() throws -> Int {
        SignalWatcher.ignoreBrokenPipe()
        let (loops, port) = try lifecycle.withLock { state throws -> ([EventLoop], Int) in
            guard case .idle = state else { throw StartError.alreadyStarted }
            let (listener, port) = try Socket.makeListener(host: configuration.host, port: configuration.port)
            let wake: (read: Int32, write: Int32)
            do {
                wake = try Socket.makeWakePipe()
            } catch {
                close(listener)
                throw error
            }
            var loops: [EventLoop] = []
            do {
                for index in 0..<max(1, configuration.eventLoops) {
                    loops.append(try EventLoop(listener: index == 0 ? listener : nil, wakeFD: wake.read, configuration: configuration,
                                               handler: handler, onRejection: onRejection, answersOnLoop: answersOnLoop,
                                               isStopping: { [self] in stopping.load(ordering: .relaxed) }, connections: connections,
                                               workers: workers))
                }
            } catch {
                for loop in loops { loop.abandon() }
                if loops.isEmpty { close(listener) }
                close(wake.read)
                close(wake.write)
                throw error
            }
            loops[0].peers = Array(loops.dropFirst())
            state = .running(loops: loops, wake: wake)
            return (loops, port)
        }
        stopped.enter()
        // The loops that serve start first, so the accepting one never hands a connection to a loop not running.
        // A loop runs handlers too (see `LoopThread`): it gets a worker's stack.
        for loop in loops.reversed() where !DetachedThread.start(stackSize: configuration.threadStackSize, { loop.run() }) {
            abandonStart(loops, startedAfter: loop)
            throw StartError.threadCreationFailed
        }
        return port
    }

    /// A loop thread could not be started: the loops started before it (later in the list) stop, the others
    /// are released, and the server counts as stopped.
    private func abandonStart(_ loops: [EventLoop], startedAfter failed: EventLoop) {
        let wake = lifecycle.withLock { state -> (read: Int32, write: Int32)? in
            defer { state = .stopped }
            if case .running(_, let wake) = state { return wake }
            return nil
        }
        let index = loops.firstIndex { $0 === failed } ?? 0
        if let wake {
            stopping.store(true, ordering: .sequentiallyConsistent)
            var byte: UInt8 = 1
            _ = write(wake.write, &byte, 1)
            for loop in loops[(index + 1)...] { loop.ended.wait() }
            close(wake.read)
            close(wake.write)
        }
        for loop in loops[...index] { loop.abandon() }
        stopped.leave()
    }

    /// Stops accepting, closes idle keep-alive connections, lets requests in progress finish
    /// (their responses say `Connection: close`) for up to `gracePeriod` seconds, then cuts the
    /// connections that remain and returns. Safe to call more than once and from any thread.
    public func shutdown(gracePeriod: Double = 10) {
        let running = lifecycle.withLock { state -> (loops: [EventLoop], wake: (read: Int32, write: Int32))? in
            switch state {
            case .running(let loops, let wake):
                state = .stopping
                return (loops, wake)
            case .idle:
                state = .stopped
                return nil
            case .stopping, .stopped:
                return nil
            }
        }
        guard let running else {
            waitUntilStopped()
            return
        }
        stopping.store(true, ordering: .sequentiallyConsistent)
        var byte: UInt8 = 1
        _ = write(running.wake.write, &byte, 1)
        running.loops[0].listenerClosed.wait()

        let graceDeadline = Deadline.after(seconds: gracePeriod)
        waitForConnections(until: graceDeadline)
        if activeConnectionCount > 0 {
            connections.withLock { table in
                for fd in table.sockets { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
            }
            waitForConnections(until: .after(seconds: 2))
        }
        // The loops poll the wake pipe until they end, which they do once no connection is left.
        let deadline = DispatchTime.now() + 2
        if activeConnectionCount == 0 && running.loops.allSatisfy({ $0.ended.wait(timeout: deadline) == .success }) {
            close(running.wake.read)
            close(running.wake.write)
        }
        lifecycle.withLock { $0 = .stopped }
        stopped.leave()
    }

    /// Blocks until `shutdown` has finished; returns at once if the server never started.
    public func waitUntilStopped() {
        stopped.wait()
    }

    /// The worker threads this server runs requests on now (0 when it is not running).
    public var workerThreadCount: Int {
        lifecycle.withLock { state in
            if case .running = state { return workers.threadCount }
            return 0
        }
    }

    /// Connections currently open.
    public var activeConnectionCount: Int {
        connections.withLock { $0.count }
    }

    private func waitForConnections(until deadline: Deadline) {
        while activeConnectionCount > 0 && !deadline.hasPassed {
            usleep(5_000)
        }
    }
}
