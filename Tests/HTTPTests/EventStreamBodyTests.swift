import Dispatch
import Foundation
import HTTP
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `.events` bodies: the server waits on the source's descriptor without a thread, passes on what it has in
/// order, calls it when quiet, and serves the connection's next request once the stream has ended.
@Suite struct EventStreamBodyTests {
    @Test func aParkedStreamDeliversInOrderGetsQuietCallsAndTheConnectionServesTheNextRequest() throws {
        let pipes = Locked<[PipeSource]>([])
        try withServer(handler: { request in
            guard request.path == "/events" else { return echoHandler(request) }
            let source = PipeSource(quietInterval: 0.2)
            pipes.withLock { $0.append(source) }
            return HTTPResponse.eventStream { _ in }.with(body: .events(source))
        }) { _, port in
            let connection = try RawConnection(port: port)
            connection.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(waitFor { pipes.withLock { $0.count } == 1 })
            let source = pipes.withLock { $0[0] }
            for index in 0..<20 {
                source.feed("data: \(index)\n\n")
                if index % 5 == 0 { usleep(300_000) }  // quiet for longer than the interval
            }
            source.end()
            let response = try connection.readResponse(timeout: 10)
            #expect(response.status == 200)
            let lines = response.text.split(separator: "\n").filter { $0.hasPrefix("data: ") }.map(String.init)
            #expect(lines == (0..<20).map { "data: \($0)" })
            #expect(source.quietCalls.withLock { $0 } > 0)
            #expect(source.closed.withLock { $0 })
            connection.send("GET /next HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try connection.readResponse().text == "GET /next ")
        }
    }

    @Test func threeHundredParkedStreamsHoldNoThreadEach() throws {
        let pipes = Locked<[PipeSource]>([])
        try withServer(configure: { $0.maxConnectionsPerAddress = 1_000 }, handler: { _ in
            let source = PipeSource(quietInterval: 60)
            pipes.withLock { $0.append(source) }
            return HTTPResponse.eventStream { _ in }.with(body: .events(source))
        }) { server, port in
            let connections = try (0..<300).map { _ in try RawConnection(port: port) }
            for connection in connections { connection.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n") }
            #expect(waitFor { pipes.withLock { $0.count } == 300 })
            for connection in connections { _ = try connection.readBytes(atLeast: 1) }
            // One worker per stream would be 300; the server's own count (the process's would include the
            // threads of tests running alongside). Workers that answered linger briefly, then retire.
            #expect(waitFor { server.workerThreadCount < 50 }, "\(server.workerThreadCount) workers with 300 parked streams")
            #expect(server.activeConnectionCount == 300)
            for source in pipes.withLock({ $0 }) { source.end() }
        }
    }
}

extension HTTPResponse {
    fileprivate func with(body: Body) -> HTTPResponse {
        var copy = self
        copy.body = body
        return copy
    }
}

/// A source fed through a pipe by the test.
private final class PipeSource: HTTPEventSource, @unchecked Sendable {
    let descriptor: Int32
    let quietInterval: Double
    private let input: Int32
    let quietCalls = Locked(0)
    let closed = Locked(false)

    init(quietInterval: Double) {
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        descriptor = fds[0]
        input = fds[1]
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        self.quietInterval = quietInterval
    }

    func feed(_ text: String) {
        _ = Array(text.utf8).withUnsafeBytes { write(input, $0.baseAddress, $0.count) }
    }

    func end() { Glibc.close(input) }

    func pump(_ writer: any HTTPBodyWriter, quiet: Bool) throws -> Bool {
        if quiet { quietCalls.withLock { $0 += 1 } }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count > 0 {
                try writer.write(Array(buffer[0..<count]))
            } else {
                return count < 0 && errno == EAGAIN
            }
        }
    }

    func close() {
        closed.withLock { $0 = true }
        Glibc.close(descriptor)
    }
}

private func waitFor(_ condition: () -> Bool) -> Bool {
    for _ in 0..<1000 {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// A value shared between the test and the server's threads.
private final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
