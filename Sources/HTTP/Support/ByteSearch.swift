#if canImport(Glibc)
import Glibc
#endif

/// Finding a byte string inside a larger one (the gateway looks into every answer it relays): `memchr` to the next
/// candidate first byte, `memcmp` for the rest, no allocation. (The collection algorithms of the standard
/// library and Foundation are generic over element and index types and cost microseconds per kilobyte
/// here; glibc's `memmem` is not exported to Swift.)
public enum ByteSearch {
    /// Whether `needle` occurs in `haystack`; an empty needle occurs everywhere.
    public static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        guard haystack.count >= needle.count else { return false }
        return haystack.withUnsafeBytes { h in
            needle.withUnsafeBytes { n in
                guard let base = h.baseAddress, let nBase = n.baseAddress else { return false }
                let lastStart = h.count - n.count
                var offset = 0
                while offset <= lastStart {
                    guard let hit = memchr(base + offset, Int32(first), lastStart - offset + 1) else { return false }
                    let at = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(base + at, nBase, n.count) == 0 { return true }
                    offset = at + 1
                }
                return false
            }
        }
    }
}
