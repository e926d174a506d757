/// A P-256 (secp256r1) public key for ECDSA verification with SHA-256: FIPS 186-5 §6.4.2, as RFC 7518
/// §3.4 (ES256) uses it. Points are in Jacobian coordinates over Montgomery-form field elements; all
/// values are public, so nothing needs to run in constant time.
public struct P256PublicKey: Sendable {
    public enum KeyError: Error, Sendable, Equatable {
        case malformed
        case notOnCurve
    }

    let x: [UInt64]
    let y: [UInt64]

    /// A key from its affine coordinates, 32 big-endian octets each (RFC 7518 §6.2.1.2: full length).
    /// Coordinates at or above p and points off the curve are refused (SEC 1 §3.2.2.1).
    public init(x: [UInt8], y: [UInt8]) throws(KeyError) {
        guard x.count == 32, y.count == 32 else { throw .malformed }
        let xi = BigUInt(bigEndian: x), yi = BigUInt(bigEndian: y)
        guard xi < P256.p.modulus, yi < P256.p.modulus else { throw .malformed }
        let fx = P256.toField(xi), fy = P256.toField(yi)
        guard P256.onCurve(fx, fy) else { throw .notOnCurve }
        self.x = fx
        self.y = fy
    }

    /// FIPS 186-5 §6.4.2 with the JWS signature format of RFC 7518 §3.4: R ‖ S, 32 octets each.
    public func verifySHA256(signature: [UInt8], message: [UInt8]) -> Bool {
        guard signature.count == 64 else { return false }
        let r = BigUInt(bigEndian: signature[0..<32]), s = BigUInt(bigEndian: signature[32..<64])
        let n = P256.n.modulus
        // Step 1: 1 <= r, s <= n - 1 (the check whose absence let r = s = 0 verify anything, CVE-2022-21449).
        guard !r.isZero, !s.isZero, r < n, s < n else { return false }
        let e = P256.reduced(BigUInt(bigEndian: SHA256.hash(message)), by: P256.n)
        let w = P256.n.power(s, P256.nMinus2)
        let u1 = P256.n.multiplyReduced(e, w), u2 = P256.n.multiplyReduced(r, w)
        let point = P256.twoScalars(u1, P256.generator, u2, Jacobian(x: x, y: y, z: P256.fieldOne))
        guard let affineX = point.affineX() else { return false }
        return P256.reduced(affineX, by: P256.n) == r
    }
}

/// A point (X : Y : Z) standing for (X/Z², Y/Z³); Z = 0 is the point at infinity.
struct Jacobian {
    var x: [UInt64]
    var y: [UInt64]
    var z: [UInt64]

    static let infinity = Jacobian(x: P256.fieldOne, y: P256.fieldOne, z: [0, 0, 0, 0])
    var isInfinity: Bool { z.allSatisfy { $0 == 0 } }

    /// The affine x coordinate in normal form; nil at infinity.
    func affineX() -> BigUInt? {
        guard !isInfinity else { return nil }
        let f = P256.p
        let zInverse = P256.fieldPower(z, P256.pMinus2)
        return BigUInt(limbs: f.multiply(f.multiply(x, f.multiply(zInverse, zInverse)), P256.plainOne))
    }

    /// dbl-2001-b (Bernstein–Lange Explicit-Formulas Database), for a = -3.
    func doubled() -> Jacobian {
        guard !isInfinity else { return self }
        let f = P256.self
        let delta = f.mul(z, z), gamma = f.mul(y, y), beta = f.mul(x, gamma)
        let alpha = f.small(3, f.mul(f.sub(x, delta), f.add(x, delta)))
        let x3 = f.sub(f.mul(alpha, alpha), f.small(8, beta))
        let z3 = f.sub(f.sub(f.square(f.add(y, z)), gamma), delta)
        let y3 = f.sub(f.mul(alpha, f.sub(f.small(4, beta), x3)), f.small(8, f.mul(gamma, gamma)))
        return Jacobian(x: x3, y: y3, z: z3)
    }

    /// add-2007-bl, with the doubling and inverse cases handled.
    func adding(_ q: Jacobian) -> Jacobian {
        if isInfinity { return q }
        if q.isInfinity { return self }
        let f = P256.self
        let z1z1 = f.square(z), z2z2 = f.square(q.z)
        let u1 = f.mul(x, z2z2), u2 = f.mul(q.x, z1z1)
        let s1 = f.mul(f.mul(y, q.z), z2z2), s2 = f.mul(f.mul(q.y, z), z1z1)
        let h = f.sub(u2, u1), rr = f.small(2, f.sub(s2, s1))
        if f.isZero(h) { return f.isZero(rr) ? doubled() : .infinity }
        let i = f.square(f.small(2, h)), j = f.mul(h, i), v = f.mul(u1, i)
        let x3 = f.sub(f.sub(f.square(rr), j), f.small(2, v))
        let y3 = f.sub(f.mul(rr, f.sub(v, x3)), f.small(2, f.mul(s1, j)))
        let z3 = f.mul(f.sub(f.sub(f.square(f.add(z, q.z)), z1z1), z2z2), h)
        return Jacobian(x: x3, y: y3, z: z3)
    }
}

/// The curve's constants (SEC 2 §2.4.2, FIPS 186-5 / SP 800-186 §3.2.1.3) and field helpers.
enum P256 {
    static let p = MontgomeryModulus(BigUInt(hex: "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff")!)!
    static let n = MontgomeryModulus(BigUInt(hex: "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")!)!
    static let b = toField(BigUInt(hex: "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b")!)
    static let generator = Jacobian(x: toField(BigUInt(hex: "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296")!),
                                    y: toField(BigUInt(hex: "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")!),
                                    z: fieldOne)
    static let pMinus2 = BigUInt(hex: "ffffffff00000001000000000000000000000000fffffffffffffffffffffffd")!
    static let nMinus2 = BigUInt(hex: "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc63254f")!
    static let plainOne: [UInt64] = [1, 0, 0, 0]
    /// 1 in Montgomery form (R mod p).
    static let fieldOne = toField(BigUInt(1))

    static func toField(_ v: BigUInt) -> [UInt64] { p.multiply(v.padded(to: 4), p.rSquared) }
    static func mul(_ a: [UInt64], _ b: [UInt64]) -> [UInt64] { p.multiply(a, b) }
    static func square(_ a: [UInt64]) -> [UInt64] { p.multiply(a, a) }
    static func isZero(_ a: [UInt64]) -> Bool { a.allSatisfy { $0 == 0 } }

    static func add(_ a: [UInt64], _ b: [UInt64]) -> [UInt64] {
        var out = [UInt64](repeating: 0, count: 4)
        var carry = false
        for i in 0..<4 {
            let (s1, o1) = a[i].addingReportingOverflow(b[i])
            let (s2, o2) = s1.addingReportingOverflow(carry ? 1 : 0)
            out[i] = s2; carry = o1 || o2
        }
        if carry || BigUInt.compare(out, p.n) >= 0 { MontgomeryModulus.subtract(&out, p.n) }
        return out
    }

    static func sub(_ a: [UInt64], _ b: [UInt64]) -> [UInt64] {
        if BigUInt.compare(a, b) >= 0 { var out = a; MontgomeryModulus.subtract(&out, b); return out }
        var out = b
        MontgomeryModulus.subtract(&out, a)
        var result = p.n
        MontgomeryModulus.subtract(&result, out)
        return result
    }

    /// k·a for a small k, by repeated addition.
    static func small(_ k: Int, _ a: [UInt64]) -> [UInt64] {
        var out = a
        for _ in 1..<k { out = add(out, a) }
        return out
    }

    /// a^e in the field, both in and out in Montgomery form.
    static func fieldPower(_ a: [UInt64], _ e: BigUInt) -> [UInt64] {
        var acc = fieldOne
        for i in stride(from: e.bitWidth - 1, through: 0, by: -1) {
            acc = square(acc)
            if e.bit(i) { acc = mul(acc, a) }
        }
        return acc
    }

    /// y² = x³ - 3x + b (SEC 2 §2.4.2).
    static func onCurve(_ x: [UInt64], _ y: [UInt64]) -> Bool {
        let right = add(sub(mul(square(x), x), small(3, x)), b)
        return square(y) == right
    }

    /// v mod m for v < 2·m.
    static func reduced(_ v: BigUInt, by m: MontgomeryModulus) -> BigUInt {
        guard v >= m.modulus else { return v }
        var limbs = v.padded(to: m.n.count)
        MontgomeryModulus.subtract(&limbs, m.n)
        return BigUInt(limbs: limbs)
    }

    /// u1·G + u2·Q by Shamir's trick (one doubling chain for both scalars).
    static func twoScalars(_ u1: BigUInt, _ g: Jacobian, _ u2: BigUInt, _ q: Jacobian) -> Jacobian {
        let both = g.adding(q)
        var acc = Jacobian.infinity
        for i in stride(from: max(u1.bitWidth, u2.bitWidth) - 1, through: 0, by: -1) {
            acc = acc.doubled()
            switch (u1.bit(i), u2.bit(i)) {
            case (true, true): acc = acc.adding(both)
            case (true, false): acc = acc.adding(g)
            case (false, true): acc = acc.adding(q)
            case (false, false): break
            }
        }
        return acc
    }
}

extension MontgomeryModulus {
    /// a·b mod n for a, b < n, in normal form: (a·b·R⁻¹)·R²·R⁻¹.
    func multiplyReduced(_ a: BigUInt, _ b: BigUInt) -> BigUInt {
        BigUInt(limbs: multiply(multiply(a.padded(to: n.count), b.padded(to: n.count)), rSquared))
    }
}
