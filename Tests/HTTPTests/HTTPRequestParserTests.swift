import HTTP
import Testing

/// Feeds `text` in one piece (or byte by byte) and returns every result up to the first `needMoreData` or error.
private func results(_ text: String, byteAtATime: Bool = false,
                     parser: HTTPRequestParser = HTTPRequestParser()) -> [HTTPRequestParser.ParseResult] {
    var parser = parser
    var collected: [HTTPRequestParser.ParseResult] = []
    func drain() -> Bool {
        while true {
            let result = parser.next()
            switch result {
            case .needMoreData: return true
            case .request: collected.append(result)
            case .error: collected.append(result); return false
            }
        }
    }
    if byteAtATime {
        for byte in text.utf8 {
            parser.feed([byte])
            guard drain() else { break }
        }
    } else {
        parser.feed(Array(text.utf8))
        _ = drain()
    }
    return collected
}

private func request(_ text: String, byteAtATime: Bool = false,
                     parser: HTTPRequestParser = HTTPRequestParser()) -> HTTPRequest? {
    guard case .request(let request)? = results(text, byteAtATime: byteAtATime, parser: parser).first else { return nil }
    return request
}

private func errorStatus(_ text: String, parser: HTTPRequestParser = HTTPRequestParser()) -> Int? {
    for result in results(text, parser: parser) {
        if case .error(let error) = result { return error.status }
    }
    return nil
}

private func body(_ request: HTTPRequest?) -> String? {
    request.map { String(decoding: $0.body, as: UTF8.self) }
}

@Suite struct HTTPRequestParserTests {
    @Test func parsesSimpleGetRequest() throws {
        let parsed = try #require(request("GET /mcp/app/env?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n"))
        #expect(parsed.method == "GET")
        #expect(parsed.target == "/mcp/app/env?x=1")
        #expect(parsed.path == "/mcp/app/env")
        #expect(parsed.query == "x=1")
        #expect(parsed.version == "HTTP/1.1")
        #expect(parsed.headers["host"] == "example.com")
        #expect(parsed.headers["ACCEPT"] == "*/*")
        #expect(parsed.body.isEmpty)
    }

    @Test func leavesPathPercentEncodedAndDecodesQueryItems() throws {
        let parsed = try #require(request("GET /a%20b?name=J%C3%B6rg+M&flag&empty=&x=1%2B1 HTTP/1.1\r\nHost: h\r\n\r\n"))
        #expect(parsed.path == "/a%20b")
        let items = parsed.queryItems
        #expect(items.map(\.name) == ["name", "flag", "empty", "x"])
        #expect(items.map(\.value) == ["Jörg M", "", "", "1+1"])
    }

    @Test func hasNoQueryWithoutQuestionMark() throws {
        let parsed = try #require(request("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
        #expect(parsed.query == nil)
        #expect(parsed.queryItems.isEmpty)
    }

    @Test func takesPathFromAbsoluteFormTarget() throws {
        let parsed = try #require(request("GET http://example.com:8080/p/q?z=1 HTTP/1.1\r\nHost: example.com\r\n\r\n"))
        #expect(parsed.path == "/p/q")
        #expect(parsed.query == "z=1")
    }

    @Test func readsContentLengthBody() throws {
        let parsed = try #require(request("POST /token HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world"))
        #expect(body(parsed) == "hello world")
    }

    @Test func decodesFormFieldsFromBody() throws {
        let text = "POST /login HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + "Content-Length: 40\r\n\r\nemail=a%40b.example&password=p+w&scope=x"
        let parsed = try #require(request(text))
        let fields = parsed.formFields()
        #expect(fields.map(\.name) == ["email", "password", "scope"])
        #expect(fields.map(\.value) == ["a@b.example", "p w", "x"])
    }

    @Test func decodesChunkedBodyWithExtensionsAndTrailers() throws {
        let text = "POST /mcp HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n1 ; ext\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: yes\r\nChecksum: 1\r\n\r\n"
        let parsed = try #require(request(text))
        #expect(body(parsed) == "hello world")
        #expect(parsed.headers["X-Trailer"] == nil)
    }

    @Test func parsesRequestFedOneByteAtATime() throws {
        let text = "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
            + "PUT /y HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
        let all = results(text, byteAtATime: true)
        #expect(all.count == 2)
        guard case .request(let first)? = all.first, case .request(let second)? = all.last else {
            Issue.record("expected two requests")
            return
        }
        #expect(body(first) == "abcde")
        #expect(second.method == "PUT")
        #expect(body(second) == "xyz")
    }

    @Test func keepsPipelinedRequestsInOrder() {
        let text = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nokGET /3 HTTP/1.1\r\nHost: h\r\n\r\nGET /4 HT"
        var parser = HTTPRequestParser()
        parser.feed(Array(text.utf8))
        var paths: [String] = []
        while case .request(let next) = parser.next() { paths.append(next.path) }
        #expect(paths == ["/1", "/2", "/3"])
        #expect(parser.phase == .head)
        parser.feed(Array("TP/1.1\r\nHost: h\r\n\r\n".utf8))
        guard case .request(let last) = parser.next() else {
            Issue.record("expected the fourth request")
            return
        }
        #expect(last.path == "/4")
        #expect(parser.phase == .idle)
    }

    @Test func decodesALargeChunkedBodyFedInPieces() {
        let payload = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var wire = Array("POST /big HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        for start in stride(from: 0, to: payload.count, by: 3000) {
            let piece = payload[start..<min(start + 3000, payload.count)]
            wire += Array(String(piece.count, radix: 16).utf8) + [13, 10] + piece + [13, 10]
        }
        wire += Array("0\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n".utf8)
        var parser = HTTPRequestParser()
        var bodies: [[UInt8]] = []
        var paths: [String] = []
        for start in stride(from: 0, to: wire.count, by: 1000) {
            parser.feed(Array(wire[start..<min(start + 1000, wire.count)]))
            while case .request(let next) = parser.next() {
                bodies.append(next.body)
                paths.append(next.path)
            }
        }
        #expect(paths == ["/big", "/next"])
        #expect(bodies.first == payload)
        #expect(parser.bufferedByteCount == 0)
    }

    @Test func waitsForTheRestOfAPartialBody() {
        var parser = HTTPRequestParser()
        parser.feed(Array("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n12345".utf8))
        guard case .needMoreData = parser.next() else {
            Issue.record("expected needMoreData")
            return
        }
        #expect(parser.phase == .body)
        parser.feed(Array("67890".utf8))
        guard case .request(let complete) = parser.next() else {
            Issue.record("expected a request")
            return
        }
        #expect(body(complete) == "1234567890")
    }

    @Test func reportsIdleHeadAndBodyPhases() {
        var parser = HTTPRequestParser()
        #expect(parser.phase == .idle)
        parser.feed(Array("GET / HT".utf8))
        _ = parser.next()
        #expect(parser.phase == .head)
        parser.feed(Array("TP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n".utf8))
        _ = parser.next()
        #expect(parser.phase == .body)
        parser.feed(Array("ab".utf8))
        _ = parser.next()
        #expect(parser.phase == .idle)
    }

    @Test func ignoresEmptyLinesBeforeTheRequestLine() throws {
        let parsed = try #require(request("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"))
        #expect(parsed.method == "GET")
    }

    @Test func acceptsHTTP10WithoutHostAndClosesByDefault() throws {
        let plain = try #require(request("GET / HTTP/1.0\r\n\r\n"))
        #expect(plain.version == "HTTP/1.0")
        #expect(!plain.wantsKeepAlive)
        let keepAlive = try #require(request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"))
        #expect(keepAlive.wantsKeepAlive)
    }

    @Test func keepsHTTP11AliveUnlessConnectionClose() throws {
        #expect(try #require(request("GET / HTTP/1.1\r\nHost: h\r\n\r\n")).wantsKeepAlive)
        #expect(try !#require(request("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Close\r\n\r\n")).wantsKeepAlive)
    }

    @Test func trimsOptionalWhitespaceAroundHeaderValues() throws {
        let parsed = try #require(request("GET / HTTP/1.1\r\nHost:h\r\nX-A: \t spaced value \t\r\nX-A: second\r\n\r\n"))
        #expect(parsed.headers["x-a"] == "spaced value")
        #expect(parsed.headers.values(for: "X-A") == ["spaced value", "second"])
        #expect(parsed.headers["Host"] == "h")
    }

    @Test(arguments: ["Content-Length: 2\r\nContent-Length: 2", "Content-Length: 2, 2", "Content-Length: 2\r\ncontent-length: 3"])
    func rejectsContentLengthGivenTwiceEvenWhenTheValuesAgree(_ fields: String) {
        #expect(errorStatus("POST / HTTP/1.1\r\nHost: h\r\n\(fields)\r\n\r\nok") == 400)
    }

    @Test func signalsExpectContinueOnceWhileTheBodyIsAwaited() {
        var parser = HTTPRequestParser()
        parser.feed(Array("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n".utf8))
        guard case .needMoreData = parser.next() else {
            Issue.record("expected needMoreData")
            return
        }
        let first = parser.takeContinueExpectation()
        let second = parser.takeContinueExpectation()
        #expect(first)
        #expect(!second)
        parser.feed(Array("abc".utf8))
        guard case .request = parser.next() else {
            Issue.record("expected a request")
            return
        }
    }

    // MARK: - Rejections

    @Test(arguments: [
        "GET /\r\nHost: h\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.1 \r\nHost: h\r\n\r\n",
        "GET / http/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1\r\nHost: h\r\n\r\n",
        "G(T / HTTP/1.1\r\nHost: h\r\n\r\n",
        " GET / HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET relative HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET * HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /\tx HTTP/1.1\r\nHost: h\r\n\r\n",
    ])
    func rejectsMalformedRequestLine(_ text: String) {
        #expect(errorStatus(text) == 400)
    }

    @Test func rejectsNonASCIIInTheRequestLine() {
        #expect(errorStatus("GET /caf\u{E9} HTTP/1.1\r\nHost: h\r\n\r\n") == 400)
    }

    @Test func rejectsNonHTTPBytesBeforeALineEnds() {
        var parser = HTTPRequestParser()
        parser.feed([0x16, 0x03, 0x01, 0x02, 0x00])
        guard case .error(let error) = parser.next() else {
            Issue.record("a TLS handshake must be refused at once")
            return
        }
        #expect(error.status == 400)
    }

    @Test func rejectsContentLengthWithTransferEncoding() {
        #expect(errorStatus("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") == 400)
    }

    @Test func rejectsDifferingContentLengths() {
        #expect(errorStatus("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc") == 400)
        #expect(errorStatus("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2, 3\r\n\r\nabc") == 400)
    }

    @Test(arguments: ["abc", "-1", "+5", "1.5", "", "0x10", "99999999999999999999999", "5 5"])
    func rejectsInvalidContentLength(_ value: String) {
        #expect(errorStatus("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \(value)\r\n\r\n") == 400)
    }

    @Test(arguments: ["zz", "", ";ext", "5x", "1 2", "FFFFFFFFFFFFFFFFF", "10000000000000000"])
    func rejectsInvalidChunkSize(_ size: String) {
        #expect(errorStatus("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\(size)\r\nhello\r\n0\r\n\r\n") == 400)
    }

    @Test func rejectsChunkDataNotFollowedByCRLF() {
        #expect(errorStatus("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n") == 400)
    }

    @Test func rejectsObsFold() {
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: h\r\nX-Long: first\r\n  continued\r\n\r\n") == 400)
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: h\r\nX-Long: first\r\n\tcontinued\r\n\r\n") == 400)
    }

    @Test(arguments: ["X(Bad)", "X Bad", "X\u{7F}", "Caf\u{E9}", "X\"Q", "X/Y"])
    func rejectsHeaderNameWithInvalidTokenCharacters(_ name: String) {
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: h\r\n\(name): v\r\n\r\n") == 400)
    }

    @Test func rejectsHeaderLineWithoutColon() {
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: h\r\nNoColonHere\r\n\r\n") == 400)
    }

    @Test func rejectsWhitespaceBetweenHeaderNameAndColon() {
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: h\r\nContent-Length : 0\r\n\r\n") == 400)
        #expect(errorStatus("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n") == 400)
    }

    @Test func rejectsBareLFLineEndings() {
        #expect(errorStatus("GET / HTTP/1.1\nHost: h\n\n") == 400)
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: h\n\r\n") == 400)
    }

    @Test func rejectsBareCR() {
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: h\rX-Injected: 1\r\n\r\n") == 400)
    }

    @Test(arguments: ["a\u{0}b", "a\u{1}b", "a\u{7F}b", "a\u{1B}[31m"])
    func rejectsControlCharactersInHeaderValues(_ value: String) {
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: h\r\nX-Value: \(value)\r\n\r\n") == 400)
    }

    @Test func acceptsObsTextInHeaderValues() throws {
        let parsed = try #require(request("GET / HTTP/1.1\r\nHost: h\r\nX-Name: J\u{F6}rg\r\n\r\n"))
        #expect(parsed.headers["X-Name"] == "Jörg")
    }

    @Test func rejectsMissingHostOnHTTP11() {
        #expect(errorStatus("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n") == 400)
    }

    @Test func rejectsDuplicateHost() {
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == 400)
    }

    @Test(arguments: ["gzip", "gzip, chunked", "chunked, gzip", "identity"])
    func rejectsTransferCodingsOtherThanChunkedWith501(_ coding: String) {
        #expect(errorStatus("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \(coding)\r\n\r\n") == 501)
    }

    @Test func rejectsChunkedAppliedTwice() {
        #expect(errorStatus("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n") == 400)
    }

    @Test func rejectsTransferEncodingInHTTP10() {
        #expect(errorStatus("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") == 400)
    }

    @Test(arguments: ["HTTP/2.0", "HTTP/0.9", "HTTP/3.0", "HTTP/2.1"])
    func rejectsUnsupportedVersionWith505(_ version: String) {
        #expect(errorStatus("GET / \(version)\r\nHost: h\r\n\r\n") == 505)
    }

    @Test(arguments: ["HTTP/1.2", "HTTP/1.9"])
    func servesHigherHTTP1MinorVersionsAsHTTP11(_ version: String) throws {
        let parsed = try #require(request("GET / \(version)\r\nHost: h\r\n\r\n"))
        #expect(parsed.version == "HTTP/1.1")
        #expect(parsed.wantsKeepAlive)
        #expect(errorStatus("GET / \(version)\r\nAccept: */*\r\n\r\n") == 400)
    }

    @Test(arguments: ["", "example.com", "example.com:8443", "127.0.0.1:8000", "[::1]:8000", "[2001:db8::7]",
                      "[::ffff:192.0.2.1]", "[v7.fe:80]", "xn--bcher-kva.example", "a%41b", "sub_domain.example:"])
    func acceptsHostsThatAreURIHostAndPort(_ host: String) throws {
        let parsed = try #require(request("GET / HTTP/1.1\r\nHost: \(host)\r\n\r\n"))
        #expect(parsed.headers["Host"] == host)
    }

    @Test(arguments: ["a b", "a/b", "a@b", "user@host:80", "host:80x", "host:8:0", "[::1", "[::1]x", "[zz::1]", "[1.2.3.4]",
                      "%zz", "a\"b", "h\u{E9}", "http://host", "host?x", "host#y", "[::1]:80:80"])
    func rejectsHostsThatAreNotURIHostAndPortWith400(_ host: String) {
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: \(host)\r\n\r\n") == 400)
    }

    @Test func rejectionsNeverEchoBytesFromTheHeaderFields() {
        let marker = "SECRET\u{1B}[31m<script>"
        let attempts = [
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \(marker)\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: x-\(marker), chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \(marker)\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: \(marker)\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nX-\(marker): 1\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\(marker)\r\n",
        ]
        for text in attempts {
            let errors = results(text).compactMap { result -> HTTPParseError? in
                if case .error(let error) = result { return error }
                return nil
            }
            #expect(errors.count == 1)
            for error in errors { #expect(!error.description.contains("SECRET")) }
        }
    }

    @Test func rejectsOversizedHeadWith431() {
        let parser = HTTPRequestParser(maxHeadBytes: 256)
        let big = String(repeating: "a", count: 300)
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: h\r\nX-Big: \(big)\r\n\r\n", parser: parser) == 431)
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: h\r\nX-Big: \(big)", parser: parser) == 431)
    }

    @Test func rejectsOversizedRequestLineWith414() {
        let parser = HTTPRequestParser(maxHeadBytes: 256)
        #expect(errorStatus("GET /\(String(repeating: "a", count: 300))", parser: parser) == 414)
    }

    @Test func rejectsTooManyHeaderFieldsWith431() {
        let parser = HTTPRequestParser(maxHeaderCount: 5)
        let fields = (1...6).map { "X-\($0): v\r\n" }.joined()
        #expect(errorStatus("GET / HTTP/1.1\r\nHost: h\r\n\(fields)\r\n", parser: parser) == 431)
    }

    @Test func rejectsContentLengthAboveTheLimitWith413BeforeTheBodyArrives() {
        let parser = HTTPRequestParser(maxBodyBytes: 10)
        #expect(errorStatus("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", parser: parser) == 413)
    }

    @Test func rejectsChunkedBodyAboveTheLimitWith413() {
        let parser = HTTPRequestParser(maxBodyBytes: 10)
        let text = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n"
        #expect(errorStatus(text, parser: parser) == 413)
    }

    @Test func rejectsOversizedTrailersWith431() {
        let parser = HTTPRequestParser(maxHeadBytes: 128)
        let text = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: \(String(repeating: "t", count: 200))\r\n\r\n"
        #expect(errorStatus(text, parser: parser) == 431)
    }

    @Test func keepsReportingTheErrorAfterAFailure() {
        var parser = HTTPRequestParser()
        parser.feed(Array("GET / HTTP/9.9\r\nHost: h\r\n\r\n".utf8))
        guard case .error(.versionNotSupported) = parser.next() else {
            Issue.record("expected 505")
            return
        }
        parser.feed(Array("GET / HTTP/1.1\r\nHost: h\r\n\r\n".utf8))
        guard case .error(.versionNotSupported) = parser.next() else {
            Issue.record("the parser must stay failed")
            return
        }
    }

    @Test func aRefusedRequestStillNamesItsRequestLine() {
        // 413 is decided from the head; the server reports which resource the refused request was for.
        var parser = HTTPRequestParser(maxBodyBytes: 10)
        parser.feed(Array("POST /mcp/notes/prod?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n".utf8))
        guard case .error(let error) = parser.next() else { Issue.record("no error"); return }
        #expect(error.status == 413)
        #expect(parser.currentRequestLine?.method == "POST" && parser.currentRequestLine?.target == "/mcp/notes/prod?x=1")
        // A chunked body over the limit fails with the head already parsed.
        var chunked = HTTPRequestParser(maxBodyBytes: 4)
        chunked.feed(Array("POST /mcp/a/b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n123456789\r\n".utf8))
        guard case .error = chunked.next() else { Issue.record("no error"); return }
        #expect(chunked.currentRequestLine?.target == "/mcp/a/b")
        // Nothing is claimed before a request line has arrived whole.
        var partial = HTTPRequestParser()
        partial.feed(Array("POST /mcp/a".utf8))
        _ = partial.next()
        #expect(partial.currentRequestLine == nil)
    }
}
