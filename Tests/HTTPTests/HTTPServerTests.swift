import Dispatch
import Foundation
import HTTP
import Synchronization
import Testing

@Suite struct HTTPServerTests {
    @Test func servesTwoRequestsOnOneKeepAliveConnection() throws {
        try withServer(handler: echoHandler) { server, port in
            let connection = try RawConnection(port: port)
            connection.send("GET /first HTTP/1.1\r\nHost: t\r\n\r\n")
            let first = try connection.readResponse()
            connection.send("POST /second HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody")
            let second = try connection.readResponse()
            #expect(first.status == 200)
            #expect(first.text == "GET /first ")
            #expect(first.header("Connection") == nil)
            #expect(first.header("Date") != nil)
            #expect(second.text == "POST /second body")
            #expect(server.activeConnectionCount == 1)
        }
    }

    @Test func answersPipelinedRequestsInOrder() throws {
        try withServer(handler: echoHandler) { _, port in
            let connection = try RawConnection(port: port)
            connection.send("GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\nGET /3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            let texts = try (0..<3).map { _ in try connection.readResponse().text }
            #expect(texts == ["GET /1 ", "GET /2 ", "GET /3 "])
            #expect(connection.isClosedByPeer())
        }
    }

    @Test func passesTheClientAddressToTheHandler() throws {
        try withServer(handler: { request in .text(request.remoteAddress) }) { _, port in
            let connection = try RawConnection(port: port)
            connection.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try connection.readResponse().text == "127.0.0.1")
        }
    }

    @Test func receivesAChunkedRequestBody() throws {
        try withServer(handler: echoHandler) { _, port in
            let connection = try RawConnection(port: port)
            connection.send("POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nWiki\r\n")
            connection.send("5\r\npedia\r\n0\r\nTrailer: 1\r\n\r\n")
            let response = try connection.readResponse()
            #expect(response.text == "POST /upload Wikipedia")
        }
    }

    @Test func answersOversizedHeadWith431AndCloses() throws {
        try withServer(configure: { $0.maxHeadBytes = 1024 }, handler: echoHandler) { _, port in
            let connection = try RawConnection(port: port)
            connection.send("GET / HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "x", count: 2000))\r\n\r\n")
            let response = try connection.readResponse()
            #expect(response.status == 431)
            #expect(response.header("Connection") == "close")
            #expect(connection.isClosedByPeer())
        }
    }

    @Test func answersOversizedBodyWith413() throws {
        try withServer(configure: { $0.maxBodyBytes = 1000 }, handler: echoHandler) { _, port in
            let connection = try RawConnection(port: port)
            connection.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n")
            connection.send([UInt8](repeating: 0x61, count: 5000))
            let response = try connection.readResponse()
            #expect(response.status == 413)
            #expect(response.header("Connection") == "close")
        }
    }

    @Test func answersASlowHeadWith408() throws {
        try withServer(configure: { $0.headTimeout = 1 }, handler: echoHandler) { _, port in
            let connection = try RawConnection(port: port)
            connection.send("GET / HTTP/1.1\r\nHost: t\r\nX-Half")
            let response = try connection.readResponse(timeout: 10)
            #expect(response.status == 408)
            #expect(connection.isClosedByPeer())
        }
    }

    @Test func answersASlowBodyWith408() throws {
        try withServer(configure: { $0.bodyTimeout = 1 }, handler: echoHandler) { _, port in
            let connection = try RawConnection(port: port)
            connection.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
            #expect(try connection.readResponse(timeout: 10).status == 408)
        }
    }

    @Test func closesAnIdleKeepAliveConnectionSilently() throws {
        try withServer(configure: { $0.idleTimeout = 0.5 }, handler: echoHandler) { _, port in
            let connection = try RawConnection(port: port)
            connection.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try connection.readResponse().status == 200)
            #expect(connection.isClosedByPeer(timeout: 10))
        }
    }

    @Test func answersMalformedRequestWith400AndConnectionClose() throws {
        try withServer(handler: echoHandler) { _, port in
            let connection = try RawConnection(port: port)
            connection.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            let response = try connection.readResponse()
            #expect(response.status == 400)
            #expect(response.header("Connection") == "close")
            #expect(response.text.hasPrefix("Bad Request"))
            #expect(connection.isClosedByPeer())
        }
    }

    @Test func sendsHeadersWithoutBodyForHEAD() throws {
        try withServer(handler: { _ in .text("twelve bytes") }) { _, port in
            let connection = try RawConnection(port: port)
            connection.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n")
            let head = try connection.readResponse(isHead: true)
            #expect(head.header("Content-Length") == "12")
            #expect(head.body.isEmpty)
            #expect(try connection.readResponse().text == "twelve bytes")
        }
    }

    @Test func closesHTTP10ConnectionsUnlessAskedToKeepThemAlive() throws {
        try withServer(handler: echoHandler) { _, port in
            let plain = try RawConnection(port: port)
            plain.send("GET /a HTTP/1.0\r\n\r\n")
            #expect(try plain.readResponse().header("Connection") == "close")
            #expect(plain.isClosedByPeer())

            let kept = try RawConnection(port: port)
            kept.send("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try kept.readResponse().header("Connection") == "keep-alive")
            kept.send("GET /c HTTP/1.0\r\n\r\n")
            #expect(try kept.readResponse().text == "GET /c ")
        }
    }

    @Test func streamsResponseBodiesChunkedAndCloseDelimitedForHTTP10() throws {
        let handler: @Sendable (HTTPRequest) -> HTTPResponse = { _ in
            .eventStream { writer in
                try writer.write(SSEEvent(data: "one").encoded())
                try writer.write([])
                try writer.write(SSEEvent(data: "two").encoded())
            }
        }
        try withServer(handler: handler) { _, port in
            let modern = try RawConnection(port: port)
            modern.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
            let chunked = try modern.readResponse()
            #expect(chunked.header("Transfer-Encoding") == "chunked")
            #expect(chunked.header("Content-Type") == "text/event-stream")
            #expect(chunked.text == "data: one\n\ndata: two\n\n")

            let old = try RawConnection(port: port)
            old.send("GET /events HTTP/1.0\r\n\r\n")
            let delimited = try old.readResponse()
            #expect(delimited.header("Transfer-Encoding") == nil)
            #expect(delimited.text == "data: one\n\ndata: two\n\n")
        }
    }

    @Test func streamWritesThrowOnceTheClientWentAway() throws {
        let writeFailed = DispatchSemaphore(value: 0)
        let handler: @Sendable (HTTPRequest) -> HTTPResponse = { _ in
            .eventStream { writer in
                do {
                    for index in 0..<5000 {
                        try writer.write(SSEEvent(data: "\(index)").encoded())
                        Thread.sleep(forTimeInterval: 0.002)
                    }
                } catch {
                    writeFailed.signal()
                    throw error
                }
            }
        }
        try withServer(handler: handler) { _, port in
            do {
                let client = try RawConnection(port: port)
                client.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
                let start = String(decoding: try client.readBytes(atLeast: 100), as: UTF8.self)
                #expect(start.hasPrefix("HTTP/1.1 200 OK"))
            }
            #expect(writeFailed.wait(timeout: .now() + 10) == .success)
        }
    }

    @Test func dropsTheResponseForAClientThatLeft() throws {
        let handled = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        try withServer(handler: { request in
            if request.path == "/slow" {
                handled.signal()
                _ = release.wait(timeout: .now() + 10)
            }
            return .text(String(repeating: "x", count: 200_000))
        }) { _, port in
            do {
                let leaving = try RawConnection(port: port)
                leaving.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(handled.wait(timeout: .now() + 10) == .success)
            }
            release.signal()
            let staying = try RawConnection(port: port)
            staying.send("GET /fast HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try staying.readResponse().body.count == 200_000)
        }
    }

    @Test func sendsContinueBeforeTheBodyWhenExpected() throws {
        try withServer(handler: echoHandler) { _, port in
            let connection = try RawConnection(port: port)
            connection.send("POST /c HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
            #expect(try connection.readResponse().status == 100)
            connection.send("ok")
            #expect(try connection.readResponse().text == "POST /c ok")
        }
    }

    @Test func answers503BeyondMaxConnections() throws {
        try withServer(configure: { $0.maxConnections = 1 }, handler: echoHandler) { _, port in
            let first = try RawConnection(port: port)
            first.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try first.readResponse().status == 200)
            let second = try RawConnection(port: port)
            #expect(try second.readResponse().status == 503)
        }
    }

    @Test func idleSocketsFromOneAddressCannotTakeTheSlotsOfOthers() throws {
        // Without a per-address cap, the 80 connection slots would all go to the first address.
        try withServer(configure: { $0.maxConnections = 80; $0.idleTimeout = 60 }, handler: echoHandler) { server, port in
            let idle = try (0..<64).map { _ in try RawConnection(port: port, from: "127.0.0.1") }
            let refused = try (0..<20).map { _ in try RawConnection(port: port, from: "127.0.0.1") }
            for connection in refused {
                let response = try connection.readResponse()
                #expect(response.status == 503)
                #expect(!response.text.contains("127.0.0.1"))
            }
            let other = try RawConnection(port: port, from: "127.0.0.2")
            other.send("GET /other HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try other.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "GET /other ")
            #expect(server.activeConnectionCount == 65)
            withExtendedLifetime(idle) {}
        }
    }

    @Test func anAddressAtItsCapIsServedAgainOnceItsIdleSocketsTimeOut() throws {
        try withServer(configure: { $0.maxConnectionsPerAddress = 3; $0.idleTimeout = 3 }, handler: echoHandler) { _, port in
            let idle = try (0..<3).map { _ in try RawConnection(port: port) }
            idle[0].send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try idle[0].readResponse().status == 200)
            #expect(try RawConnection(port: port).readResponse().status == 503)
            // The server forgets a connection before closing it, so once all three are closed the slots are free.
            for connection in idle { #expect(connection.isClosedByPeer(timeout: 10)) }
            let again = try RawConnection(port: port)
            again.send("GET /again HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try again.readResponse().status == 200)
        }
    }

    @Test func servesManyConcurrentKeepAliveClients() throws {
        try withServer(handler: echoHandler) { server, port in
            let failures = Atomic(0)
            DispatchQueue.concurrentPerform(iterations: 64) { index in
                do {
                    let connection = try RawConnection(port: port)
                    for round in 0..<5 {
                        connection.send("GET /\(index)/\(round) HTTP/1.1\r\nHost: t\r\n\r\n")
                        if try connection.readResponse().text != "GET /\(index)/\(round) " { failures.add(1, ordering: .relaxed) }
                    }
                } catch {
                    failures.add(1, ordering: .relaxed)
                }
            }
            let failureCount = failures.load(ordering: .relaxed)
            #expect(failureCount == 0)
        }
    }

    @Test func gracefulShutdownWaitsForAnInFlightSlowHandler() throws {
        let started = DispatchSemaphore(value: 0)
        let finished = Atomic(false)
        let server = HTTPServer(configuration: HTTPServerConfiguration(port: 0)) { _ in
            started.signal()
            Thread.sleep(forTimeInterval: 0.5)
            finished.store(true, ordering: .sequentiallyConsistent)
            return .text("done")
        }
        let port = try server.start()
        let idle = try RawConnection(port: port)
        let busy = try RawConnection(port: port)
        busy.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(started.wait(timeout: .now() + 10) == .success)

        server.shutdown(gracePeriod: 10)
        let handlerFinished = finished.load(ordering: .sequentiallyConsistent)
        #expect(handlerFinished)
        let response = try busy.readResponse()
        #expect(response.text == "done")
        #expect(response.header("Connection") == "close")
        #expect(idle.isClosedByPeer())
        #expect(server.activeConnectionCount == 0)
        #expect(throws: (any Error).self) { try RawConnection(port: port) }
        server.waitUntilStopped()
    }

    @Test func shutdownCutsStreamsThatOutliveTheGracePeriod() throws {
        let writeFailed = Atomic(false)
        let streaming = DispatchSemaphore(value: 0)
        let server = HTTPServer(configuration: HTTPServerConfiguration(port: 0)) { _ in
            .eventStream { writer in
                streaming.signal()
                do {
                    for _ in 0..<1000 {
                        try writer.write(SSEEvent.comment("tick"))
                        Thread.sleep(forTimeInterval: 0.02)
                    }
                } catch {
                    writeFailed.store(true, ordering: .sequentiallyConsistent)
                    throw error
                }
            }
        }
        let port = try server.start()
        let client = try RawConnection(port: port)
        client.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(streaming.wait(timeout: .now() + 10) == .success)
        server.shutdown(gracePeriod: 0.2)
        let streamSawFailure = writeFailed.load(ordering: .sequentiallyConsistent)
        #expect(streamSawFailure)
        #expect(server.activeConnectionCount == 0)
    }

    @Test func refusesToStartTwiceOrOnABusyPort() throws {
        let server = HTTPServer(configuration: HTTPServerConfiguration(port: 0), handler: echoHandler)
        let port = try server.start()
        defer { server.shutdown() }
        #expect(throws: HTTPServer.StartError.self) { try server.start() }
        let other = HTTPServer(configuration: HTTPServerConfiguration(port: port), handler: echoHandler)
        #expect(throws: SocketError.self) { try other.start() }
    }

    @Test func listensOnIPv6Loopback() throws {
        let server = HTTPServer(configuration: HTTPServerConfiguration(host: "::1", port: 0), handler: echoHandler)
        let port: Int
        do {
            port = try server.start()
        } catch {
            return // no IPv6 on this machine
        }
        defer { server.shutdown() }
        let client = HTTPClient()
        let response = try client.send(HTTPClientRequest(url: URL(string: "http://[::1]:\(port)/six")!))
        #expect(String(decoding: try response.readAll(), as: UTF8.self) == "GET /six ")
    }
}
