#if canImport(Glibc)
import Glibc
#endif

/// Thin wrappers over the POSIX socket calls the server and client use. Sockets are
/// blocking (the server's event loop reads with `MSG_DONTWAIT`); waiting is done with poll(2)
/// so that every wait has a deadline.
enum Socket {
    /// What a wait on a socket ended with.
    enum Readiness {
        case ready
        case timedOut
        /// The server's wake-up pipe became readable (shutdown started).
        case woken
    }

    static func makeListener(host: String, port: Int, backlog: Int32 = 1024) throws(SocketError) -> (fd: Int32, port: Int) {
        guard let address = SocketAddress(host: host, port: port) else {
            throw SocketError("invalid listen address \(host):\(port)", code: EINVAL)
        }
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = address.withSockaddr { bind(fd, $0, $1) }
        guard bound == 0 else {
            let error = SocketError("bind \(host):\(port)")
            close(fd)
            throw error
        }
        guard listen(fd, backlog) == 0 else {
            let error = SocketError("listen")
            close(fd)
            throw error
        }
        return (fd, localPort(fd))
    }

    static func localPort(_ fd: Int32) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { return 0 }
        let family = Int32(storage.ss_family)
        return withUnsafePointer(to: &storage) { pointer in
            if family == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
    }

    /// Accepts one connection; nil with `errno` set when accept(2) failed.
    static func accept(_ listener: Int32) -> (fd: Int32, address: String)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(listener, $0, &length) }
        }
        guard fd >= 0 else { return nil }
        // Child processes (stdio upstreams) must not inherit client sockets.
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return (fd, SocketAddress.ipString(storage))
    }

    /// Makes accept(2) on a listener return EAGAIN instead of blocking; accepted sockets stay blocking.
    static func setNonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Bounds how long a blocking send(2) may wait for the peer to read.
    static func setSendTimeout(_ fd: Int32, seconds: Double) {
        let clamped = max(0.001, min(seconds, 86_400))
        var value = timeval(tv_sec: Int(clamped), tv_usec: Int((clamped - clamped.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Waits until `fd` is readable, the deadline passes or, if given, `wakeFD` becomes readable.
    static func waitReadable(_ fd: Int32, until deadline: Deadline?, wakeFD: Int32? = nil) -> Readiness {
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
        if let wakeFD { fds.append(pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)) }
        while true {
            let timeout = deadline?.remainingMilliseconds ?? -1
            let result = poll(&fds, nfds_t(fds.count), timeout)
            if result < 0 {
                if errno == EINTR { continue }
                return .ready
            }
            if result == 0 {
                if let deadline, !deadline.hasPassed { continue }
                return .timedOut
            }
            if fds[0].revents != 0 { return .ready }
            return .woken
        }
    }

    /// Reads what is available into `buffer`: the byte count, 0 at end of stream, -1 on error.
    static func receive(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, waiting: Bool = true) -> Int {
        while true {
            let count = recv(fd, buffer.baseAddress, buffer.count, waiting ? 0 : Int32(MSG_DONTWAIT))
            if count < 0 && errno == EINTR { continue }
            return count
        }
    }

    /// What a send that does not wait did.
    enum Attempt {
        case sent
        /// The socket took only part (or none): these bytes are left to send.
        case rest([UInt8])
        case failed
    }

    /// Sends what the socket takes at once, without SIGPIPE.
    static func sendWithoutWaiting(_ fd: Int32, _ bytes: [UInt8]) -> Attempt {
        let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        if sent == bytes.count { return .sent }
        guard sent >= 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else { return .failed }
        return .rest(Array(bytes[max(0, sent)...]))
    }

    /// Sends all bytes, without SIGPIPE; throws when the peer is gone or the send timeout passed.
    static func sendAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(SocketError) {
        var offset = 0
        while offset < bytes.count {
            let sent = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if sent < 0 {
                if errno == EINTR { continue }
                throw SocketError("send")
            }
            offset += sent
        }
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws(SocketError) {
        guard !bytes.isEmpty else { return }
        let failure = bytes.withUnsafeBytes { buffer -> SocketError? in
            do throws(SocketError) {
                try sendAll(fd, buffer)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    /// Connects to `host:port` (a name or a literal), trying each resolved address within `timeout` seconds.
    static func connect(host: String, port: Int, timeout: Double) throws(SocketError) -> Int32 {
        let deadline = Deadline.after(seconds: timeout)
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var results: UnsafeMutablePointer<addrinfo>?
        var name = host
        if name.hasPrefix("[") && name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        let status = getaddrinfo(name, String(port), &hints, &results)
        guard status == 0, let first = results else {
            throw SocketError("resolve \(host): \(String(cString: gai_strerror(status)))", code: EHOSTUNREACH)
        }
        defer { freeaddrinfo(first) }
        var lastError = SocketError("connect \(host):\(port)", code: ECONNREFUSED)
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { lastError = SocketError("socket"); continue }
            do throws(SocketError) {
                try connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen, deadline: deadline)
                setNoDelay(fd)
                return fd
            } catch {
                close(fd)
                lastError = SocketError("connect \(host):\(port)", code: error.code)
                if error.code == ETIMEDOUT { break }
            }
        }
        throw lastError
    }

    private static func connect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t,
                                deadline: Deadline) throws(SocketError) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        if Glibc.connect(fd, address, length) != 0 {
            guard errno == EINPROGRESS else { throw SocketError("connect") }
            var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            while true {
                let ready = poll(&entry, 1, deadline.remainingMilliseconds)
                if ready < 0 && errno == EINTR { continue }
                if ready <= 0 { throw SocketError("connect", code: ETIMEDOUT) }
                break
            }
            var failure: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &size)
            guard failure == 0 else { throw SocketError("connect", code: failure) }
        }
        _ = fcntl(fd, F_SETFL, flags)
    }

    /// A pipe whose read end stays readable once a byte is written: one write wakes every poller.
    static func makeWakePipe() throws(SocketError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SocketError("pipe") }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return (fds[0], fds[1])
    }
}
