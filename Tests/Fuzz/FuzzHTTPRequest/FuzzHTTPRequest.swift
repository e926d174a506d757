import FuzzSupport
import HTTP

/// Fuzzes `HTTPRequestParser` (RFC 9112) with small limits, so head, header-count and body limits are reached.
///
/// Input: one knob byte (how the stream is cut into pieces), then the byte stream of one connection.
/// Properties: feeding the stream piece by piece yields the same requests as feeding it at once, and
/// ends in an error exactly when that does; every request, written out again, parses to the same request.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let (knob, stream) = knobAndRest(fuzzInput(data, size)) else { return 0 }
    let whole = parseAtOnce(stream)
    let piecewise = parsePiecewise(stream, seed: knob)
    invariant(whole.requests == piecewise.requests, "piecewise parsing found other requests: \(whole) vs \(piecewise)")
    invariant(whole.failed == piecewise.failed, "piecewise parsing failed differently: \(whole) vs \(piecewise)")
    for request in whole.requests {
        checkRoundTrip(request)
    }
    return 0
}

/// The parts of a request a handler sees, comparable.
struct ParsedRequest: Equatable, CustomStringConvertible {
    let method: String
    let target: String
    let version: String
    let headers: [[String]]
    let body: [UInt8]

    init(_ request: HTTPRequest) {
        method = request.method
        target = request.target
        version = request.version
        headers = request.headers.map { [$0.name, $0.value] }
        body = request.body
        exerciseAccessors(request)
    }

    var description: String { "\(method) \(target) \(version) \(headers) body=\(body.count)" }
}

/// What one connection's bytes gave: the complete requests, and whether the parser then failed.
struct Outcome: CustomStringConvertible {
    var requests: [ParsedRequest] = []
    var failed = false
    var description: String { "\(requests.count) requests, failed: \(failed)" }
}

func makeParser() -> HTTPRequestParser {
    HTTPRequestParser(maxHeadBytes: 256, maxHeaderCount: 8, maxBodyBytes: 512)
}

func parseAtOnce(_ stream: ArraySlice<UInt8>) -> Outcome {
    var parser = makeParser()
    parser.feed(Array(stream))
    var outcome = Outcome()
    drain(&parser, into: &outcome)
    return outcome
}

func parsePiecewise(_ stream: ArraySlice<UInt8>, seed: UInt8) -> Outcome {
    var parser = makeParser()
    var outcome = Outcome()
    for piece in pieces(of: stream, seed: seed) where !outcome.failed {
        parser.feed(Array(piece))
        drain(&parser, into: &outcome)
    }
    return outcome
}

func drain(_ parser: inout HTTPRequestParser, into outcome: inout Outcome) {
    while true {
        _ = parser.currentRequestLine
        _ = parser.takeContinueExpectation()
        switch parser.next() {
        case .needMoreData:
            invariant(parser.bufferedByteCount >= 0, "negative buffered byte count")
            return
        case .request(let request):
            outcome.requests.append(ParsedRequest(request))
        case .error(let error):
            invariant((400...505).contains(error.status), "parse error with status \(error.status)")
            invariant(parser.next().isError, "the parser recovered after an error")
            outcome.failed = true
            return
        }
    }
}

/// Writes the request out with `Content-Length` framing and parses it again with roomier limits
/// (whitespace around values and the framing header may grow a little).
func checkRoundTrip(_ request: ParsedRequest) {
    var text = "\(request.method) \(request.target) \(request.version)\r\n"
    var kept: [[String]] = []
    for header in request.headers where !isFraming(header[0]) {
        text += "\(header[0]): \(header[1])\r\n"
        kept.append(header)
    }
    if !request.body.isEmpty { text += "Content-Length: \(request.body.count)\r\n" }
    text += "\r\n"
    var parser = HTTPRequestParser(maxHeadBytes: 1024, maxHeaderCount: 16, maxBodyBytes: 512)
    parser.feed(Array(text.utf8) + request.body)
    guard case .request(let again) = parser.next() else {
        fatalError("a parsed request does not parse again: \(request)")
    }
    let reparsed = ParsedRequest(again)
    let expectedHeaders = kept + (request.body.isEmpty ? [] : [["Content-Length", "\(request.body.count)"]])
    invariant(reparsed.method == request.method && reparsed.target == request.target
              && reparsed.version == request.version && reparsed.body == request.body,
              "round trip changed the request: \(request) vs \(reparsed)")
    invariant(reparsed.headers == expectedHeaders, "round trip changed the headers: \(request) vs \(reparsed)")
    invariant(parser.bufferedByteCount == 0, "round trip left bytes behind")
}

func isFraming(_ name: String) -> Bool {
    let lower = name.lowercased()
    return lower == "content-length" || lower == "transfer-encoding"
}

/// Touches the derived views a handler uses, so their code runs under the sanitizers too.
func exerciseAccessors(_ request: HTTPRequest) {
    invariant(request.path.isEmpty == false, "empty path for target \(request.target)")
    _ = request.queryItems
    _ = request.wantsKeepAlive
    _ = request.formFields()
}

extension HTTPRequestParser.ParseResult {
    var isError: Bool {
        if case .error = self { return true }
        return false
    }
}
