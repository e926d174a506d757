#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// An HTTP/1.1 server that runs one thread per connection with blocking sockets and calls a
/// handler for every request.
///
/// The handler runs on the connection's thread and may block (database, upstream calls);
/// requests on one connection are served in order, connections run in parallel. Limits and
/// timeouts come from `HTTPServerConfiguration`; malformed or oversized requests are answered
/// with 400/408/413/414/431/501/505 before the handler sees them. A connection beyond the total or
/// the per-address cap is answered 503 by the accept thread and closed; an idle connection is closed
/// after `idleTimeout`, so idle sockets from one address cannot hold the slots others need.
public final class HTTPServer: Sendable {
    /// Why `start()` failed, apart from socket errors (`SocketError`).
    public enum StartError: Error, Sendable, CustomStringConvertible {
        case alreadyStarted
        case threadCreationFailed

        public var description: String {
            switch self {
            case .alreadyStarted: "the server was already started or shut down"
            case .threadCreationFailed: "could not start the accept thread"
            }
        }
    }

    private enum Lifecycle {
        case idle
        case running(listener: Int32, wake: (read: Int32, write: Int32))
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
    private let acceptLoopEnded = DispatchSemaphore(value: 0)
    private let stopped = DispatchGroup()

    private let onRejection: (@Sendable (HTTPRejection) -> Void)?

    /// `onRejection` is called (on the connection's thread, before the error response is sent) for every
    /// request the server refuses itself; see `HTTPRejection`.
    public init(configuration: HTTPServerConfiguration, onRejection: (@Sendable (HTTPRejection) -> Void)? = nil,
                handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse) {
        self.configuration = configuration
        self.handler = handler
        self.onRejection = onRejection
    }

    /// Binds (with SO_REUSEADDR), listens and starts accepting on a thread of its own; returns the bound port.
    @discardableResult
    public func start() throws -> Int {
        SignalWatcher.ignoreBrokenPipe()
        let (listener, wake, port) = try lifecycle.withLock { state throws -> (Int32, (read: Int32, write: Int32), Int) in
            guard case .idle = state else { throw StartError.alreadyStarted }
            let (listener, port) = try Socket.makeListener(host: configuration.host, port: configuration.port)
            let wake: (read: Int32, write: Int32)
            do {
                wake = try Socket.makeWakePipe()
            } catch {
                close(listener)
                throw error
            }
            state = .running(listener: listener, wake: wake)
            return (listener, wake, port)
        }
        stopped.enter()
        let started = DetachedThread.start(stackSize: 256 * 1024) { [self] in
            acceptLoop(listener: listener, wakeFD: wake.read)
        }
        guard started else {
            close(listener)
            close(wake.read)
            close(wake.write)
            lifecycle.withLock { $0 = .stopped }
            stopped.leave()
            throw StartError.threadCreationFailed
        }
        return port
    }

    /// Stops accepting, closes idle keep-alive connections, lets requests in progress finish
    /// (their responses say `Connection: close`) for up to `gracePeriod` seconds, then cuts the
    /// connections that remain and returns. Safe to call more than once and from any thread.
    public func shutdown(gracePeriod: Double = 10) {
        let running = lifecycle.withLock { state -> (listener: Int32, wake: (read: Int32, write: Int32))? in
            switch state {
            case .running(let listener, let wake):
                state = .stopping
                return (listener, wake)
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
        acceptLoopEnded.wait()

        let graceDeadline = Deadline.after(seconds: gracePeriod)
        waitForConnections(until: graceDeadline)
        if activeConnectionCount > 0 {
            connections.withLock { table in
                for fd in table.sockets { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
            }
            waitForConnections(until: .after(seconds: 2))
        }
        // A thread that is still running may yet poll the wake pipe, so it is only closed when none is.
        if activeConnectionCount == 0 {
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

    /// Connections currently open.
    public var activeConnectionCount: Int {
        connections.withLock { $0.count }
    }

    private func waitForConnections(until deadline: Deadline) {
        while activeConnectionCount > 0 && !deadline.hasPassed {
            usleep(5_000)
        }
    }

    private func acceptLoop(listener: Int32, wakeFD: Int32) {
        while !stopping.load(ordering: .relaxed) {
            guard case .ready = Socket.waitReadable(listener, until: nil, wakeFD: wakeFD) else { break }
            guard !stopping.load(ordering: .relaxed) else { break }
            guard let (fd, address) = Socket.accept(listener) else {
                // Out of descriptors or memory: back off instead of spinning on a listener that stays readable.
                if errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM { usleep(10_000) }
                continue
            }
            admit(fd: fd, address: address, wakeFD: wakeFD)
        }
        close(listener)
        acceptLoopEnded.signal()
    }

    private func admit(fd: Int32, address: String, wakeFD: Int32) {
        let admission = connections.withLock { table in
            table.admit(fd, from: address, maxTotal: configuration.maxConnections,
                        maxPerAddress: configuration.maxConnectionsPerAddress)
        }
        guard admission == .admitted else {
            refuse(fd, addressFull: admission == .addressFull)
            return
        }
        Socket.setNoDelay(fd)
        Socket.setSendTimeout(fd, seconds: configuration.writeTimeout)
        let connection = HTTPConnection(fd: fd, remoteAddress: address, wakeFD: wakeFD, configuration: configuration,
                                        handler: handler, isStopping: { [self] in stopping.load(ordering: .relaxed) },
                                        onRejection: onRejection)
        let started = DetachedThread.start(stackSize: configuration.threadStackSize) { [self] in
            let linger = connection.run()
            connections.withLock { $0.remove(fd, from: address) }
            if linger { Socket.lingeringClose(fd) } else { close(fd) }
        }
        if !started {
            connections.withLock { $0.remove(fd, from: address) }
            close(fd)
        }
    }

    /// Answers 503 without waiting (a send that would block is skipped) and closes: a refusal costs the
    /// accept thread one non-blocking write and never a thread of its own.
    private func refuse(_ fd: Int32, addressFull: Bool) {
        let message = addressFull ? "Service Unavailable: too many connections from your address"
                                  : "Service Unavailable: too many connections"
        let response = HTTPResponseWriter.errorResponse(status: 503, message: message)
        _ = response.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        close(fd)
    }
}
