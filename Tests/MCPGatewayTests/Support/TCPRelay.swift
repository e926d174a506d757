import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP relay in front of a server (the test PostgreSQL), that a test can cut and restore: `cut()`
/// closes every relayed connection and stops listening (new connections are refused, as by a database
/// that went away), `restore()` listens again on the same port. Servers pointed at the relay lose their
/// database and get it back without anything else on the machine noticing.
final class TCPRelay: @unchecked Sendable {
    let port: Int
    private let targetPort: Int
    private let lock = NSLock()
    private var listener: Int32 = -1
    private var open: Set<Int32> = []

    init(to targetPort: Int) throws {
        self.targetPort = targetPort
        let fd = try TCPRelay.listen(port: 0)
        var addr = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        port = Int(UInt16(bigEndian: addr.sin_port))
        start(fd)
    }

    deinit { cut() }

    /// Drops every connection and refuses new ones.
    func cut() {
        // Under the lock: a relayed socket is closed only after it left `open`, so no number here is reused.
        lock.lock()
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
        open.removeAll()
        let l = listener
        listener = -1
        lock.unlock()
        if l >= 0 { shutdown(l, Int32(SHUT_RDWR)); close(l) }
    }

    /// Listens again on the same port.
    func restore() throws {
        start(try TCPRelay.listen(port: port))
    }

    private static func listen(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = loopback(port)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, Glibc.listen(fd, 128) == 0 else {
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EADDRINUSE)
        }
        return fd
    }

    private static func loopback(_ port: Int) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return addr
    }

    private func start(_ fd: Int32) {
        lock.lock()
        listener = fd
        lock.unlock()
        Thread.detachNewThread { [weak self] in
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { return }
                guard let self else { close(client); return }
                self.relay(client)
            }
        }
    }

    private func relay(_ client: Int32) {
        let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = TCPRelay.loopback(targetPort)
        let connected = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        lock.lock()
        let live = listener >= 0
        if live && connected == 0 { open.formUnion([client, server]) }
        lock.unlock()
        guard live && connected == 0 else { close(client); close(server); return }
        let finished = DispatchGroup()
        for (from, to) in [(client, server), (server, client)] {
            finished.enter()
            Thread.detachNewThread {
                defer { finished.leave() }
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
                    if n <= 0 { break }
                    var sent = 0
                    while sent < n {
                        let w = buffer.withUnsafeBytes { write(to, $0.baseAddress! + sent, n - sent) }
                        if w <= 0 { break }
                        sent += w
                    }
                    if sent < n { break }
                }
                shutdown(from, Int32(SHUT_RDWR))
                shutdown(to, Int32(SHUT_RDWR))
            }
        }
        Thread.detachNewThread { [weak self] in
            finished.wait()
            self?.forget([client, server])
            close(client)
            close(server)
        }
    }

    private func forget(_ fds: [Int32]) {
        lock.lock()
        open.subtract(fds)
        lock.unlock()
    }
}
