import FuzzSupport
@testable import HTTP

/// Fuzzes `ChunkedBodyDecoder` (RFC 9112 §7.1) with small limits.
///
/// Input: one knob byte (how the body is cut into pieces), then the chunked body.
/// Properties: decoding piece by piece gives the same data, stopping point and error as decoding at once;
/// the data never exceeds the body limit; decoded data, chunked again as one chunk, decodes to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChunked(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let (knob, body) = knobAndRest(fuzzInput(data, size)) else { return 0 }
    let whole = decode([body], limit: 512)
    let piecewise = decode(pieces(of: body, seed: knob), limit: 512)
    invariant(whole == piecewise, "piecewise decoding differs: \(whole) vs \(piecewise)")
    invariant(whole.output.count <= 512, "decoded \(whole.output.count) bytes past the 512-byte limit")
    if whole.done {
        let again = decode([ArraySlice(chunked(whole.output))], limit: 512)
        invariant(again.done && again.output == whole.output && again.error == nil, "re-chunked data decodes differently")
    }
    return 0
}

struct Decoded: Equatable, CustomStringConvertible {
    var output: [UInt8] = []
    var consumed = 0
    var done = false
    var error: HTTPParseError?
    var description: String { "\(output.count) bytes, consumed \(consumed), done \(done), error \(String(describing: error))" }
}

/// Feeds the pieces one after another into one buffer, decoding after each, as the parsers do.
func decode(_ pieces: [ArraySlice<UInt8>], limit: Int) -> Decoded {
    var decoder = ChunkedBodyDecoder(maxBodyBytes: limit, maxTrailerBytes: 128, maxTrailerCount: 4)
    var buffer: [UInt8] = []
    var result = Decoded()
    for piece in pieces {
        buffer.append(contentsOf: piece)
        do {
            try decoder.decode(buffer, index: &result.consumed, into: &result.output)
        } catch {
            result.error = error
            break
        }
        invariant(result.consumed <= buffer.count, "index \(result.consumed) past the buffer's \(buffer.count) bytes")
        invariant(decoder.decodedBytes == result.output.count, "decodedBytes disagrees with the output")
        if decoder.isDone { break }
    }
    result.done = decoder.isDone
    return result
}

/// `data` as one chunk, then the last chunk and an empty trailer.
func chunked(_ data: [UInt8]) -> [UInt8] {
    guard !data.isEmpty else { return Array("0\r\n\r\n".utf8) }
    return Array((String(data.count, radix: 16) + "\r\n").utf8) + data + Array("\r\n0\r\n\r\n".utf8)
}
