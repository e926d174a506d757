import Dispatch
import Foundation
import HTTP
import Testing

/// Responses a handler completes later, from another thread: the connection holds no thread meanwhile, the
/// response goes out whole and in order, and the connection goes on afterwards.
@Suite struct DeferredResponseTests {
    /// Deferred responses the handler handed out, for the test to complete.
    final class Pending: @unchecked Sendable {
        private let lock = NSLock()
        private var waiting: [(path: String, response: HTTPDeferredResponse)] = []
        let arrived = DispatchSemaphore(value: 0)

        func add(_ path: String) -> HTTPResponse {
            let deferred = HTTPDeferredResponse()
            lock.withLock { waiting.append((path, deferred)) }
            arrived.signal()
            return .deferred(deferred)
        }

        func take() -> [(path: String, response: HTTPDeferredResponse)] {
            lock.withLock {
                defer { waiting.removeAll() }
                return waiting
            }
        }
    }

    @Test func aResponseCompletedByAnotherThreadIsSentAndTheConnectionGoesOn() throws {
        let pending = Pending()
        try withServer(handler: { request in request.path == "/later" ? pending.add(request.path) : .text("now \(request.path)") }) { _, port in
            let connection = try RawConnection(port: port)
            connection.send("GET /later HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(pending.arrived.wait(timeout: .now() + 10) == .success)
            let completer = Thread { for (path, deferred) in pending.take() { deferred.complete(.text("done \(path)", status: 201)) } }
            completer.start()
            let first = try connection.readResponse()
            #expect(first.status == 201 && first.text == "done /later")
            connection.send("GET /next HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try connection.readResponse().text == "now /next")
        }
    }

    /// A worker that waits for its deferred answer and goes on with the connection's next request must not
    /// nest a call per request: thousands of requests on one connection would run it out of stack.
    @Test func thousandsOfDeferredAnswersOnOneConnectionAreServedInTurn() throws {
        let completer = DispatchQueue(label: "completer")
        try withServer(handler: { request in
            let deferred = HTTPDeferredResponse()
            completer.async { deferred.complete(.text("done \(request.path)")) }
            return .deferred(deferred)
        }) { _, port in
            let connection = try RawConnection(port: port)
            for index in 0..<20_000 {
                connection.send("GET /\(index) HTTP/1.1\r\nHost: t\r\n\r\n")
                let text = try connection.readResponse().text
                guard text == "done /\(index)" else {
                    Issue.record("request \(index): \(text)")
                    return
                }
            }
        }
    }

    @Test func aResponseCompletedBeforeTheHandlerReturnsIsSentAtOnce() throws {
        try withServer(handler: { request in
            let deferred = HTTPDeferredResponse()
            deferred.complete(.text("ready \(request.path)"))
            deferred.complete(.text("a second completion is ignored"))
            return .deferred(deferred)
        }) { _, port in
            let connection = try RawConnection(port: port)
            for index in 0..<3 {
                connection.send("GET /\(index) HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try connection.readResponse().text == "ready /\(index)")
            }
        }
    }

    /// RFC 9112 §9.3.2: responses to pipelined requests go out in the order the requests came.
    @Test func pipelinedRequestsBehindADeferredResponseAreAnsweredInOrder() throws {
        let pending = Pending()
        try withServer(handler: { request in request.path == "/1" ? pending.add(request.path) : .text(request.path) }) { _, port in
            let connection = try RawConnection(port: port)
            connection.send("GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\nGET /3 HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(pending.arrived.wait(timeout: .now() + 10) == .success)
            // Nothing may overtake the first answer while it is pending.
            #expect(throws: (any Error).self) { try connection.readResponse(timeout: 0.3) }
            for (path, deferred) in pending.take() { deferred.complete(.text("late \(path)")) }
            #expect(try connection.readResponse().text == "late /1")
            #expect(try connection.readResponse().text == "/2")
            #expect(try connection.readResponse().text == "/3")
        }
    }

    /// The point of deferring: a request waiting for its completion holds no worker thread.
    @Test func hundredsOfRequestsWaitingOnTheirCompletionHoldNoWorkerThreads() throws {
        let pending = Pending()
        let count = 300
        try withServer(configure: {
            $0.maxConnections = 1000
            $0.maxConnectionsPerAddress = 1000
        }, handler: { pending.add($0.path) }) { server, port in
            let connections = try (0..<count).map { _ in try RawConnection(port: port) }
            for (index, connection) in connections.enumerated() { connection.send("GET /\(index) HTTP/1.1\r\nHost: t\r\n\r\n") }
            for _ in 0..<count { #expect(pending.arrived.wait(timeout: .now() + 20) == .success) }
            // A burst may start a few dozen workers, but none waits: all retire while the requests still wait.
            var workers = server.workerThreadCount
            for _ in 0..<1500 where workers > 2 {
                usleep(10_000)
                workers = server.workerThreadCount
            }
            #expect(workers <= 2, "\(workers) workers for \(count) requests waiting on completions")
            let completions = pending.take()
            #expect(completions.count == count)
            DispatchQueue.concurrentPerform(iterations: 4) { part in
                for (path, deferred) in completions[(part * count / 4)..<((part + 1) * count / 4)] { deferred.complete(.text("done \(path)")) }
            }
            for (index, connection) in connections.enumerated() { #expect(try connection.readResponse(timeout: 20).text == "done /\(index)") }
        }
    }

    /// The completing thread must not wait on a client that reads slowly: what the socket does not take at
    /// once is left to a worker.
    @Test func aClientThatDoesNotReadItsAnswersNeverHoldsTheThreadThatCompletesThem() throws {
        let pending = Pending()
        let count = 400
        let body = (0..<(60 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try withServer(configure: { $0.writeTimeout = 60 }, handler: { pending.add($0.path) }) { _, port in
            let connection = try RawConnection(port: port)
            connection.send((0..<count).map { "GET /\($0) HTTP/1.1\r\nHost: t\r\n\r\n" }.joined())
            // Complete each answer as its request comes up, while the client reads nothing: the socket fills
            // (400 × 60 KiB is far more than it holds), and from then on every completion still returns.
            let completed = Counter()
            let completer = Thread {
                while pending.arrived.wait(timeout: .now() + 3) == .success {
                    for (path, deferred) in pending.take() { deferred.complete(HTTPResponse(status: 200, headers: HTTPHeaders([("X-Path", path)]), body: .bytes(body))) }
                    completed.add()
                }
                completed.finish()
            }
            completer.start()
            #expect(completed.finished.wait(timeout: .now() + 60) == .success, "a completion blocked on the client")
            #expect(completed.value < count, "the socket took every answer unread")
            let rest = Thread {
                while pending.arrived.wait(timeout: .now() + 20) == .success {
                    for (path, deferred) in pending.take() { deferred.complete(HTTPResponse(status: 200, headers: HTTPHeaders([("X-Path", path)]), body: .bytes(body))) }
                }
            }
            rest.start()
            for index in 0..<count {
                let response = try connection.readResponse(timeout: 30)
                #expect(response.header("X-Path") == "/\(index)" && response.body == body)
            }
        }
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        let finished = DispatchSemaphore(value: 0)
        func add() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
        func finish() { finished.signal() }
    }

    @Test func aCompletedEventStreamIsServedByAWorker() throws {
        let pending = Pending()
        try withServer(handler: { pending.add($0.path) }) { _, port in
            let connection = try RawConnection(port: port)
            connection.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(pending.arrived.wait(timeout: .now() + 10) == .success)
            for (_, deferred) in pending.take() {
                deferred.complete(.eventStream { writer in
                    try writer.write(Array("data: one\n\n".utf8))
                    try writer.write(Array("data: two\n\n".utf8))
                })
            }
            let response = try connection.readResponse()
            #expect(response.header("Content-Type") == "text/event-stream")
            #expect(response.text == "data: one\n\ndata: two\n\n")
        }
    }

    @Test func waitReturnsTheResponseAnotherThreadCompletes() {
        let deferred = HTTPDeferredResponse()
        let completer = Thread {
            usleep(20_000)
            deferred.complete(.text("from afar", status: 202))
        }
        completer.start()
        let response = deferred.wait()
        #expect(response.status == 202)
        guard case .bytes(let bytes) = response.body else {
            Issue.record("not a whole body")
            return
        }
        #expect(String(decoding: bytes, as: UTF8.self) == "from afar")
    }
}
