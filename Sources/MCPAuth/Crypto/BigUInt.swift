/// An unsigned integer of any size, as 64-bit limbs, least significant first, with no high zero limbs
/// (zero is the empty array). Only what public-key verification needs: conversion from and to
/// big-endian octets (RFC 8017 §4.1 I2OSP, §4.2 OS2IP), comparison and bit access. Values here are
/// public (keys, signatures), so nothing needs to run in constant time.
public struct BigUInt: Sendable, Equatable, Comparable, CustomStringConvertible {
    public private(set) var limbs: [UInt64]

    public init(limbs: [UInt64]) {
        self.limbs = limbs
        normalize()
    }

    public init(_ value: UInt64) { self.init(limbs: [value]) }

    /// RFC 8017 §4.2 OS2IP: big-endian octets to an integer (leading zero octets are allowed).
    public init<C: Collection>(bigEndian bytes: C) where C.Element == UInt8 {
        var limbs = [UInt64](repeating: 0, count: (bytes.count + 7) / 8)
        for (i, byte) in bytes.reversed().enumerated() {
            limbs[i / 8] |= UInt64(byte) << UInt64((i % 8) * 8)
        }
        self.init(limbs: limbs)
    }

    /// The value from lower-case or upper-case hex digits (for tests and vectors); nil for anything else.
    public init?(hex: String) {
        var digits = Array(hex.utf8)
        if digits.count % 2 == 1 { digits.insert(UInt8(ascii: "0"), at: 0) }
        guard let bytes = Hex.decode(String(decoding: digits, as: UTF8.self)) else { return nil }
        self.init(bigEndian: bytes)
    }

    private mutating func normalize() {
        while let last = limbs.last, last == 0 { limbs.removeLast() }
    }

    public var isZero: Bool { limbs.isEmpty }
    public var isOdd: Bool { (limbs.first ?? 0) & 1 == 1 }

    /// The number of bits up to and including the highest set bit (0 for zero).
    public var bitWidth: Int {
        guard let top = limbs.last else { return 0 }
        return (limbs.count - 1) * 64 + (64 - top.leadingZeroBitCount)
    }

    /// The number of octets the value needs (RFC 8017 calls this k for a modulus).
    public var byteWidth: Int { (bitWidth + 7) / 8 }

    public func bit(_ index: Int) -> Bool {
        let limb = index / 64
        guard limb < limbs.count else { return false }
        return (limbs[limb] >> UInt64(index % 64)) & 1 == 1
    }

    /// RFC 8017 §4.1 I2OSP: exactly `count` big-endian octets, or nil when the value does not fit.
    public func bigEndianBytes(count: Int) -> [UInt8]? {
        guard byteWidth <= count else { return nil }
        var out = [UInt8](repeating: 0, count: count)
        for i in 0..<byteWidth {
            out[count - 1 - i] = UInt8(truncatingIfNeeded: limbs[i / 8] >> UInt64((i % 8) * 8))
        }
        return out
    }

    /// The limbs padded with zeros to `count` (the value must fit).
    func padded(to count: Int) -> [UInt64] {
        limbs + [UInt64](repeating: 0, count: max(0, count - limbs.count))
    }

    public static func < (a: BigUInt, b: BigUInt) -> Bool { compare(a.limbs, b.limbs) < 0 }

    /// -1, 0 or 1 for limb arrays of possibly different lengths (high zero limbs allowed).
    static func compare(_ a: [UInt64], _ b: [UInt64]) -> Int {
        for i in stride(from: max(a.count, b.count) - 1, through: 0, by: -1) {
            let x = i < a.count ? a[i] : 0, y = i < b.count ? b[i] : 0
            if x != y { return x < y ? -1 : 1 }
        }
        return 0
    }

    public var description: String {
        guard !isZero else { return "0" }
        return Hex.encode(bigEndianBytes(count: byteWidth) ?? []).drop(while: { $0 == "0" }).description
    }
}
