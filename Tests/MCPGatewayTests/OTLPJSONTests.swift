import Foundation
import HTTP
import MCPAuth
import MCPGateway
import Testing

/// The OTLP JSON writer checks every store against its room before making it: a write that does not fit
/// stores nothing past the room, and the exporter writes that part again with more room.
@Suite struct OTLPJSONTests {
    @Test func aWriteThatDoesNotFitStoresNothingPastTheRoomAndStopsTheWriting() {
        var memory = [UInt8](repeating: 0xEE, count: 128)
        let (count, overflowed) = memory.withUnsafeMutableBufferPointer { all in
            var w = OTLPJSON(writingInto: UnsafeMutableBufferPointer(rebasing: all[..<32]))
            w.quote("fits")
            // 2 quotes + 20 escaped quotes of 2 bytes: 42 bytes, past the 26 left.
            w.quote(String(repeating: "\"", count: 20))
            // Would fit in what is left, but the writing is already incomplete.
            w.quote("x")
            return (w.count, w.overflowed)
        }
        #expect(overflowed)
        #expect(count <= 32)
        #expect(Array(memory[..<6]) == Array(#""fits""#.utf8))
        #expect(memory[32...].allSatisfy { $0 == 0xEE }, "a byte was stored past the room")
    }

    @Test func writesThatFitAreExactAndNotReportedAsOverflowing() {
        var memory = [UInt8](repeating: 0xEE, count: 16)
        let (count, overflowed) = memory.withUnsafeMutableBufferPointer { all in
            var w = OTLPJSON(writingInto: all)
            w.quote("a\"b\n")
            return (w.count, w.overflowed)
        }
        #expect(!overflowed)
        #expect(Array(memory[..<count]) == Array(#""a\"b\n""#.utf8))
    }

    @Test func spansWrittenWithTooLittleRoomAreWrittenAgainAndComeOutTheSameAsWithEnough() throws {
        let traceID = String(repeating: "ab", count: 16)
        var headers = HTTPHeaders()
        headers["traceparent"] = "00-\(traceID)-0123456789abcdef-01"
        headers["tracestate"] = (0..<40).map { "k\($0)=v\($0)" }.joined(separator: ",")
        let request = HTTPRequest(method: "POST", target: "/mcp/app/prod", headers: headers)
        let tool = "say \"hi\"\n\u{01}\\ and more"
        let event = AuditEvent(source: .mcp, action: "mcp.post", app: "app", env: "prod", method: "tools/call", tool: tool, decision: .allow)
        // nil: each part's computed bound; 1 and 100: far too little, so parts are written again and again.
        let bodies = OTLPJSON.exportBodies(of: request, event, status: 200, startingRooms: [nil, 1, 100])
        #expect(bodies[1] == bodies[0])
        #expect(bodies[2] == bodies[0])

        let json = try #require(try JSONSerialization.jsonObject(with: Data(bodies[1])) as? [String: Any])
        let scope = try #require(((json["resourceSpans"] as? [[String: Any]])?.first?["scopeSpans"] as? [[String: Any]])?.first)
        let spans = try #require(scope["spans"] as? [[String: Any]])
        #expect(spans.count == 5)
        #expect(spans.allSatisfy { $0["traceId"] as? String == traceID })
        #expect(spans.first?["name"] as? String == "tools/call \(tool)")
        #expect(spans.first?["traceState"] as? String == headers["tracestate"])
    }

    @Test func traceparentAndProtocolVersionHeadersAreFoundWhateverTheCaseOfTheirNames() throws {
        let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        var headers = HTTPHeaders()
        headers["Traceparent-X"] = "00-\(String(repeating: "1", count: 32))-0123456789abcdef-01"  // a longer name: not it
        headers["TRACEPARENT"] = "00-\(traceID)-00f067aa0ba902b7-01"
        headers["mcp-PROTOCOL-version"] = "2025-11-25"
        headers.add("traceparent", "00-\(String(repeating: "2", count: 32))-0123456789abcdef-01")  // a second field: the first wins
        let request = HTTPRequest(method: "POST", target: "/mcp/app/prod", headers: headers)
        let event = AuditEvent(source: .mcp, action: "mcp.post", app: "app", env: "prod", method: "tools/list", decision: .allow)
        let body = try #require(OTLPJSON.exportBodies(of: request, event, status: 200, startingRooms: [nil]).first)

        let json = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let scope = try #require(((json["resourceSpans"] as? [[String: Any]])?.first?["scopeSpans"] as? [[String: Any]])?.first)
        let spans = try #require(scope["spans"] as? [[String: Any]])
        #expect(spans.allSatisfy { $0["traceId"] as? String == traceID })
        #expect(spans.first?["parentSpanId"] as? String == "00f067aa0ba902b7")
        let attributes = try #require(spans.first?["attributes"] as? [[String: Any]])
        let version = attributes.first { $0["key"] as? String == "mcp.protocol.version" }?["value"] as? [String: Any]
        #expect(version?["stringValue"] as? String == "2025-11-25")
    }
}
