/// Splits a byte stream into newline-terminated lines in time linear in its size, holding at most one
/// line of `maxLine` bytes (plus the last piece read): each byte is searched once for the newline, and
/// consumed bytes are dropped from the front only once they are at least half of the buffer.
public struct LineBuffer: Sendable {
    /// What happens to a line longer than `maxLine`.
    public enum Overlong: Sendable {
        /// `next()` throws: the stream is not what it should be (MCP stdio: one message per line).
        case fail
        /// Its first `maxLine` bytes come out as a line and the rest of it is skipped.
        case truncate
    }

    public struct LineTooLong: Error {
        public let limit: Int
    }

    public let maxLine: Int
    public let overlong: Overlong
    private var buffer: [UInt8] = []
    /// Where the current line starts.
    private var start = 0
    /// Bytes before this index (from `start`) hold no newline.
    private var scanned = 0
    /// Skipping the rest of a truncated line.
    private var skipping = false
    /// A buffer grown past this is given back once it is empty rather than kept for the next line.
    static let keptCapacity = 256 * 1024

    public init(maxLine: Int, overlong: Overlong) {
        self.maxLine = maxLine
        self.overlong = overlong
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete line without its newline (nil until one is complete).
    public mutating func next() throws(LineTooLong) -> [UInt8]? {
        while true {
            if let nl = buffer[scanned...].firstIndex(of: 0x0A) {
                let wasSkipping = skipping
                let line = wasSkipping ? [] : Array(buffer[start..<nl])
                start = nl + 1
                scanned = start
                skipping = false
                compact()
                if wasSkipping { continue }
                if line.count > maxLine {
                    if overlong == .fail { throw LineTooLong(limit: maxLine) }
                    return Array(line.prefix(maxLine))
                }
                return line
            }
            scanned = buffer.count
            let pending = buffer.count - start
            if skipping {
                start = buffer.count
            } else if pending > maxLine {
                if overlong == .fail { throw LineTooLong(limit: maxLine) }
                let line = Array(buffer[start..<start + maxLine])
                start = buffer.count
                skipping = true
                compact()
                return line
            }
            compact()
            return nil
        }
    }

    /// Drops consumed bytes: at once when all are consumed, else only once they are half the buffer, so
    /// every byte is moved at most a bounded number of times.
    private mutating func compact() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= LineBuffer.keptCapacity)
        } else if start >= 64 * 1024, start * 2 >= buffer.count {
            buffer.removeSubrange(0..<start)
        } else {
            return
        }
        scanned -= start
        start = 0
    }
}
