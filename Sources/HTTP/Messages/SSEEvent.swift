/// One Server-Sent Event (WHATWG HTML §9.2): what `SSEParser` yields and what `encoded()` writes.
public struct SSEEvent: Sendable, Equatable {
    /// The event type; nil means the default, `message`.
    public var event: String?
    /// The data; lines are joined with `\n`.
    public var data: String
    /// The `id` field of this event, if it had one (an empty string resets the last event ID).
    public var id: String?
    /// The `retry` field of this event, in milliseconds, if it had a valid one.
    public var retry: Int?

    public init(event: String? = nil, data: String, id: String? = nil, retry: Int? = nil) {
        self.event = event
        self.data = data
        self.id = id
        self.retry = retry
    }

    /// The wire form: `id`, `event`, `retry`, one `data:` line per line of `data`, then a blank line.
    /// Line breaks in `event` and `id` (and NUL in `id`) are removed, since they would end the field.
    public func encoded() -> [UInt8] {
        var text = ""
        if let id { text += "id: " + id.filter { $0 != "\r" && $0 != "\n" && $0 != "\r\n" && $0 != "\0" } + "\n" }
        if let event { text += "event: " + event.filter { $0 != "\r" && $0 != "\n" && $0 != "\r\n" } + "\n" }
        if let retry { text += "retry: \(retry)\n" }
        for line in data.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            text += "data: " + line + "\n"
        }
        text += "\n"
        return Array(text.utf8)
    }

    /// A comment line (`: text`), which clients ignore; useful as a keep-alive that also
    /// reveals a client that went away.
    public static func comment(_ text: String = "") -> [UInt8] {
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
        return Array((lines.map { ": " + $0 + "\n" }.joined() + "\n").utf8)
    }
}
