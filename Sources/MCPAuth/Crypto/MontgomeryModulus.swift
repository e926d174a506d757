/// Modular exponentiation by Montgomery multiplication (CIOS: Koç, Acar, Kaliski, "Analyzing and
/// Comparing Montgomery Multiplication Algorithms", 1996) for an odd modulus, as RSA moduli are.
/// Built once per key: the constants R² mod n and -n⁻¹ mod 2⁶⁴ are computed here and reused by every
/// verification with that key.
public struct MontgomeryModulus: Sendable {
    public let modulus: BigUInt
    /// The modulus limbs; `count` is the word count k, R = 2^(64k).
    let n: [UInt64]
    /// -n⁻¹ mod 2⁶⁴.
    let nPrime: UInt64
    /// R² mod n, to bring a value into Montgomery form.
    let rSquared: [UInt64]

    /// Nil for an even modulus or one below 3 (no Montgomery form exists).
    public init?(_ modulus: BigUInt) {
        guard modulus.isOdd, modulus > BigUInt(1) else { return nil }
        self.modulus = modulus
        n = modulus.limbs
        nPrime = 0 &- MontgomeryModulus.inverse(n[0])
        rSquared = MontgomeryModulus.doubled(count: 2 * 64 * n.count, modulus: n)
    }

    /// base^exponent mod n. `base` must be below the modulus.
    public func power(_ base: BigUInt, _ exponent: BigUInt) -> BigUInt {
        precondition(base < modulus, "base must be reduced")
        let k = n.count
        let one = padded1()
        guard !exponent.isZero else { return BigUInt(limbs: multiply(multiply(one, rSquared), one)) }
        let x = multiply(base.padded(to: k), rSquared)
        if exponent.bitWidth <= 64 { return BigUInt(limbs: multiply(binary(x, exponent.limbs[0]), one)) }
        let table = window(x)
        var acc = [UInt64]()
        for nibble in MontgomeryModulus.nibbles(of: exponent) {
            if acc.isEmpty { acc = table[nibble]; continue }
            for _ in 0..<4 { acc = multiply(acc, acc) }
            if nibble != 0 { acc = multiply(acc, table[nibble]) }
        }
        return BigUInt(limbs: multiply(acc, one))
    }

    /// x^e for a one-limb exponent, left to right bit by bit: for the public exponents of RSA keys
    /// (65537: 16 squarings and one multiplication) cheaper than building a window table.
    private func binary(_ x: [UInt64], _ e: UInt64) -> [UInt64] {
        var acc = x
        for bit in stride(from: 62 - e.leadingZeroBitCount, through: 0, by: -1) {
            acc = multiply(acc, acc)
            if (e >> UInt64(bit)) & 1 == 1 { acc = multiply(acc, x) }
        }
        return acc
    }

    /// x⁰…x¹⁵ in Montgomery form, for a fixed 4-bit window over the exponent.
    private func window(_ x: [UInt64]) -> [[UInt64]] {
        var table = [multiply(padded1(), rSquared), x]
        for i in 2..<16 { table.append(multiply(table[i - 1], x)) }
        return table
    }

    private func padded1() -> [UInt64] { [UInt64](repeating: 0, count: n.count).replacing(0, with: 1) }

    /// The exponent as 4-bit digits, most significant first, without leading zero digits.
    static func nibbles(of e: BigUInt) -> [Int] {
        let count = (e.bitWidth + 3) / 4
        return (0..<count).reversed().map { i in
            (e.bit(4 * i) ? 1 : 0) | (e.bit(4 * i + 1) ? 2 : 0) | (e.bit(4 * i + 2) ? 4 : 0) | (e.bit(4 * i + 3) ? 8 : 0)
        }
    }

    /// a·b·R⁻¹ mod n for a, b < n, both k limbs (CIOS).
    func multiply(_ a: [UInt64], _ b: [UInt64]) -> [UInt64] {
        let k = n.count
        var t = [UInt64](repeating: 0, count: k + 2)
        a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
        n.withUnsafeBufferPointer { n in
        t.withUnsafeMutableBufferPointer { t in
            for i in 0..<k {
                var carry: UInt64 = 0
                let bi = b[i]
                for j in 0..<k { (carry, t[j]) = MontgomeryModulus.multiplyAdd(a[j], bi, t[j], carry) }
                let (s, c) = t[k].addingReportingOverflow(carry)
                t[k] = s; t[k + 1] = c ? 1 : 0
                let m = t[0] &* nPrime
                (carry, _) = MontgomeryModulus.multiplyAdd(m, n[0], t[0], 0)
                for j in 1..<k { (carry, t[j - 1]) = MontgomeryModulus.multiplyAdd(m, n[j], t[j], carry) }
                let (s2, c2) = t[k].addingReportingOverflow(carry)
                t[k - 1] = s2
                t[k] = t[k + 1] &+ (c2 ? 1 : 0)
            }
        }}}}
        var result = Array(t[0..<k])
        if t[k] != 0 || BigUInt.compare(result, n) >= 0 { MontgomeryModulus.subtract(&result, n) }
        return result
    }

    /// x·y + z + carry as (high, low); never overflows 128 bits.
    @inline(__always)
    static func multiplyAdd(_ x: UInt64, _ y: UInt64, _ z: UInt64, _ carry: UInt64) -> (UInt64, UInt64) {
        var (high, low) = x.multipliedFullWidth(by: y)
        var overflow: Bool
        (low, overflow) = low.addingReportingOverflow(z)
        high &+= overflow ? 1 : 0
        (low, overflow) = low.addingReportingOverflow(carry)
        high &+= overflow ? 1 : 0
        return (high, low)
    }

    /// a -= b in place, modulo 2^(64·count) (the borrow out of the top is dropped).
    static func subtract(_ a: inout [UInt64], _ b: [UInt64]) {
        var borrow = false
        for i in 0..<a.count {
            let (d1, o1) = a[i].subtractingReportingOverflow(b[i])
            let (d2, o2) = d1.subtractingReportingOverflow(borrow ? 1 : 0)
            a[i] = d2
            borrow = o1 || o2
        }
    }

    /// 2^count mod n by doubling 1 (each step: x = 2x, minus n once if it reached n).
    static func doubled(count: Int, modulus n: [UInt64]) -> [UInt64] {
        var x = [UInt64](repeating: 0, count: n.count).replacing(0, with: 1)
        for _ in 0..<count {
            var carry: UInt64 = 0
            for i in 0..<x.count {
                let next = x[i] >> 63
                x[i] = x[i] << 1 | carry
                carry = next
            }
            if carry != 0 || BigUInt.compare(x, n) >= 0 { subtract(&x, n) }
        }
        return x
    }

    /// The inverse of an odd x modulo 2⁶⁴ by Newton's iteration (each step doubles the correct bits).
    static func inverse(_ x: UInt64) -> UInt64 {
        var y: UInt64 = 1
        for _ in 0..<6 { y = y &* (2 &- x &* y) }
        return y
    }
}

extension Array where Element == UInt64 {
    /// A copy with the element at `index` replaced.
    fileprivate func replacing(_ index: Int, with value: UInt64) -> [UInt64] {
        var copy = self
        copy[index] = value
        return copy
    }
}
