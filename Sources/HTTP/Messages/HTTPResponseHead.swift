/// The status line and header fields of a response the client received, and how its body is framed.
struct HTTPResponseHead: Sendable {
    enum Framing: Sendable, Equatable {
        case none
        case length(Int)
        case chunked
        case untilClose
    }

    static let maxBytes = 64 * 1024
    static let maxFields = 256

    var version: String
    var status: Int
    var headers: HTTPHeaders

    /// Parses a head from `buffer[start...]`; nil while incomplete, else the head and where it ends.
    /// Lenient where a client may be (RFC 9112 §2.2): bare LF line endings, obs-fold joined by a space.
    static func parse(_ buffer: [UInt8], from start: Int) throws(HTTPClientError) -> (head: HTTPResponseHead, end: Int)? {
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = start
        var position = start
        var end: Int?
        while position < buffer.count {
            if buffer[position] == HTTPSyntax.lf {
                var lineEnd = position
                if lineEnd > lineStart && buffer[lineEnd - 1] == HTTPSyntax.cr { lineEnd -= 1 }
                if lineEnd == lineStart {
                    if lines.isEmpty {
                        lineStart = position + 1
                        position += 1
                        continue
                    }
                    end = position + 1
                    break
                }
                lines.append(buffer[lineStart..<lineEnd])
                lineStart = position + 1
            }
            position += 1
        }
        guard let end else {
            if buffer.count - start > maxBytes { throw .malformedResponse("response head too large") }
            return nil
        }
        guard lines.count <= maxFields + 1 else { throw .malformedResponse("too many header fields") }

        let statusLine = lines[0]
        let parts = statusLine.split(separator: HTTPSyntax.space, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].starts(with: "HTTP/1.".utf8), parts[0].count == 8,
              parts[1].count == 3, let status = HTTPSyntax.decimal(parts[1]), status >= 100 else {
            throw .malformedResponse("invalid status line")
        }

        var fields: [HTTPHeaders.Element] = []
        for line in lines.dropFirst() {
            if let first = line.first, HTTPSyntax.isWhitespace(first) {
                // RFC 9112 §5.2: a user agent may replace obs-fold with a space.
                guard !fields.isEmpty, HTTPSyntax.isFieldValue(line) else { throw .malformedResponse("invalid folded field") }
                fields[fields.count - 1].value += " " + trimmed(line)
                continue
            }
            guard let colon = line.firstIndex(of: HTTPSyntax.colon), HTTPSyntax.isToken(line[..<colon]) else {
                throw .malformedResponse("invalid header field")
            }
            let value = line[(colon + 1)...]
            guard HTTPSyntax.isFieldValue(value) else { throw .malformedResponse("invalid header value") }
            fields.append((HTTPSyntax.string(line[..<colon]), trimmed(value)))
        }
        return (HTTPResponseHead(version: HTTPSyntax.string(parts[0]), status: status,
                                 headers: HTTPHeaders(validated: fields)), end)
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> String {
        let start = bytes.firstIndex { !HTTPSyntax.isWhitespace($0) } ?? bytes.endIndex
        let end = bytes.lastIndex { !HTTPSyntax.isWhitespace($0) }.map { $0 + 1 } ?? start
        return HTTPSyntax.string(bytes[start..<max(start, end)])
    }

    /// True when the server lets the connection carry another request (RFC 9112 §9.3).
    var allowsReuse: Bool {
        let connection = headers.values(for: "Connection")
        if connection.contains(where: { HTTPSyntax.listContains($0, "close") }) { return false }
        if version == "HTTP/1.1" { return true }
        return connection.contains { HTTPSyntax.listContains($0, "keep-alive") }
    }

    /// How long the server keeps this connection open while idle, from `Keep-Alive: timeout=N`, and
    /// whether it accepts another request on it (`max=0` says no). The field is the HTTP/1.0 keep-alive
    /// extension (RFC 2068 §19.7.1.1) that Apache, Node.js and others still send; unknown parameters are ignored.
    var keepAlive: (timeout: Double?, refusesMore: Bool) {
        var timeout: Double?
        var refusesMore = false
        for value in headers.values(for: "Keep-Alive") {
            for element in HTTPSyntax.listElements(value) {
                let parts = element.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, let number = HTTPSyntax.decimal(parts[1].utf8) else { continue }
                let name = String(parts[0])
                if HTTPSyntax.equalsIgnoringCase(name, "timeout") {
                    timeout = min(timeout ?? .infinity, Double(number))
                } else if HTTPSyntax.equalsIgnoringCase(name, "max"), number == 0 {
                    refusesMore = true
                }
            }
        }
        return (timeout, refusesMore)
    }

    /// RFC 9112 §6.3: how the length of this response's body is determined.
    func framing(requestMethod: String) throws(HTTPClientError) -> Framing {
        if requestMethod == "HEAD" || HTTPStatus.forbidsBody(status) { return .none }
        let transferEncodings = headers.values(for: "Transfer-Encoding")
        if !transferEncodings.isEmpty {
            let codings = transferEncodings.flatMap(HTTPSyntax.listElements)
            if let last = codings.last, HTTPSyntax.equalsIgnoringCase(String(last), "chunked") { return .chunked }
            return .untilClose
        }
        let lengths = headers.values(for: "Content-Length").flatMap(HTTPSyntax.listElements)
        guard !lengths.isEmpty else { return .untilClose }
        var length: Int?
        for element in lengths {
            guard let value = HTTPSyntax.decimal(element.utf8), length == nil || length == value else {
                throw .malformedResponse("invalid Content-Length")
            }
            length = value
        }
        return .length(length!)
    }
}
