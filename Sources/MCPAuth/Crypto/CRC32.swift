/// CRC-32 checksum with the IEEE 802.3 polynomial, as used by zlib, gzip and PNG.
///
/// Not a cryptographic function: use it to detect accidental corruption only.
public enum CRC32 {
    /// Returns the CRC-32 of `data` (reflected polynomial 0xEDB88320, initial
    /// value and final XOR 0xFFFFFFFF), matching `zlib.crc32`.
    public static func checksum<C: Collection>(_ data: C) -> UInt32 where C.Element == UInt8 {
        var crc: UInt32 = 0xffff_ffff
        let done: Void? = data.withContiguousStorageIfAvailable { bytes in
            table.withUnsafeBufferPointer { table in
                for byte in bytes {
                    crc = table[Int(UInt8(truncatingIfNeeded: crc) ^ byte)] ^ (crc &>> 8)
                }
            }
        }
        if done == nil {
            table.withUnsafeBufferPointer { table in
                for byte in data {
                    crc = table[Int(UInt8(truncatingIfNeeded: crc) ^ byte)] ^ (crc &>> 8)
                }
            }
        }
        return ~crc
    }

    /// Byte-at-a-time lookup table for the reflected polynomial 0xEDB88320.
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 {
            value = value & 1 == 1 ? 0xedb8_8320 ^ (value &>> 1) : value &>> 1
        }
        return value
    }
}
