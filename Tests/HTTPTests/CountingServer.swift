#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A loopback server that answers every request (a head without a body) with the same bytes and keeps
/// each connection open until the client closes it; it counts the connections it accepted, so a test can
/// tell whether a client reused one.
///
/// With `dropsSecondRequests`, a second request on a connection is not answered: the connection is closed
/// (or reset) as it arrives, as when an upstream's idle timer fires just as a reused connection is used.
final class CountingServer: @unchecked Sendable {
    enum Drop {
        case close
        case reset
    }

    let port: Int
    private let listener: Int32
    private let accepted = Atomic(0)
    private let acceptLoopDone = DispatchSemaphore(value: 0)

    var acceptedConnections: Int { accepted.load(ordering: .sequentiallyConsistent) }

    init(response: String, dropsSecondRequests drop: Drop? = nil) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(listener, 16)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let bytes = Array(response.utf8)
        Thread.detachNewThread { [self] in
            defer { acceptLoopDone.signal() }
            while true {
                let fd = accept(listener, nil, nil)
                guard fd >= 0 else { return }
                accepted.add(1, ordering: .sequentiallyConsistent)
                Thread.detachNewThread { Self.serve(fd, bytes, drop: drop) }
            }
        }
    }

    /// Stops accepting; the listener is only closed once the accept thread has left accept(2), so its
    /// descriptor cannot be reused under it by another test's socket.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        acceptLoopDone.wait()
        close(listener)
    }

    private static func serve(_ fd: Int32, _ response: [UInt8], drop: Drop?) {
        defer { close(fd) }
        var answered = 0
        var limit = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var pending: [UInt8] = []
        var scratch = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &scratch, scratch.count, 0)
            guard count > 0 else { return }
            pending += scratch[0..<count]
            while let end = RawConnection.find([13, 10, 13, 10], in: pending) {
                pending.removeSubrange(0..<(end + 4))
                if let drop, answered == 1 {
                    if drop == .reset {
                        var lingerOption = linger(l_onoff: 1, l_linger: 0)
                        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lingerOption, socklen_t(MemoryLayout<linger>.size))
                    }
                    return
                }
                answered += 1
                guard send(fd, response, response.count, Int32(MSG_NOSIGNAL)) == response.count else { return }
            }
        }
    }
}
