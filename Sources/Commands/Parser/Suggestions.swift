extension ArgumentParser {
    /// Finds the name a user probably meant when they mistyped a command or option.
    enum Suggestions {
        /// The candidate closest to `typed`, or nil when none is close enough.
        ///
        /// A case-insensitive exact match wins, then the only candidate that `typed` is a prefix of
        /// (at least two characters), then the smallest Damerau–Levenshtein distance within a
        /// threshold that grows with the length of `typed`. Ties go to the earlier candidate, so the
        /// order of the command table decides.
        static func closest(to typed: String, among candidates: [String]) -> String? {
            let lowered = typed.lowercased()
            guard !lowered.isEmpty else { return nil }
            if let exact = candidates.first(where: { $0.lowercased() == lowered }) {
                return exact
            }
            if lowered.count >= 2 {
                let prefixed = candidates.filter { $0.lowercased().hasPrefix(lowered) }
                if prefixed.count == 1 {
                    return prefixed[0]
                }
            }
            let threshold = lowered.count <= 3 ? 1 : (lowered.count <= 6 ? 2 : 3)
            var best: (name: String, distance: Int)?
            for candidate in candidates {
                let distance = editDistance(lowered, candidate.lowercased())
                if distance <= threshold, distance < (best?.distance ?? Int.max) {
                    best = (candidate, distance)
                }
            }
            return best?.name
        }

        /// The optimal-string-alignment distance: insertions, deletions, substitutions and
        /// transpositions of adjacent characters each cost one.
        static func editDistance(_ a: String, _ b: String) -> Int {
            let a = Array(a), b = Array(b)
            if a.isEmpty { return b.count }
            if b.isEmpty { return a.count }
            var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
            for i in 0...a.count { table[i][0] = i }
            for j in 0...b.count { table[0][j] = j }
            for i in 1...a.count {
                for j in 1...b.count {
                    let cost = a[i - 1] == b[j - 1] ? 0 : 1
                    var value = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                    if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                        value = min(value, table[i - 2][j - 2] + 1)
                    }
                    table[i][j] = value
                }
            }
            return table[a.count][b.count]
        }
    }
}
