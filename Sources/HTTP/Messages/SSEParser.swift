/// An incremental parser of `text/event-stream` (WHATWG HTML §9.2.6), fed bytes as they arrive.
///
/// Lines may end in CRLF, LF or CR, also when split across feeds; a leading BOM is skipped;
/// comments and unknown fields are ignored; an event is dispatched at a blank line, and only
/// if it had data. An unfinished event at the end of the stream is discarded, as the standard says.
public struct SSEParser: Sendable {
    private var line: [UInt8] = []
    private var lastWasCR = false
    private var bomBytesSeen = 0
    private var streamStarted = false

    private var data: [UInt8] = []
    private var sawData = false
    private var eventType: String?
    private var eventID: String?
    private var eventRetry: Int?

    /// The last event ID buffer: the most recent `id` field, kept across events.
    public private(set) var lastEventID = ""
    /// The most recent valid `retry` value in milliseconds.
    public private(set) var reconnectionTime: Int?

    public init() {}

    /// Consumes bytes and returns the events they completed.
    public mutating func feed(_ bytes: [UInt8]) -> [SSEEvent] {
        var events: [SSEEvent] = []
        for byte in bytes {
            if !streamStarted {
                // A UTF-8 BOM at the very start of the stream is not part of the first line.
                let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
                if byte == bom[bomBytesSeen] {
                    bomBytesSeen += 1
                    if bomBytesSeen == 3 { streamStarted = true }
                    continue
                }
                streamStarted = true
                line.append(contentsOf: bom[0..<bomBytesSeen])
            }
            if lastWasCR {
                lastWasCR = false
                if byte == HTTPSyntax.lf { continue }
            }
            switch byte {
            case HTTPSyntax.cr:
                lastWasCR = true
                if let event = processLine() { events.append(event) }
            case HTTPSyntax.lf:
                if let event = processLine() { events.append(event) }
            default:
                line.append(byte)
            }
        }
        return events
    }

    public mutating func feed(_ string: String) -> [SSEEvent] {
        feed(Array(string.utf8))
    }

    private mutating func processLine() -> SSEEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty { return dispatch() }
        if line[0] == HTTPSyntax.colon { return nil }
        let field: ArraySlice<UInt8>
        var value: ArraySlice<UInt8>
        if let colon = line.firstIndex(of: HTTPSyntax.colon) {
            field = line[..<colon]
            value = line[(colon + 1)...]
            if value.first == HTTPSyntax.space { value = value.dropFirst() }
        } else {
            field = line[...]
            value = []
        }
        switch HTTPSyntax.string(field) {
        case "event":
            eventType = HTTPSyntax.string(value)
        case "data":
            data.append(contentsOf: value)
            data.append(HTTPSyntax.lf)
            sawData = true
        case "id":
            if !value.contains(0) {
                let id = HTTPSyntax.string(value)
                lastEventID = id
                eventID = id
            }
        case "retry":
            if let milliseconds = HTTPSyntax.decimal(value) {
                reconnectionTime = milliseconds
                eventRetry = milliseconds
            }
        default:
            break
        }
        return nil
    }

    private mutating func dispatch() -> SSEEvent? {
        defer {
            data.removeAll(keepingCapacity: true)
            sawData = false
            eventType = nil
            eventID = nil
            eventRetry = nil
        }
        guard sawData else { return nil }
        data.removeLast()
        let type = eventType.flatMap { $0.isEmpty ? nil : $0 }
        return SSEEvent(event: type, data: HTTPSyntax.string(data), id: eventID, retry: eventRetry)
    }
}
