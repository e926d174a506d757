/// An incremental decoder of the chunked transfer coding (RFC 9112 §7.1), used for
/// request bodies by the server and for response bodies by the client.
///
/// It reads from a buffer starting at an index, appends chunk data to an output
/// array and advances the index; bytes it cannot use yet stay in the buffer.
/// Lines must end in CRLF; a bare CR or LF is a framing error.
struct ChunkedBodyDecoder: Sendable {
    private enum State: Sendable {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailer
        case done
    }

    /// Longest chunk-size line accepted, extensions included.
    static let maxSizeLineBytes = 4096

    private var state = State.size
    private var trailerBytes = 0
    private var trailerCount = 0
    private(set) var decodedBytes = 0
    let maxBodyBytes: Int
    let maxTrailerBytes: Int
    let maxTrailerCount: Int

    init(maxBodyBytes: Int, maxTrailerBytes: Int, maxTrailerCount: Int) {
        self.maxBodyBytes = maxBodyBytes
        self.maxTrailerBytes = maxTrailerBytes
        self.maxTrailerCount = maxTrailerCount
    }

    var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// Decodes as much of `buffer[index...]` as possible.
    mutating func decode(_ buffer: [UInt8], index: inout Int, into output: inout [UInt8]) throws(HTTPParseError) {
        while true {
            switch state {
            case .size:
                guard let lineEnd = try Self.lineEnd(buffer, from: index, limit: Self.maxSizeLineBytes) else { return }
                let size = try Self.chunkSize(buffer[index..<lineEnd])
                index = lineEnd + 2
                if size == 0 {
                    state = .trailer
                } else {
                    guard size <= maxBodyBytes - decodedBytes else { throw .contentTooLarge }
                    state = .data(remaining: size)
                }
            case .data(let remaining):
                let available = min(remaining, buffer.count - index)
                guard available > 0 else { return }
                output.append(contentsOf: buffer[index..<(index + available)])
                index += available
                decodedBytes += available
                state = remaining == available ? .dataEnd : .data(remaining: remaining - available)
            case .dataEnd:
                guard buffer.count - index >= 2 else { return }
                guard buffer[index] == HTTPSyntax.cr, buffer[index + 1] == HTTPSyntax.lf else {
                    throw .badRequest("chunk data not followed by CRLF")
                }
                index += 2
                state = .size
            case .trailer:
                let limit = maxTrailerBytes - trailerBytes
                guard let lineEnd = try Self.lineEnd(buffer, from: index, limit: limit, tooLong: .headerFieldsTooLarge) else {
                    return
                }
                if lineEnd == index {
                    index += 2
                    state = .done
                    return
                }
                // RFC 9112 §7.1.2: trailer fields have the syntax of header fields; they are checked, then dropped.
                try Self.validateFieldLine(buffer[index..<lineEnd])
                trailerCount += 1
                trailerBytes += lineEnd + 2 - index
                guard trailerCount <= maxTrailerCount else { throw .headerFieldsTooLarge }
                index = lineEnd + 2
            case .done:
                return
            }
        }
    }

    /// The index of the CR that ends the line starting at `start`, or nil if the line is incomplete.
    static func lineEnd(_ buffer: [UInt8], from start: Int, limit: Int,
                        tooLong: HTTPParseError = .badRequest("chunk line too long")) throws(HTTPParseError) -> Int? {
        var position = start
        let end = buffer.count
        while position < end {
            let byte = buffer[position]
            if byte == HTTPSyntax.cr {
                guard position + 1 < end else { return nil }
                guard buffer[position + 1] == HTTPSyntax.lf else { throw .badRequest("bare CR in chunked body") }
                return position
            }
            if byte == HTTPSyntax.lf { throw .badRequest("bare LF in chunked body") }
            position += 1
            if position - start > limit { throw tooLong }
        }
        return nil
    }

    /// `chunk-size [ chunk-ext ]` (RFC 9112 §7.1.1): hex digits, then optional `;name[=value]` extensions, which are ignored.
    private static func chunkSize(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        var size = 0
        var digits = 0
        var position = line.startIndex
        while position < line.endIndex, let digit = HTTPSyntax.hexValue(line[position]) {
            if size != 0 || digit != 0 { digits += 1 }
            guard digits <= 15 else { throw .badRequest("chunk size overflows") }
            size = size << 4 | digit
            position += 1
        }
        guard position > line.startIndex else { throw .badRequest("invalid chunk size") }
        let rest = line[position...]
        guard let first = rest.first(where: { !HTTPSyntax.isWhitespace($0) }) else {
            guard rest.isEmpty else { throw .badRequest("invalid chunk size") }
            return size
        }
        guard first == UInt8(ascii: ";"), HTTPSyntax.isFieldValue(rest) else {
            throw .badRequest("invalid chunk size")
        }
        return size
    }

    private static func validateFieldLine(_ line: ArraySlice<UInt8>) throws(HTTPParseError) {
        guard let colon = line.firstIndex(of: HTTPSyntax.colon),
              HTTPSyntax.isToken(line[..<colon]),
              HTTPSyntax.isFieldValue(line[(colon + 1)...]) else {
            throw .badRequest("invalid trailer field")
        }
    }
}
