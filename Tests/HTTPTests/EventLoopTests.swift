import Dispatch
import Foundation
import HTTP
import Testing

/// The server's event loop: waiting connections hold no thread, and every phase's limit still holds when many
/// connections wait at once.
@Suite struct EventLoopTests {
    @Test func hundredsOfIdleAndHalfSentConnectionsHoldNoThreadAndOthersAreStillServed() throws {
        try withServer(configure: { roomy(&$0) }, handler: echoHandler) { server, port in
            let before = try threadCount()
            var held: [RawConnection] = []
            for index in 0..<400 {
                let connection = try RawConnection(port: port)
                switch index % 3 {
                case 0:
                    connection.send("GET /kept HTTP/1.1\r\nHost: t\r\n\r\n")
                    #expect(try connection.readResponse().status == 200)
                case 1:
                    connection.send("GET /half HTTP/1.1\r\nHost: t\r\nX-Slow")
                default:
                    connection.send("POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc")
                }
                held.append(connection)
            }
            #expect(waitUntil { server.activeConnectionCount == 400 })
            let during = try threadCount()
            // One thread per connection would add 400.
            #expect(during - before < 100)
            let other = try RawConnection(port: port)
            other.send("GET /other HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try other.readResponse().text == "GET /other ")
            withExtendedLifetime(held) {}
        }
    }

    @Test func aSlowLorisOnManySocketsGets408OnEveryOneWhileOthersAreServed() throws {
        try withServer(configure: { roomy(&$0); $0.headTimeout = 1 }, handler: echoHandler) { _, port in
            let lorises = try (0..<150).map { _ in try RawConnection(port: port) }
            for (index, loris) in lorises.enumerated() {
                loris.send("GET /loris/\(index) HTTP/1.1\r\nHost: t\r\n")
            }
            // More bytes do not restart the head timeout: it runs from the first byte of the request.
            for loris in lorises { loris.send("X-A: 1\r\n") }
            let other = try RawConnection(port: port)
            other.send("GET /served HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try other.readResponse().text == "GET /served ")
            for loris in lorises {
                #expect(try loris.readResponse(timeout: 15).status == 408)
                #expect(loris.isClosedByPeer())
            }
        }
    }

    @Test func everyPhaseTimeoutHoldsForManyConnectionsWaitingAtOnce() throws {
        try withServer(configure: { roomy(&$0); $0.idleTimeout = 1; $0.headTimeout = 1; $0.bodyTimeout = 1 },
                       handler: echoHandler) { server, port in
            let idle = try (0..<50).map { _ in try RawConnection(port: port) }
            let heads = try (0..<50).map { _ in try RawConnection(port: port) }
            let bodies = try (0..<50).map { _ in try RawConnection(port: port) }
            for head in heads { head.send("GET / HTTP/1.1\r\nHost: t\r\n") }
            for body in bodies { body.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc") }
            for connection in idle { #expect(closesWithoutAnAnswer(connection)) }
            for connection in heads + bodies {
                let response = try connection.readResponse(timeout: 15)
                #expect(response.status == 408)
                #expect(response.header("Connection") == "close")
            }
            #expect(waitUntil { server.activeConnectionCount == 0 })
        }
    }

    @Test func rejectedClientsThatKeepSendingGetTheirAnswerAreClosedAndDoNotHoldTheirAddressSlots() throws {
        try withServer(configure: { $0.maxConnectionsPerAddress = 3; $0.maxBodyBytes = 100 }, handler: echoHandler) { _, port in
            let clients = try (0..<3).map { _ in try RawConnection(port: port) }
            for client in clients {
                client.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n")
                let response = try client.readResponse()
                #expect(response.status == 413)
                #expect(response.header("Connection") == "close")
            }
            // They keep sending the body the server refused; the server discards it while it lingers, and a
            // lingering connection no longer counts against its address.
            for client in clients { client.send([UInt8](repeating: 0x61, count: 4000)) }
            let next = try RawConnection(port: port)
            next.send("GET /next HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try next.readResponse().text == "GET /next ")
            for client in clients { #expect(client.isClosedByPeer(timeout: 15)) }
        }
    }

    @Test func aKeptAliveConnectionWithAPartOfItsNextRequestBufferedIsServedWhenTheRestArrives() throws {
        try withServer(handler: echoHandler) { _, port in
            let connection = try RawConnection(port: port)
            connection.send("GET /1 HTTP/1.1\r\nHost: t\r\n\r\nPOST /2 HTTP/1.1\r\nHost: t\r\nContent-Len")
            #expect(try connection.readResponse().text == "GET /1 ")
            connection.send("gth: 3\r\n\r\nab")
            connection.send("c")
            #expect(try connection.readResponse().text == "POST /2 abc")
            connection.send("GET /3 HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try connection.readResponse().text == "GET /3 ")
        }
    }

    @Test func aHandlerThatBlocksDoesNotHoldUpRequestsOnOtherConnections() throws {
        let blocked = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        try withServer(handler: { request in
            if request.path == "/blocked" {
                blocked.signal()
                _ = release.wait(timeout: .now() + 20)
            }
            return .text(request.path)
        }) { _, port in
            let waiting = try RawConnection(port: port)
            waiting.send("GET /blocked HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(blocked.wait(timeout: .now() + 10) == .success)
            let others = try (0..<8).map { _ in try RawConnection(port: port) }
            for (index, other) in others.enumerated() { other.send("GET /free/\(index) HTTP/1.1\r\nHost: t\r\n\r\n") }
            for (index, other) in others.enumerated() { #expect(try other.readResponse().text == "/free/\(index)") }
            release.signal()
            #expect(try waiting.readResponse().text == "/blocked")
        }
    }

    @Test func gracefulShutdownClosesHundredsOfIdleConnectionsAndFinishesARequestStillArriving() throws {
        let server = HTTPServer(configuration: {
            var configuration = HTTPServerConfiguration(port: 0)
            roomy(&configuration)
            return configuration
        }(), handler: echoHandler)
        let port = try server.start()
        let idle = try (0..<200).map { _ in try RawConnection(port: port) }
        let arriving = try RawConnection(port: port)
        arriving.send("POST /late HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nab")
        #expect(waitUntil { server.activeConnectionCount == 201 })
        let stopper = Thread { server.shutdown(gracePeriod: 10) }
        stopper.start()
        for connection in idle { #expect(closesWithoutAnAnswer(connection)) }
        arriving.send("cd")
        let response = try arriving.readResponse()
        #expect(response.text == "POST /late abcd")
        #expect(response.header("Connection") == "close")
        server.waitUntilStopped()
        #expect(server.activeConnectionCount == 0)
    }
}

/// Room for hundreds of connections from the loopback address, each allowed to sit for a minute.
private func roomy(_ configuration: inout HTTPServerConfiguration) {
    configuration.maxConnections = 2000
    configuration.maxConnectionsPerAddress = 2000
    configuration.idleTimeout = 60
    configuration.headTimeout = 60
    configuration.bodyTimeout = 60
}

/// True when the server closes the connection without having sent a byte.
private func closesWithoutAnAnswer(_ connection: RawConnection) -> Bool {
    do {
        _ = try connection.readResponse(timeout: 15)
        return false
    } catch RawConnection.Failure.closedEarly {
        return true
    } catch {
        return false
    }
}

/// Polls `condition` for up to ten seconds.
private func waitUntil(_ condition: () -> Bool) -> Bool {
    for _ in 0..<1000 {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// Threads of this test process, from /proc/self/status.
private func threadCount() throws -> Int {
    let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
    let line = status.split(separator: "\n").first { $0.hasPrefix("Threads:") }
    return Int(line?.split(separator: "\t").last.map(String.init) ?? "") ?? 0
}
