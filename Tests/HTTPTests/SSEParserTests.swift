import HTTP
import Testing

@Suite struct SSEParserTests {
    @Test func parsesEventWithTypeIDAndMultilineData() {
        var parser = SSEParser()
        let events = parser.feed("event: message\nid: 7\ndata: {\"a\":1,\ndata: \"b\":2}\n\n")
        #expect(events == [SSEEvent(event: "message", data: "{\"a\":1,\n\"b\":2}", id: "7")])
        #expect(parser.lastEventID == "7")
    }

    @Test func handlesCRLFAndCRLineEndingsSplitAcrossFeeds() {
        var parser = SSEParser()
        var events = parser.feed("data: one\r")
        events += parser.feed("\n\r")
        events += parser.feed("\ndata: two\r\rdata: three\n\n")
        #expect(events.map(\.data) == ["one", "two", "three"])
    }

    @Test func parsesAStreamFedOneByteAtATime() {
        var parser = SSEParser()
        var events: [SSEEvent] = []
        for byte in "retry: 1500\r\nevent: update\r\ndata: x\r\n\r\ndata: y\n\n".utf8 {
            events += parser.feed([byte])
        }
        #expect(events == [SSEEvent(event: "update", data: "x", retry: 1500), SSEEvent(data: "y")])
        #expect(parser.reconnectionTime == 1500)
    }

    @Test func ignoresCommentsAndUnknownFields() {
        var parser = SSEParser()
        let events = parser.feed(": keep-alive\nfoo: bar\ndata: kept\n\n")
        #expect(events == [SSEEvent(data: "kept")])
    }

    @Test func skipsALeadingByteOrderMarkEvenWhenSplit() {
        var parser = SSEParser()
        var events = parser.feed([0xEF, 0xBB])
        events += parser.feed([0xBF] + Array("data: bom\n\n".utf8))
        #expect(events == [SSEEvent(data: "bom")])
    }

    @Test func dispatchesNothingForABlockWithoutData() {
        var parser = SSEParser()
        let events = parser.feed("event: ping\nid: 3\n\n")
        #expect(events.isEmpty)
        #expect(parser.lastEventID == "3")
    }

    @Test func dispatchesEmptyDataField() {
        var parser = SSEParser()
        #expect(parser.feed("data\n\ndata:\n\n") == [SSEEvent(data: ""), SSEEvent(data: "")])
    }

    @Test func removesOnlyOneLeadingSpaceFromValues() {
        var parser = SSEParser()
        #expect(parser.feed("data:  two spaces\ndata:none\n\n") == [SSEEvent(data: " two spaces\nnone")])
    }

    @Test func ignoresInvalidRetryAndIDWithNUL() {
        var parser = SSEParser()
        let events = parser.feed("retry: 10s\nid: a\u{0}b\ndata: x\n\n")
        #expect(events == [SSEEvent(data: "x")])
        #expect(parser.reconnectionTime == nil)
        #expect(parser.lastEventID == "")
    }

    @Test func discardsAnUnfinishedEventAtTheEnd() {
        var parser = SSEParser()
        #expect(parser.feed("data: complete\n\ndata: partial\n").map(\.data) == ["complete"])
    }

    @Test func encodesEveryFieldAndSplitsDataLines() {
        let event = SSEEvent(event: "message", data: "line one\nline two\r\nline three", id: "42", retry: 3000)
        let text = String(decoding: event.encoded(), as: UTF8.self)
        #expect(text == "id: 42\nevent: message\nretry: 3000\ndata: line one\ndata: line two\ndata: line three\n\n")
    }

    @Test func encodedEventsRoundTripThroughTheParser() {
        let events = [
            SSEEvent(data: "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}", id: "1"),
            SSEEvent(event: "custom", data: ""),
            SSEEvent(data: "multi\nline\n"),
        ]
        var parser = SSEParser()
        let parsed = parser.feed(events.flatMap { $0.encoded() } + SSEEvent.comment("ping"))
        #expect(parsed == events)
    }

    @Test func stripsLineBreaksFromEventAndID() {
        let event = SSEEvent(event: "a\nb", data: "d", id: "x\r\ny")
        var parser = SSEParser()
        #expect(parser.feed(event.encoded()) == [SSEEvent(event: "ab", data: "d", id: "xy")])
    }
}
