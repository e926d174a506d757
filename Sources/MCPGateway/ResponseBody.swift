import HTTP
import MCPAuth

/// Reading an upstream's answer that the gateway consumes itself (its own `initialize`): the whole body,
/// bounded, and the JSON-RPC response to one request id in it, whether sent as JSON or as an event stream.
enum ResponseBody {
    /// Collects a streamed body, up to a limit.
    private final class Collector: HTTPBodyWriter, @unchecked Sendable {
        var bytes: [UInt8] = []
        let limit: Int
        init(limit: Int) { self.limit = limit }
        func write(_ chunk: [UInt8]) throws {
            guard bytes.count + chunk.count <= limit else { throw ToolListFilter.Unusable.tooLarge }
            bytes += chunk
        }
    }

    /// The bytes of `response`'s body (a stream is run to its end), or nil past `limit`.
    static func bytes(_ response: HTTPResponse, limit: Int = 4 * 1024 * 1024) -> [UInt8]? {
        switch response.body {
        case .bytes(let b): return b.count <= limit ? b : nil
        case .held(let held): return held.bytes.count <= limit ? held.bytes : nil
        case .stream(let produce):
            let collector = Collector(limit: limit)
            do { try produce(collector) } catch { return nil }
            return collector.bytes
        case .events(let source):
            let collector = Collector(limit: limit)
            do { try source.run(collector) } catch { return nil }
            return collector.bytes
        case .deferred(let deferred):
            return bytes(deferred.wait(), limit: limit)
        }
    }

    /// The response to request `id` in `response` (a JSON body or an event stream), or nil.
    static func answer(_ response: HTTPResponse, id: JSON) -> JSON? {
        guard let body = bytes(response) else { return nil }
        let isAnswer = { (json: JSON) in json["id"] == id && json["method"] == nil }
        if (response.headers["Content-Type"] ?? "").lowercased().hasPrefix("text/event-stream") {
            var parser = SSEParser()
            return parser.feed(body).lazy.compactMap { try? JSON.parse(Array($0.data.utf8)) }.first(where: isAnswer)
        }
        return (try? JSON.parse(body)).flatMap { isAnswer($0) ? $0 : nil }
    }
}
