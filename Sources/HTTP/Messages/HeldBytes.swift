import Synchronization

/// A whole response body that stays accounted for somewhere (a memory budget, say) until it has been
/// written or dropped unsent: `onRelease` runs exactly once, at the first of `release()` or deinit.
/// The server sends it like `.bytes` (one `Content-Length` write with the head) and releases it once sent.
public final class HeldBytes: Sendable {
    public let bytes: [UInt8]
    private let onRelease: @Sendable () -> Void
    private let released = Atomic(false)

    public init(_ bytes: [UInt8], onRelease: @escaping @Sendable () -> Void) {
        self.bytes = bytes
        self.onRelease = onRelease
    }

    /// Runs `onRelease` unless it already ran; later calls do nothing.
    public func release() {
        if !released.exchange(true, ordering: .acquiringAndReleasing) { onRelease() }
    }

    /// Other bytes (a rewritten answer) that take over the duty to release: this one will not release again.
    public func replacingBytes(_ bytes: [UInt8]) -> HeldBytes {
        if released.exchange(true, ordering: .acquiringAndReleasing) { return HeldBytes(bytes) {} }
        return HeldBytes(bytes, onRelease: onRelease)
    }

    deinit { release() }
}
