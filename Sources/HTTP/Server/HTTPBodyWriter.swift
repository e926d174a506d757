/// The sink a streaming response body writes to; each `write` is sent to the client at once.
///
/// `write` throws once the client has gone away (or the server is shutting down and
/// its grace period is over), which is the signal for a stream to stop. Writes from
/// several threads are serialized; writes after the stream closure returned throw.
public protocol HTTPBodyWriter: AnyObject, Sendable {
    func write(_ bytes: [UInt8]) throws
}

extension HTTPBodyWriter {
    public func write(_ string: String) throws {
        try write(Array(string.utf8))
    }
}
