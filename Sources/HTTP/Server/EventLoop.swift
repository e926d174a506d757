#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// The server's one loop thread: it owns the listener and every connection that is waiting for bytes. It accepts,
/// reads whatever arrived (without blocking: `MSG_DONTWAIT`), feeds the connection's parser, and enforces each
/// phase's timeout; a connection in the middle of nothing holds no thread. A complete request, a parse error or a
/// timed-out request goes to the worker pool, whose thread answers it with blocking writes (bounded by the send
/// timeout) and hands a kept-alive connection back. After an error response the loop also does the lingering
/// close: it discards what the client still sends for a short while, so the answer is not lost to a reset.
/// An `.events` response is parked here too: the loop watches its source's descriptor (not the client's
/// socket, which no one reads while the response streams) and hands it to a worker when bytes arrive or
/// its quiet interval is up.
///
/// Methods marked "worker" run on pool threads and touch only the connection they were given and thread-safe
/// state; everything else runs on the loop thread.
final class EventLoop: @unchecked Sendable {
    /// The longest the loop sleeps: connections handed back by workers get their timeouts counted from when
    /// their phase began, and are looked at no later than this.
    private static let tickMilliseconds: Int32 = 100
    private static let readBufferSize = 64 * 1024
    private static let acceptBatch = 256
    private static let watchFlags = Epoll.readable | Epoll.oneShot
    /// How long a connection that was answered with an error is drained before it is closed.
    private static let lingerSeconds = 2.0
    private static let lingerList = 3
    /// How long an otherwise idle worker waits for a deferred response before it leaves it to its completion.
    private static let deferredWaitSeconds = 0.02
    /// Lists from here on hold parked event streams, one list per quiet interval (see `streamList(for:)`).
    private static let firstStreamList = 4

    /// The listening socket, on the loop that accepts (the others have none).
    private let listener: Int32?
    private let wakeFD: Int32
    private let epoll: Epoll
    private let configuration: HTTPServerConfiguration
    private let service: HTTPConnection.Service
    private let onRejection: (@Sendable (HTTPRejection) -> Void)?
    /// Which complete requests the loop answers itself (see `LoopThread`); nil: none, every one goes to a worker.
    private let answersOnLoop: (@Sendable (HTTPRequest) -> Bool)?
    private let isStopping: @Sendable () -> Bool
    private let connections: Guarded<ConnectionTable>
    private let workers: WorkerPool
    /// The other loops of the server, which the accepting loop shares new connections with in turn (set
    /// before the loops run).
    var peers: [EventLoop] = []
    private var nextPeer = 0

    /// Signalled once the listener is closed (shutdown started) and once the loop has ended.
    let listenerClosed = DispatchSemaphore(value: 0)
    let ended = DispatchSemaphore(value: 0)

    /// Connections workers handed back, for the loop to take. A worker re-arms the socket while holding this
    /// lock, so the loop never sees bytes for a connection before it can find the connection.
    private let returned = Guarded([HTTPConnection]())

    // Loop thread only.
    private var owned: [HTTPConnection?] = []
    /// Waiting connections by phase: idle, head, body, and lingering after an error (see `list(of:)`).
    private var waiting = [TimeoutList(), TimeoutList(), TimeoutList(), TimeoutList()]
    /// The list of parked streams for each quiet interval in use.
    private var streamLists: [Double: Int] = [:]
    private let events = Epoll.Events(capacity: 256)
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: EventLoop.readBufferSize, alignment: 16)
    private var stopRequested = false
    private var acceptPausedUntil: Deadline?
    /// Upstream sockets a handler run here waits on, by descriptor (see `watch(_:until:check:ready:)`).
    private var watches: [Int32: Watch] = [:]
    /// Upstream sockets left in the epoll set (disarmed) after a wait, so the next wait on the same pooled
    /// connection re-arms instead of adding and removing it each time. A closed socket leaves the set by
    /// itself, and its number may come back as another socket: re-arming that fails and it is added.
    private var upstreamsInSet = Set<Int32>()
    private var watchesLookedAt = Deadline.now
    /// How often the deadlines of watched upstream sockets are looked at while there are any.
    private static let watchTickMilliseconds: Int32 = 20

    init(listener: Int32?, wakeFD: Int32, configuration: HTTPServerConfiguration,
         handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse, onRejection: (@Sendable (HTTPRejection) -> Void)?,
         answersOnLoop: (@Sendable (HTTPRequest) -> Bool)? = nil, isStopping: @escaping @Sendable () -> Bool, connections: Guarded<ConnectionTable>,
         workers: WorkerPool) throws(SocketError) {
        epoll = try Epoll()
        self.listener = listener
        self.wakeFD = wakeFD
        self.configuration = configuration
        service = HTTPConnection.Service(configuration: configuration, handler: handler, isStopping: isStopping, wakeFD: wakeFD,
                                         followUps: FollowUpSlots())
        self.onRejection = onRejection
        self.answersOnLoop = answersOnLoop
        self.isStopping = isStopping
        self.connections = connections
        self.workers = workers
        if let listener { Socket.setNonBlocking(listener) }
    }

    deinit {
        readBuffer.deallocate()
    }

    /// Runs until shutdown has begun and the last connection is gone; closes the listener on the way.
    func run() {
        pthread_setspecific(Self.currentKey, Unmanaged.passUnretained(self).toOpaque())
        defer { pthread_setspecific(Self.currentKey, nil) }
        if let listener { _ = epoll.add(listener, Epoll.readable) }
        _ = epoll.add(wakeFD, Epoll.readable)
        while !(stopRequested && connections.withLock({ $0.count }) == 0) {
            let count = epoll.wait(into: events, timeoutMilliseconds: nextWakeMilliseconds())
            takeReturned()
            for index in 0..<count {
                handle(events[index])
            }
            expireTimeouts()
            resumeAcceptingIfDue()
        }
        closeLingering()
        epoll.close()
        workers.retire()
        ended.signal()
    }

    /// Releases the listener and the epoll instance of a loop that never ran.
    func abandon() {
        epoll.close()
        if let listener { close(listener) }
    }

    private func handle(_ event: Epoll.Event) {
        if event.fd == listener {
            acceptReady()
        } else if event.fd == wakeFD {
            beginStopping()
        } else if let connection = ownedConnection(event.fd) {
            if connection.stream != nil {
                resume(connection, quiet: false)
            } else if connection.lingering {
                drain(connection)
            } else {
                receive(connection)
            }
        } else if let watch = watches[event.fd] {
            readable(event.fd, watch)
        }
    }

    // MARK: - Accepting

    private func acceptReady() {
        guard let listener else { return }
        for _ in 0..<Self.acceptBatch {
            guard let (fd, address) = Socket.accept(listener) else {
                switch errno {
                case EINTR, ECONNABORTED, EPROTO: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    // Out of descriptors or memory: stop watching the listener for a moment instead of spinning on it.
                    epoll.remove(listener)
                    acceptPausedUntil = .after(seconds: 0.01)
                    return
                default: return
                }
            }
            admit(fd: fd, address: address)
        }
    }

    private func resumeAcceptingIfDue() {
        guard let until = acceptPausedUntil, until.hasPassed, !stopRequested, let listener else { return }
        acceptPausedUntil = nil
        _ = epoll.add(listener, Epoll.readable)
    }

    private func admit(fd: Int32, address: String) {
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
        let connection = HTTPConnection(fd: fd, remoteAddress: address, configuration: configuration)
        if let peer = nextLoop(), peer !== self {
            if !peer.adopt(connection) { end(connection) }
            return
        }
        own(connection)
        schedule(connection)
        guard epoll.add(fd, Self.watchFlags) else {
            disown(connection)
            end(connection)
            return
        }
    }

    /// The loop the next connection goes to: this one and its peers in turn.
    private func nextLoop() -> EventLoop? {
        guard !peers.isEmpty else { return nil }
        nextPeer = (nextPeer + 1) % (peers.count + 1)
        return nextPeer == 0 ? self : peers[nextPeer - 1]
    }

    /// Accepting loop's thread: hands a new connection to this loop, which takes it (and times its idle
    /// phase) as it takes connections workers hand back. Armed under the same lock, so this loop never sees
    /// bytes before it can find the connection.
    func adopt(_ connection: HTTPConnection) -> Bool {
        returned.withLock { list in
            guard epoll.add(connection.fd, Self.watchFlags) else { return false }
            list.append(connection)
            return true
        }
    }

    /// Answers 503 without waiting (a send that would block is skipped) and closes: a refusal costs the
    /// loop one non-blocking write and never a thread.
    private func refuse(_ fd: Int32, addressFull: Bool) {
        let message = addressFull ? "Service Unavailable: too many connections from your address"
                                  : "Service Unavailable: too many connections"
        _ = Socket.sendWithoutWaiting(fd, HTTPResponseWriter.errorResponse(status: 503, message: message))
        close(fd)
    }

    // MARK: - Reading and parsing

    private func receive(_ connection: HTTPConnection) {
        let count = recv(connection.fd, readBuffer.baseAddress, readBuffer.count, Int32(MSG_DONTWAIT))
        if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            rearm(connection)
            return
        }
        guard count > 0 else {
            disown(connection)
            end(connection)
            return
        }
        connection.noteArrival()
        connection.parser.feed(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
        advance(connection)
    }

    /// RFC 9112 §9.6: after an error response, read and discard until the client closes or the linger ends.
    private func drain(_ connection: HTTPConnection) {
        let count = recv(connection.fd, readBuffer.baseAddress, readBuffer.count, Int32(MSG_DONTWAIT))
        if count > 0 || (count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            rearm(connection)
        } else {
            disown(connection)
            end(connection)
        }
    }

    /// Acts on what the parser made of the bytes so far.
    private func advance(_ connection: HTTPConnection) {
        switch connection.parser.next() {
        case .request(var request):
            request.remoteAddress = connection.remoteAddress
            disown(connection)
            let complete = request
            if answersOnLoop?(complete) == true {
                answerHere(connection, complete)
            } else {
                dispatch(connection) { [self] in answer(connection, .request(complete)) }
            }
        case .error(let error):
            let line = connection.parser.currentRequestLine
            disown(connection)
            dispatch(connection) { [self] in reject(connection, error, line) }
        case .needMoreData:
            if connection.parser.takeContinueExpectation() {
                sendContinue(connection)
            } else {
                wait(connection, rearming: true)
            }
        }
    }

    /// Restarts the phase timer when the phase changed, closes an idle connection once shutdown has begun,
    /// and otherwise waits for more bytes.
    private func wait(_ connection: HTTPConnection, rearming: Bool) {
        connection.notePhase()
        // Only an idle connection is closed for shutdown; one mid-request finishes its request first.
        if connection.phase == .idle && isStopping() {
            disown(connection)
            end(connection)
            return
        }
        schedule(connection)
        if rearming { rearm(connection) }
    }

    private func rearm(_ connection: HTTPConnection) {
        guard epoll.rearm(connection.fd, Self.watchFlags) else {
            disown(connection)
            end(connection)
            return
        }
    }

    /// RFC 9110 §10.1.1: the client waits for `100 Continue` before sending the body. Sent from the loop when
    /// the socket takes it at once; otherwise a worker finishes the send, waiting up to the send timeout.
    private func sendContinue(_ connection: HTTPConnection) {
        switch Socket.sendWithoutWaiting(connection.fd, HTTPConnection.continueResponse) {
        case .sent:
            wait(connection, rearming: true)
        case .failed:
            disown(connection)
            end(connection)
        case .rest(let rest):
            disown(connection)
            dispatch(connection) { [self] in
                if (try? Socket.sendAll(connection.fd, rest)) != nil {
                    giveBack(connection)
                } else {
                    end(connection)
                }
            }
        }
    }

    // MARK: - Timeouts

    private func list(of connection: HTTPConnection) -> Int {
        if let stream = connection.stream { return streamList(for: stream.quietInterval) }
        guard !connection.lingering else { return Self.lingerList }
        return switch connection.phase {
        case .idle: 0
        case .head: 1
        case .body: 2
        }
    }

    private func deadline(of connection: HTTPConnection) -> Deadline {
        if let stream = connection.stream { return connection.phaseStart.adding(seconds: stream.quietInterval) }
        guard !connection.lingering else { return connection.phaseStart.adding(seconds: Self.lingerSeconds) }
        return connection.deadline(configuration)
    }

    /// The list of streams parked with this quiet interval: every entry of a list has the same one, so it
    /// stays ordered by deadline. Intervals come from configuration (a few distinct values), so lists are
    /// kept once made.
    private func streamList(for interval: Double) -> Int {
        if let index = streamLists[interval] { return index }
        waiting.append(TimeoutList())
        streamLists[interval] = waiting.count - 1
        return waiting.count - 1
    }

    /// Puts the connection in the list of its phase, unless it already waits there.
    private func schedule(_ connection: HTTPConnection) {
        let target = list(of: connection)
        guard connection.waitingIn != target else { return }
        unschedule(connection)
        waiting[target].append(connection)
        connection.waitingIn = target
    }

    private func unschedule(_ connection: HTTPConnection) {
        guard let index = connection.waitingIn else { return }
        waiting[index].remove(connection)
        connection.waitingIn = nil
    }

    /// Closes idle and lingering connections whose time is up, and answers requests that stalled in their head
    /// or body with 408.
    private func expireTimeouts() {
        let now = Deadline.now
        for index in [0, Self.lingerList] {
            while let connection = waiting[index].first, deadline(of: connection) <= now {
                disown(connection)
                end(connection)
            }
        }
        for index in 1...2 {
            while let connection = waiting[index].first, deadline(of: connection) <= now {
                let line = connection.parser.currentRequestLine
                disown(connection)
                dispatch(connection) { [self] in reject(connection, .requestTimeout, line) }
            }
        }
        for index in waiting.indices.dropFirst(Self.firstStreamList) {
            while let connection = waiting[index].first, deadline(of: connection) <= now {
                resume(connection, quiet: true)
            }
        }
        expireWatches(now)
    }

    private func nextWakeMilliseconds() -> Int32 {
        var wake = Self.tickMilliseconds
        if let acceptPausedUntil { wake = min(wake, acceptPausedUntil.remainingMilliseconds) }
        if !watches.isEmpty { wake = min(wake, Self.watchTickMilliseconds) }
        for list in waiting {
            guard let first = list.first else { continue }
            wake = min(wake, deadline(of: first).remainingMilliseconds)
        }
        return wake
    }

    // MARK: - Ownership

    /// The descriptor the loop watches for a connection: its socket, or the source of its parked stream.
    private func watched(_ connection: HTTPConnection) -> Int32 {
        connection.stream?.descriptor ?? connection.fd
    }

    private func ownedConnection(_ fd: Int32) -> HTTPConnection? {
        Int(fd) < owned.count ? owned[Int(fd)] : nil
    }

    private func own(_ connection: HTTPConnection) {
        let index = Int(watched(connection))
        if index >= owned.count {
            owned.append(contentsOf: repeatElement(nil, count: max(index + 1 - owned.count, owned.count)))
        }
        owned[index] = connection
    }

    /// The loop lets go of a connection: before it goes to a worker or is closed.
    private func disown(_ connection: HTTPConnection) {
        unschedule(connection)
        let fd = watched(connection)
        if ownedConnection(fd) === connection { owned[Int(fd)] = nil }
    }

    private func takeReturned() {
        let connections = returned.withLock { list -> [HTTPConnection] in
            defer { list.removeAll(keepingCapacity: true) }
            return list
        }
        for connection in connections {
            own(connection)
            // The worker re-armed the socket (or the stream's source) already.
            if connection.lingering || connection.stream != nil { schedule(connection) } else { wait(connection, rearming: false) }
        }
    }

    private func dispatch(_ connection: HTTPConnection, _ job: @escaping @Sendable () -> Void) {
        if !workers.submit(job) {
            closeStream(connection)
            end(connection)
        }
    }

    /// Hands a parked stream to a worker: its source has bytes, or has been quiet for its interval.
    private func resume(_ connection: HTTPConnection, quiet: Bool) {
        disown(connection)
        dispatch(connection) { [self] in serveStream(connection, quiet: quiet) }
    }

    // MARK: - Answering on the loop

    /// The loop running on this thread, if it is a loop thread.
    static var current: EventLoop? {
        pthread_getspecific(currentKey).map { Unmanaged<EventLoop>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Runs `work` on this thread as a worker would run it: code in it that asks `LoopThread.isCurrent` is
    /// told no, and waits where it has to (so it never hands itself to a worker again).
    static func asWorker(_ work: () -> Void) {
        let loop = pthread_getspecific(currentKey)
        pthread_setspecific(currentKey, nil)
        defer { pthread_setspecific(currentKey, loop) }
        work()
    }

    private static let currentKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Runs the handler here, on the loop thread, for a request it may answer without waiting. Its response
    /// goes out as a deferred one does: without waiting on the client, the rest (a large body, a stream) from
    /// a worker.
    private func answerHere(_ connection: HTTPConnection, _ request: HTTPRequest) {
        let exchange = HTTPConnection.Exchange(request: request, keepAlive: request.wantsKeepAlive && !isStopping())
        let response = service.handler(request)
        if case .deferred(let deferred) = response.body {
            deferred.whenComplete { [self] response in deliver(connection, response, exchange) }
        } else {
            deliver(connection, response, exchange)
        }
    }

    /// Runs `job` on a worker; false when no thread could take it.
    func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        workers.submit(job)
    }

    /// An upstream socket a handler run here waits on.
    private struct Watch {
        let deadline: Deadline
        /// Reads what arrived; true once the wait is over (the answer is there, or the socket failed).
        let check: () -> Bool
        /// Runs once the wait is over (true: at the deadline, without an answer).
        let ready: (_ timedOut: Bool) -> Void
    }

    /// Loop thread: watches `fd` until `check` says what it waits for has arrived, then calls `ready` here;
    /// at `deadline`, calls `ready(true)`. False when the socket cannot be watched (nothing is called then).
    func watch(_ fd: Int32, until deadline: Deadline, check: @escaping () -> Bool, ready: @escaping (_ timedOut: Bool) -> Void) -> Bool {
        guard watches[fd] == nil else { return false }
        let armed = upstreamsInSet.contains(fd) && epoll.rearm(fd, Self.watchFlags)
        guard armed || epoll.add(fd, Self.watchFlags) else { return false }
        upstreamsInSet.insert(fd)
        watches[fd] = Watch(deadline: deadline, check: check, ready: ready)
        return true
    }

    /// A watched upstream socket is readable. Its one-shot registration stays disarmed when `ready` runs,
    /// which may hand the socket on (to a pool other threads take from): no event of it reaches this loop
    /// until a wait re-arms it.
    private func readable(_ fd: Int32, _ watch: Watch) {
        if !watch.check() && epoll.rearm(fd, Self.watchFlags) { return }
        watches[fd] = nil
        watch.ready(false)
    }

    /// Ends the waits whose deadline has passed, looked at every `watchTickMilliseconds`.
    private func expireWatches(_ now: Deadline) {
        guard !watches.isEmpty, now.nanoseconds &- watchesLookedAt.nanoseconds >= UInt64(Self.watchTickMilliseconds) * 1_000_000 else { return }
        watchesLookedAt = now
        for (fd, watch) in watches where watch.deadline <= now {
            watches[fd] = nil
            upstreamsInSet.remove(fd)
            epoll.remove(fd)
            watch.ready(true)
        }
    }

    // MARK: - Shutdown

    /// Stops accepting and closes the connections that wait idle; requests in progress go on.
    private func beginStopping() {
        stopRequested = true
        epoll.remove(wakeFD)
        if let listener {
            epoll.remove(listener)
            close(listener)
        }
        listenerClosed.signal()
        while let connection = waiting[0].first {
            disown(connection)
            end(connection)
        }
    }

    /// At the end of the loop: closes the connections still lingering after an error response.
    private func closeLingering() {
        takeReturned()
        while let connection = waiting[Self.lingerList].first {
            disown(connection)
            end(connection)
        }
    }

    // MARK: - Workers

    /// Worker: takes its turn with the connection (a request to answer, say), then closes the connection,
    /// hands it back to the loop, parks its event stream, or leaves it to the completion of its response.
    private func answer(_ connection: HTTPConnection, _ turn: HTTPConnection.Turn) {
        var turn = turn
        while true {
            switch connection.answer(turn, service) {
            case .wait:
                giveBack(connection)
            case .close:
                end(connection)
            case .fail(let error, let line):
                reject(connection, error, line)
            case .park:
                serveStream(connection, quiet: false)
            case .deferred(let deferred, let exchange):
                // With no other job waiting, this worker has nothing better to do than wait a moment for the
                // response itself, which spares a quiet server the hand-over; under load it goes on at once.
                if !workers.hasQueuedJobs, let response = deferred.wait(seconds: Self.deferredWaitSeconds) {
                    turn = .response(response, exchange)
                    continue
                }
                // From here on the connection belongs to whoever completes the response.
                deferred.whenComplete { [self] response in deliver(connection, response, exchange) }
            }
            return
        }
    }

    /// The thread that completed a deferred response (or the worker, when it was complete already): sends a
    /// small whole body without waiting on the client, then goes on. What the socket does not take at once,
    /// a large body and a stream, a worker sends.
    private func deliver(_ connection: HTTPConnection, _ response: HTTPResponse, _ exchange: HTTPConnection.Exchange) {
        if case .deferred(let next) = response.body {
            // Completed with a response that is itself completed later: that one is waited for, still without a thread.
            next.whenComplete { [self] response in deliver(connection, response, exchange) }
            return
        }
        guard let (bytes, keepAlive, held) = connection.serialized(response, exchange) else {
            dispatch(connection) { [self] in answer(connection, .response(response, exchange)) }
            return
        }
        // A held body stays charged to its budget until its last byte is out (or the send failed).
        switch Socket.sendWithoutWaiting(connection.fd, bytes) {
        case .sent:
            held?.release()
            goOn(connection, keepAlive: keepAlive)
        case .failed:
            held?.release()
            end(connection)
        case .rest(let rest):
            dispatch(connection) { [self] in
                let sent = (try? Socket.sendAll(connection.fd, rest)) != nil
                held?.release()
                guard sent else {
                    end(connection)
                    return
                }
                goOn(connection, keepAlive: keepAlive)
            }
        }
    }

    /// After a deferred response is written: its connection's next request is parsed from what is buffered
    /// already (on a worker, since the loop would wait for new bytes), or read by the loop.
    private func goOn(_ connection: HTTPConnection, keepAlive: Bool) {
        guard keepAlive else {
            end(connection)
            return
        }
        connection.noteAnswered()
        if connection.parser.bufferedByteCount > 0 {
            dispatch(connection) { [self] in answer(connection, .next) }
        } else {
            giveBack(connection)
        }
    }

    /// Worker: passes on what the stream's source has ready (what came with the upstream's head too, at the
    /// first call), then parks the stream again or ends it; after a finished stream the connection goes on
    /// to its next request.
    private func serveStream(_ connection: HTTPConnection, quiet: Bool) {
        guard let stream = connection.stream else { return }
        let goesOn: Bool
        do {
            goesOn = try stream.source.pump(stream.writer, quiet: quiet)
        } catch {
            stream.writer.abandon()
            closeStream(connection)
            end(connection)
            return
        }
        if goesOn {
            park(connection, stream)
            return
        }
        let finished = stream.writer.finish()
        closeStream(connection)
        guard finished && stream.keepAlive else {
            end(connection)
            return
        }
        answer(connection, .next)
    }

    /// Worker: hands a stream to the loop to wait on its source. As in `giveBack`, the descriptor is armed
    /// under the lock of the return queue, so the loop never sees bytes before it can find the connection.
    private func park(_ connection: HTTPConnection, _ stream: ParkedStream) {
        connection.phaseStart = .now
        let armed = returned.withLock { list -> Bool in
            // An upstream socket may still be in the set, disarmed, from an answer this loop waited for.
            let armed = stream.watched ? epoll.rearm(stream.descriptor, Self.watchFlags)
                                       : epoll.add(stream.descriptor, Self.watchFlags) || epoll.rearm(stream.descriptor, Self.watchFlags)
            guard armed else { return false }
            stream.watched = true
            list.append(connection)
            return true
        }
        if !armed {
            stream.writer.abandon()
            closeStream(connection)
            end(connection)
        }
    }

    /// The owner of the connection (loop or worker): stops watching its stream's source and closes it.
    private func closeStream(_ connection: HTTPConnection) {
        guard let stream = connection.stream else { return }
        connection.stream = nil
        if stream.watched { epoll.remove(stream.descriptor) }
        stream.source.close()
    }

    /// Worker: reports a request the server refuses, answers it with the error, stops sending and hands the
    /// connection to the loop to linger on (a worker does not wait for the client to close).
    private func reject(_ connection: HTTPConnection, _ error: HTTPParseError, _ line: (method: String, target: String)?) {
        onRejection?(HTTPRejection(status: error.status, reason: error.description, method: line?.method,
                                   target: line?.target, remoteAddress: connection.remoteAddress))
        guard (try? Socket.sendAll(connection.fd, HTTPResponseWriter.errorResponse(status: error.status, message: error.description))) != nil else {
            end(connection)
            return
        }
        // Answered and done: from here on it counts against no connection limit and no shutdown waits for it.
        // Its descriptor stays open until the loop closes it, so no other connection can take that number.
        connections.withLock { $0.remove(connection.fd, from: connection.remoteAddress) }
        Glibc.shutdown(connection.fd, Int32(SHUT_WR))
        connection.lingering = true
        connection.phaseStart = .now
        giveBack(connection)
    }

    /// Worker: hands a kept-alive connection back to the loop; the worker must not touch it afterwards.
    private func giveBack(_ connection: HTTPConnection) {
        let fd = connection.fd
        let armed = returned.withLock { list in
            list.append(connection)
            return epoll.rearm(fd, Self.watchFlags)
        }
        // Not watched, so it would never be read again: cut it. The loop then closes it when its idle (or
        // linger) time is up.
        if !armed { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// Any thread: forgets the connection, then closes its socket (so a reused descriptor is never touched).
    private func end(_ connection: HTTPConnection) {
        connections.withLock { $0.remove(connection.fd, from: connection.remoteAddress) }
        close(connection.fd)
    }
}
