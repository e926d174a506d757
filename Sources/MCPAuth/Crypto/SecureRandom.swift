import Glibc

/// Cryptographically secure random bytes from the kernel CSPRNG via getrandom(2).
public enum SecureRandom {
    /// Returns `count` random bytes.
    ///
    /// Blocks only until the kernel entropy pool is first initialised at boot.
    /// Short reads and `EINTR` are retried; any other failure terminates the
    /// process, since continuing without secure randomness would be unsafe.
    public static func bytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0, "SecureRandom byte count must not be negative")
        guard let getrandom = getrandomFunction else {
            fatalError("SecureRandom: getrandom(2) is not available in this C library")
        }
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var filled = 0
            while filled < count {
                // getrandom(2): requests over 33554431 bytes may return short; flags 0 = urandom pool, blocking until seeded.
                let result = getrandom(buffer.baseAddress! + filled, count - filled, 0)
                if result > 0 {
                    filled += result
                } else if result < 0 && errno == EINTR {
                    continue
                } else {
                    fatalError("SecureRandom: getrandom(2) failed (errno \(errno))")
                }
            }
            initialized = count
        }
    }

    private typealias GetRandom = @convention(c) (UnsafeMutableRawPointer?, Int, UInt32) -> Int

    /// `ssize_t getrandom(void *buf, size_t buflen, unsigned int flags)` from
    /// glibc ≥ 2.25. Swift's Glibc module does not import `<sys/random.h>`,
    /// so the symbol is resolved with dlsym(3) (`RTLD_DEFAULT` is the null handle).
    private static let getrandomFunction: GetRandom? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "getrandom")
        .map { unsafeBitCast($0, to: GetRandom.self) }
}
