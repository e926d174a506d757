/// Comparisons whose running time does not depend on the bytes being compared.
public enum ConstantTime {
    /// Returns whether `a` and `b` hold the same bytes.
    ///
    /// When the lengths match, every byte pair is examined regardless of where
    /// the first difference is, so timing reveals nothing about the content.
    /// Different lengths return `false` immediately: the length is not
    /// treated as secret (compare fixed-size digests, not raw secrets).
    public static func equals<A: Collection, B: Collection>(_ a: A, _ b: B) -> Bool
    where A.Element == UInt8, B.Element == UInt8 {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) {
            difference |= x ^ y
        }
        return difference == 0
    }
}
