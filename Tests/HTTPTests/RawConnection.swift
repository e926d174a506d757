#if canImport(Glibc)
import Glibc
#endif
import HTTP

/// A plain TCP client for tests that must send exact bytes and read exact answers.
final class RawConnection {
    struct Response {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        var text: String { String(decoding: body, as: UTF8.self) }
    }

    enum Failure: Error {
        case connect(Int32)
        case closedEarly
        case timedOut
    }

    let fd: Int32
    private var buffer: [UInt8] = []

    /// `source`, when given, is the local IPv4 address to connect from (e.g. `127.0.0.2`, to be another client).
    init(port: Int, host: String = "127.0.0.1", from source: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            inet_pton(AF_INET, source, &local.sin_addr)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                let code = errno
                close(fd)
                throw Failure.connect(code)
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw Failure.connect(code)
        }
    }

    deinit {
        close(fd)
    }

    func send(_ text: String) {
        send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }

    /// Reads more bytes; false at end of stream. Throws after `timeout` seconds of silence.
    private func fill(timeout: Double) throws -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, Int32(timeout * 1000)) > 0 else { throw Failure.timedOut }
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = recv(fd, &chunk, chunk.count, 0)
        guard count > 0 else { return false }
        buffer.append(contentsOf: chunk[0..<count])
        return true
    }

    /// Reads one response: head, then a Content-Length, chunked or close-delimited body.
    func readResponse(timeout: Double = 5, isHead: Bool = false) throws -> Response {
        var headEnd: Int?
        while headEnd == nil {
            headEnd = Self.find([13, 10, 13, 10], in: buffer).map { $0 + 4 }
            if headEnd == nil { guard try fill(timeout: timeout) else { throw Failure.closedEarly } }
        }
        let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
        buffer.removeSubrange(0..<headEnd!)
        var lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let statusLine = lines.removeFirst()
        let status = Int(statusLine.split(separator: " ")[1])!
        let headers = lines.map { line -> (name: String, value: String) in
            let colon = line.firstIndex(of: ":")!
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var response = Response(status: status, headers: headers, body: [])
        if isHead || status == 204 || status == 304 || (100..<200).contains(status) { return response }
        if let length = response.header("Content-Length").flatMap({ Int($0) }) {
            while buffer.count < length { guard try fill(timeout: timeout) else { throw Failure.closedEarly } }
            response.body = Array(buffer[0..<length])
            buffer.removeSubrange(0..<length)
        } else if response.header("Transfer-Encoding")?.lowercased() == "chunked" {
            response.body = try readChunkedBody(timeout: timeout)
        } else {
            while try fill(timeout: timeout) {}
            response.body = buffer
            buffer = []
        }
        return response
    }

    private func readChunkedBody(timeout: Double) throws -> [UInt8] {
        var body: [UInt8] = []
        while true {
            var lineEnd = Self.find([13, 10], in: buffer)
            while lineEnd == nil {
                guard try fill(timeout: timeout) else { throw Failure.closedEarly }
                lineEnd = Self.find([13, 10], in: buffer)
            }
            let size = Int(String(decoding: buffer[0..<lineEnd!], as: UTF8.self), radix: 16)!
            buffer.removeSubrange(0..<(lineEnd! + 2))
            while buffer.count < size + 2 { guard try fill(timeout: timeout) else { throw Failure.closedEarly } }
            body.append(contentsOf: buffer[0..<size])
            buffer.removeSubrange(0..<(size + 2))
            if size == 0 { return body }
        }
    }

    /// Waits for at least `count` bytes and returns everything received so far.
    func readBytes(atLeast count: Int, timeout: Double = 5) throws -> [UInt8] {
        while buffer.count < count { guard try fill(timeout: timeout) else { throw Failure.closedEarly } }
        defer { buffer = [] }
        return buffer
    }

    /// True once the server has closed the connection (end of stream or reset) within `timeout` seconds.
    func isClosedByPeer(timeout: Double = 5) -> Bool {
        do {
            while try fill(timeout: timeout) {}
            return true
        } catch Failure.timedOut {
            return false
        } catch {
            return true
        }
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}
