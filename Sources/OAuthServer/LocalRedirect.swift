/// Where a page may send the browser after sign-in: only a path on this server. RFC 9700 §4.11.2 (no open
/// redirector): `//host`, `/\host`, absolute URLs and anything with control characters would let a link to
/// this server's sign-in page forward the user to another site.
enum LocalRedirect {
    static let fallback = "/account"

    /// `next` when it is a local path, else nil.
    static func validated(_ next: String?) -> String? {
        guard let next, next.hasPrefix("/"), next.utf8.count <= 2048 else { return nil }
        let second = next.dropFirst().first
        guard second != "/", second != "\\" else { return nil }
        let safe = next.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && $0 != "\\" }
        // The sign-in page itself would send a signed-in browser round in circles.
        let path = next.prefix { $0 != "?" && $0 != "#" }
        return safe && path != "/login" && path != "/logout" && !leavesItsPrefix(path) ? next : nil
    }

    /// RFC 3986 §5.2.4: a browser removes `.` and `..` segments before it follows a path, so `/account/../x`
    /// is `/x`; such a path (or one that spells a dot or a slash with %-encoding) would pass a check of its
    /// prefix and land elsewhere.
    private static func leavesItsPrefix(_ path: Substring) -> Bool {
        if path.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == "." || $0 == ".." }) { return true }
        let lowered = path.lowercased()
        return lowered.contains("%2e") || lowered.contains("%2f") || lowered.contains("%5c")
    }

    /// `next` when it is a local path, else the account page.
    static func target(_ next: String?) -> String { validated(next) ?? fallback }
}
