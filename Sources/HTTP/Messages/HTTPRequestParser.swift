/// An incremental HTTP/1.x request parser: a pure value type with no I/O, fed bytes as they
/// arrive and asked for complete requests (RFC 9112).
///
/// Bytes left over after a request (keep-alive, pipelining) stay buffered for the next one.
/// The parser enforces the head, header-count and body limits itself, and is strict where
/// leniency enables request smuggling: lines must end in CRLF (a bare CR or LF is a 400),
/// obs-fold is refused, and `Content-Length` together with `Transfer-Encoding` is refused.
/// After an error it keeps returning that error; the connection must be closed.
public struct HTTPRequestParser: Sendable {
    /// What `next()` found.
    public enum ParseResult: Sendable {
        case needMoreData
        /// A complete request, body included. `remoteAddress` is empty; the server fills it in.
        case request(HTTPRequest)
        case error(HTTPParseError)
    }

    /// Where the parser stands, which tells the server which timeout applies.
    public enum Phase: Sendable, Equatable {
        /// No byte of a next request has arrived.
        case idle
        /// Part of a request head has arrived.
        case head
        /// The head is complete and the body is still arriving.
        case body
    }

    private enum State: Sendable {
        case head
        case fixedBody(length: Int)
        case chunkedBody(ChunkedBodyDecoder)
        case failed(HTTPParseError)
    }

    public let maxHeadBytes: Int
    public let maxHeaderCount: Int
    public let maxBodyBytes: Int

    private var buffer: [UInt8] = []
    /// Start of the bytes not yet consumed.
    private var index = 0
    /// Where the search for the end of the head resumes.
    private var scanIndex = 0
    /// Position of the LF ending the request line, once seen.
    private var requestLineEnd: Int?
    private var state = State.head
    private var pending: HTTPRequest?
    private var chunkedBody: [UInt8] = []
    private var continueExpected = false

    public init(maxHeadBytes: Int = 16 * 1024, maxHeaderCount: Int = 100, maxBodyBytes: Int = 4 * 1024 * 1024) {
        self.maxHeadBytes = maxHeadBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
    }

    public init(configuration: HTTPServerConfiguration) {
        self.init(maxHeadBytes: configuration.maxHeadBytes, maxHeaderCount: configuration.maxHeaderCount,
                  maxBodyBytes: configuration.maxBodyBytes)
    }

    /// Appends received bytes.
    public mutating func feed(_ bytes: [UInt8]) {
        compactIfWorthwhile()
        buffer.append(contentsOf: bytes)
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        compactIfWorthwhile()
        buffer.append(contentsOf: bytes)
    }

    public var phase: Phase {
        switch state {
        case .head, .failed: index == buffer.count ? .idle : .head
        case .fixedBody, .chunkedBody: .body
        }
    }

    /// Bytes received but not yet consumed by a returned request.
    public var bufferedByteCount: Int { buffer.count - index }

    /// Method and request-target of the request being parsed (or that failed), once its request line
    /// has arrived whole; nil before that. Lets the server say which resource a rejected request was for.
    public var currentRequestLine: (method: String, target: String)? {
        if let pending { return (pending.method, pending.target) }
        guard let end = requestLineEnd, end > index, end <= buffer.count else { return nil }
        let parts = buffer[index..<(end - 1)].split(separator: HTTPSyntax.space, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2 else { return nil }
        return (HTTPSyntax.string(parts[0]), HTTPSyntax.string(parts[1]))
    }

    /// True once per request when the client sent `Expect: 100-continue` and waits for
    /// `100 Continue` before sending the body (RFC 9110 §10.1.1); the caller sends it.
    public mutating func takeContinueExpectation() -> Bool {
        guard continueExpected else { return false }
        continueExpected = false
        return true
    }

    /// Parses the next complete request out of the buffered bytes.
    public mutating func next() -> ParseResult {
        do {
            while true {
                switch state {
                case .failed(let error):
                    return .error(error)
                case .head:
                    guard let request = try parseHead() else { return .needMoreData }
                    guard case .head = state else {
                        pending = request
                        continue
                    }
                    return complete(request)
                case .fixedBody(let length):
                    guard buffer.count - index >= length else { return .needMoreData }
                    var request = pending!
                    request.body = Array(buffer[index..<(index + length)])
                    index += length
                    return complete(request)
                case .chunkedBody(var decoder):
                    try decoder.decode(buffer, index: &index, into: &chunkedBody)
                    state = .chunkedBody(decoder)
                    guard decoder.isDone else { return .needMoreData }
                    var request = pending!
                    request.body = chunkedBody
                    chunkedBody = []
                    return complete(request)
                }
            }
        } catch {
            state = .failed(error)
            return .error(error)
        }
    }

    private mutating func complete(_ request: HTTPRequest) -> ParseResult {
        state = .head
        pending = nil
        continueExpected = false
        requestLineEnd = nil
        if index == buffer.count {
            // Keep a small buffer for the next request; give a large one back.
            if buffer.capacity > 64 * 1024 { buffer = [] } else { buffer.removeAll(keepingCapacity: true) }
            index = 0
        }
        scanIndex = index
        return .request(request)
    }

    /// Drops consumed bytes when that is cheap relative to what stays, so copying stays linear.
    private mutating func compactIfWorthwhile() {
        guard index > 0, index == buffer.count || (index >= 4096 && index * 2 >= buffer.count) else { return }
        buffer.removeSubrange(0..<index)
        scanIndex -= index
        requestLineEnd = requestLineEnd.map { $0 - index }
        index = 0
    }

    // MARK: - Head

    /// Returns the request once its whole head is buffered, setting `state` for its body.
    private mutating func parseHead() throws(HTTPParseError) -> HTTPRequest? {
        let count = buffer.count
        if requestLineEnd == nil {
            // RFC 9112 §2.2: ignore at least one empty line received before the request line.
            while count - index >= 2, buffer[index] == HTTPSyntax.cr, buffer[index + 1] == HTTPSyntax.lf {
                index += 2
            }
            scanIndex = max(scanIndex, index)
        }
        var position = scanIndex
        var headEnd: Int?
        while position < count {
            let byte = buffer[position]
            if byte == HTTPSyntax.lf {
                // RFC 9112 §2.2: a bare LF is not accepted as a line terminator here.
                guard position > index, buffer[position - 1] == HTTPSyntax.cr else { throw .badRequest("bare LF") }
                if requestLineEnd == nil {
                    requestLineEnd = position
                } else if buffer[position - 2] == HTTPSyntax.lf {
                    headEnd = position + 1
                    break
                }
            } else {
                if position > index, buffer[position - 1] == HTTPSyntax.cr { throw .badRequest("bare CR") }
                if requestLineEnd == nil, byte != HTTPSyntax.cr, byte < 0x20 || byte > 0x7E {
                    throw .badRequest("invalid character in request line")
                }
            }
            position += 1
        }
        scanIndex = position
        let headBytes = (headEnd ?? count) - index
        if headBytes > maxHeadBytes {
            if let requestLineEnd, requestLineEnd - index < maxHeadBytes { throw .headerFieldsTooLarge }
            throw .uriTooLong
        }
        guard let headEnd, let requestLineEnd else { return nil }
        let limits = (maxHeaderCount: maxHeaderCount, maxBodyBytes: maxBodyBytes)
        let start = index
        let head = try buffer.withUnsafeBufferPointer { bytes throws(HTTPParseError) in
            try Self.parseHead(bytes, start: start, requestLineEnd: requestLineEnd, headEnd: headEnd, limits: limits)
        }
        index = headEnd
        scanIndex = headEnd
        switch head.framing {
        case .none:
            break
        case .fixed(let length):
            state = .fixedBody(length: length)
        case .chunked:
            state = .chunkedBody(ChunkedBodyDecoder(maxBodyBytes: maxBodyBytes, maxTrailerBytes: maxHeadBytes,
                                                    maxTrailerCount: maxHeaderCount))
            chunkedBody = []
        }
        continueExpected = head.expectsContinue && head.framing != .none
        return head.request
    }

    private enum Framing: Equatable {
        case none
        case fixed(Int)
        case chunked
    }

    private static func parseHead(_ bytes: UnsafeBufferPointer<UInt8>, start: Int, requestLineEnd: Int, headEnd: Int,
                                  limits: (maxHeaderCount: Int, maxBodyBytes: Int)) throws(HTTPParseError)
        -> (request: HTTPRequest, framing: Framing, expectsContinue: Bool) {
        let (method, target, version) = try parseRequestLine(bytes[start..<(requestLineEnd - 1)])

        var fields: [HTTPHeaders.Element] = []
        fields.reserveCapacity(16)
        var hosts: [String] = []
        var contentLengths: [String] = []
        var transferEncodings: [String] = []
        var expectsContinue = false

        var framing = Framing.none
        var lineStart = requestLineEnd + 1
        let fieldsEnd = headEnd - 2
        while lineStart < fieldsEnd {
            var lineEnd = lineStart
            while bytes[lineEnd] != HTTPSyntax.cr { lineEnd += 1 }
            let (name, value) = try parseFieldLine(bytes[lineStart..<lineEnd])
            fields.append((name, value))
            guard fields.count <= limits.maxHeaderCount else { throw .headerFieldsTooLarge }
            if HTTPSyntax.equalsIgnoringCase(name, "Host") {
                hosts.append(value)
            } else if HTTPSyntax.equalsIgnoringCase(name, "Content-Length") {
                contentLengths.append(value)
            } else if HTTPSyntax.equalsIgnoringCase(name, "Transfer-Encoding") {
                transferEncodings.append(value)
            } else if HTTPSyntax.equalsIgnoringCase(name, "Expect") {
                expectsContinue = HTTPSyntax.listContains(value, "100-continue")
            }
            lineStart = lineEnd + 2
        }

        // RFC 9112 §3.2: an HTTP/1.1 request needs exactly one Host; no request may carry two.
        if version == "HTTP/1.1" && hosts.isEmpty { throw .badRequest("missing Host header") }
        if hosts.count > 1 { throw .badRequest("multiple Host headers") }
        // RFC 9112 §3.2: a Host that is not a valid uri-host[:port] is answered 400.
        if let host = hosts.first, !HostField.isValid(host) { throw .badRequest("invalid Host header") }

        if !transferEncodings.isEmpty {
            // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
            guard version == "HTTP/1.1" else { throw .badRequest("Transfer-Encoding in an HTTP/1.0 request") }
            // RFC 9112 §6.1: both framings at once is how requests are smuggled.
            guard contentLengths.isEmpty else { throw .badRequest("both Content-Length and Transfer-Encoding") }
            let codings = transferEncodings.flatMap(HTTPSyntax.listElements)
            // The answer never names the coding: rejection texts carry no request bytes beyond the request line.
            if codings.contains(where: { !HTTPSyntax.equalsIgnoringCase(String($0), "chunked") }) {
                throw .notImplemented("unsupported transfer coding")
            }
            // RFC 9112 §6.3: chunked must be applied exactly once, as the final coding.
            guard codings.count == 1 else { throw .badRequest("invalid Transfer-Encoding") }
            framing = .chunked
        } else if let field = contentLengths.first {
            // RFC 9112 §6.3: the body length must be unambiguous. RFC 9110 §8.6 lets a recipient accept a list
            // of identical values; this server does not: two Content-Length fields, or a list, is a 400.
            guard contentLengths.count == 1 else { throw .badRequest("multiple Content-Length headers") }
            guard let length = HTTPSyntax.decimal(field.utf8) else { throw .badRequest("invalid Content-Length") }
            guard length <= limits.maxBodyBytes else { throw .contentTooLarge }
            if length > 0 { framing = .fixed(length) }
        }

        let request = HTTPRequest(method: method, target: target, version: version,
                                  headers: HTTPHeaders(validated: fields))
        return (request, framing, expectsContinue && version == "HTTP/1.1")
    }

    /// `method SP request-target SP HTTP-version` (RFC 9112 §3).
    private static func parseRequestLine(_ line: Slice<UnsafeBufferPointer<UInt8>>) throws(HTTPParseError)
        -> (method: String, target: String, version: String) {
        guard let firstSpace = line.firstIndex(of: HTTPSyntax.space) else { throw .badRequest("malformed request line") }
        let afterMethod = line.index(after: firstSpace)
        guard let secondSpace = line[afterMethod...].firstIndex(of: HTTPSyntax.space) else {
            throw .badRequest("malformed request line")
        }
        let methodBytes = line[..<firstSpace]
        let targetBytes = line[afterMethod..<secondSpace]
        let versionBytes = line[line.index(after: secondSpace)...]
        guard HTTPSyntax.isToken(methodBytes) else { throw .badRequest("invalid method") }
        guard !targetBytes.isEmpty else { throw .badRequest("empty request target") }

        // RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive.
        let digits = UInt8(ascii: "0")...UInt8(ascii: "9")
        guard versionBytes.count == 8, versionBytes.starts(with: "HTTP/".utf8),
              digits.contains(versionBytes[versionBytes.startIndex + 5]),
              versionBytes[versionBytes.startIndex + 6] == UInt8(ascii: "."),
              digits.contains(versionBytes[versionBytes.startIndex + 7]) else {
            throw .badRequest("malformed HTTP version")
        }
        guard versionBytes[versionBytes.startIndex + 5] == UInt8(ascii: "1") else { throw .versionNotSupported }
        // RFC 9110 §2.5: a higher minor version of a major version we implement is served as our highest minor.
        let version = versionBytes[versionBytes.startIndex + 7] == UInt8(ascii: "0") ? "HTTP/1.0" : "HTTP/1.1"

        let method = HTTPSyntax.string(methodBytes)
        let target = HTTPSyntax.string(targetBytes)
        // RFC 9112 §3.2: origin-form, absolute-form, authority-form (CONNECT) or asterisk-form (OPTIONS).
        let first = targetBytes.first!
        if target == "*" {
            guard method == "OPTIONS" else { throw .badRequest("asterisk-form target outside OPTIONS") }
        } else if method != "CONNECT" && first != UInt8(ascii: "/") && !target.contains("://") {
            throw .badRequest("invalid request target")
        }
        return (method, target, version)
    }

    /// `field-name ":" OWS field-value OWS` (RFC 9112 §5).
    private static func parseFieldLine(_ line: Slice<UnsafeBufferPointer<UInt8>>) throws(HTTPParseError)
        -> (name: String, value: String) {
        guard let first = line.first else { throw .badRequest("empty header line") }
        // RFC 9112 §5.2: obs-fold is rejected with 400.
        guard !HTTPSyntax.isWhitespace(first) else { throw .badRequest("obsolete line folding") }
        guard let colon = line.firstIndex(of: HTTPSyntax.colon) else { throw .badRequest("header line without colon") }
        let nameBytes = line[..<colon]
        // RFC 9112 §5.1: no whitespace is allowed between the field name and the colon.
        if let last = nameBytes.last, HTTPSyntax.isWhitespace(last) {
            throw .badRequest("whitespace before colon in header")
        }
        guard HTTPSyntax.isToken(nameBytes) else { throw .badRequest("invalid header name") }
        var valueStart = line.index(after: colon)
        var valueEnd = line.endIndex
        while valueStart < valueEnd, HTTPSyntax.isWhitespace(line[valueStart]) { valueStart += 1 }
        while valueEnd > valueStart, HTTPSyntax.isWhitespace(line[valueEnd - 1]) { valueEnd -= 1 }
        let valueBytes = line[valueStart..<valueEnd]
        guard HTTPSyntax.isFieldValue(valueBytes) else { throw .badRequest("invalid character in header value") }
        return (HTTPSyntax.string(nameBytes), HTTPSyntax.string(valueBytes))
    }
}
