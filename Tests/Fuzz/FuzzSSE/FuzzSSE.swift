import FuzzSupport
import HTTP

/// Fuzzes `SSEParser` (WHATWG HTML §9.2.6).
///
/// Input: one knob byte (how the stream is cut into pieces), then the event stream.
/// Properties: feeding piece by piece yields the same events, last event ID and reconnection time as
/// feeding at once (also for a CRLF split across feeds); every event, encoded again, parses to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSSE(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let (knob, stream) = knobAndRest(fuzzInput(data, size)) else { return 0 }
    var whole = SSEParser()
    let events = whole.feed(Array(stream))
    var piecewise = SSEParser()
    var piecewiseEvents: [SSEEvent] = []
    for piece in pieces(of: stream, seed: knob) {
        piecewiseEvents += piecewise.feed(Array(piece))
    }
    invariant(events == piecewiseEvents, "piecewise parsing found other events: \(events) vs \(piecewiseEvents)")
    invariant(whole.lastEventID == piecewise.lastEventID, "piecewise parsing kept another last event ID")
    invariant(whole.reconnectionTime == piecewise.reconnectionTime, "piecewise parsing kept another retry")
    for event in events {
        invariant(event.event?.isEmpty != true, "an empty event type was not turned into the default")
        var fresh = SSEParser()
        let again = fresh.feed(event.encoded())
        invariant(again == [event], "event does not survive encoding: \(event) vs \(again)")
    }
    return 0
}
