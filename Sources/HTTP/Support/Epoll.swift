#if canImport(Glibc)
import Glibc
#endif

/// Linux epoll(7): one wait that reports readiness on any number of descriptors, at a cost that does not grow
/// with how many are watched. The toolchain's Glibc module does not export `<sys/epoll.h>`, so the three calls
/// are looked up in the C library once and called through their C signatures; `struct epoll_event` is laid
/// out by hand (packed on x86-64, as the kernel's header declares it there).
struct Epoll: Sendable {
    /// One readiness report: which descriptor, and the `EPOLL*` flags that were raised.
    struct Event {
        let fd: Int32
        let flags: UInt32
    }

    /// A buffer epoll_wait(2) fills; owned by the one thread that waits.
    final class Events {
        let capacity: Int
        fileprivate let storage: UnsafeMutableRawPointer

        init(capacity: Int) {
            self.capacity = capacity
            storage = UnsafeMutableRawPointer.allocate(byteCount: capacity * Epoll.eventSize, alignment: 8)
        }

        deinit { storage.deallocate() }

        subscript(index: Int) -> Event {
            let base = index * Epoll.eventSize
            let flags = storage.loadUnaligned(fromByteOffset: base, as: UInt32.self)
            let data = storage.loadUnaligned(fromByteOffset: base + Epoll.dataOffset, as: UInt64.self)
            return Event(fd: Int32(truncatingIfNeeded: data), flags: flags)
        }
    }

    /// EPOLLIN: data (or end of stream, or an error) can be read; for a listener, a connection can be accepted.
    static let readable: UInt32 = 0x001
    /// EPOLLONESHOT: report once, then stay silent until `rearm`.
    static let oneShot: UInt32 = 1 << 30

    #if arch(x86_64) || arch(i386)
    private static let eventSize = 12
    private static let dataOffset = 4
    #else
    private static let eventSize = 16
    private static let dataOffset = 8
    #endif

    private enum Operation: Int32 {
        case add = 1
        case remove = 2
        case modify = 3
    }

    private struct Calls: @unchecked Sendable {
        typealias Create = @convention(c) (Int32) -> Int32
        typealias Control = @convention(c) (Int32, Int32, Int32, UnsafeMutableRawPointer?) -> Int32
        typealias Wait = @convention(c) (Int32, UnsafeMutableRawPointer?, Int32, Int32) -> Int32
        let create: Create
        let control: Control
        let wait: Wait
    }

    private static let calls: Calls? = {
        guard let library = dlopen(nil, RTLD_NOW),
              let create = dlsym(library, "epoll_create1"),
              let control = dlsym(library, "epoll_ctl"),
              let wait = dlsym(library, "epoll_wait") else { return nil }
        return Calls(create: unsafeBitCast(create, to: Calls.Create.self),
                     control: unsafeBitCast(control, to: Calls.Control.self),
                     wait: unsafeBitCast(wait, to: Calls.Wait.self))
    }()

    let fd: Int32
    private let calls: Calls

    init() throws(SocketError) {
        guard let calls = Self.calls else { throw SocketError("epoll_create1", code: ENOSYS) }
        // EPOLL_CLOEXEC has the value of O_CLOEXEC.
        let fd = calls.create(Int32(O_CLOEXEC))
        guard fd >= 0 else { throw SocketError("epoll_create1") }
        self.fd = fd
        self.calls = calls
    }

    /// Starts watching `target` for `flags`; false (with `errno`) if the kernel refused.
    func add(_ target: Int32, _ flags: UInt32) -> Bool {
        control(.add, target, flags)
    }

    /// Watches `target` again after a one-shot report, or with other flags.
    func rearm(_ target: Int32, _ flags: UInt32) -> Bool {
        control(.modify, target, flags)
    }

    func remove(_ target: Int32) {
        _ = control(.remove, target, 0)
    }

    /// Waits up to `timeoutMilliseconds` (-1: without limit) and returns how many reports `events` holds
    /// (0 after a timeout or a signal).
    func wait(into events: Events, timeoutMilliseconds: Int32) -> Int {
        let count = calls.wait(fd, events.storage, Int32(events.capacity), timeoutMilliseconds)
        return max(0, Int(count))
    }

    func close() {
        _ = Glibc.close(fd)
    }

    private func control(_ operation: Operation, _ target: Int32, _ flags: UInt32) -> Bool {
        withUnsafeTemporaryAllocation(byteCount: Self.eventSize, alignment: 8) { event in
            event.storeBytes(of: flags, toByteOffset: 0, as: UInt32.self)
            event.storeBytes(of: UInt64(UInt32(bitPattern: target)), toByteOffset: Self.dataOffset, as: UInt64.self)
            return calls.control(fd, operation.rawValue, target, event.baseAddress) == 0
        }
    }
}
