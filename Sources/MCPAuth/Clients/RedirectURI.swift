import Foundation

/// Redirect URI rules for OAuth clients (OAuth 2.1 §2.3.1, §7.5; RFC 8252 §7.1 and §7.3; RFC 7591 §2).
public enum RedirectURI {
    /// Accepts https URIs, http on a loopback host, and private-use schemes containing a dot
    /// (RFC 8252 §7.1); never a fragment (RFC 6749 §3.1.2) or userinfo. Returns the reason when refused.
    public static func problem(_ uri: String) -> String? {
        guard uri.utf8.count <= 2000 else { return "redirect URI is longer than 2000 bytes" }
        guard !uri.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7f }) else {
            return "redirect URI contains whitespace or control characters"
        }
        guard let c = URLComponents(string: uri), let scheme = c.scheme?.lowercased() else { return "redirect URI '\(uri)' is not an absolute URI" }
        if c.fragment != nil || uri.contains("#") { return "redirect URI must not contain a fragment" }
        if c.user != nil || c.password != nil { return "redirect URI must not contain userinfo" }
        switch scheme {
        case "https":
            guard let host = c.host, !host.isEmpty else { return "redirect URI has no host" }
            return nil
        case "http":
            guard let host = c.host, isLoopback(host) else { return "http redirect URIs are allowed only on a loopback host (127.0.0.1, [::1], localhost)" }
            return nil
        case "javascript", "data", "file", "vbscript", "about", "blob":
            return "redirect URI scheme '\(scheme)' is not allowed"
        default:
            // RFC 8252 §7.1: private-use schemes are reverse domain names, so they contain a dot.
            guard scheme.contains(".") else { return "private-use redirect URI schemes must contain a dot (e.g. com.example.app:/callback)" }
            return nil
        }
    }

    /// RFC 8252 §7.3 and RFC 9700 §4.1: a loopback host is an IP literal in 127.0.0.0/8, `[::1]`, or
    /// exactly the name `localhost`. A DNS name that merely starts with `127.` (`127.0.0.1.nip.io`,
    /// `127.x.attacker.example`) resolves wherever its owner wants.
    public static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased()
        if h == "localhost" || h == "[::1]" || h == "::1" { return true }
        guard let octets = ipv4Octets(h) else { return false }
        return octets[0] == 127
    }

    /// The four octets of a dotted-decimal IPv4 literal (RFC 3986 §3.2.2 `IPv4address`: four decimal
    /// octets 0-255 without leading zeros), or nil for anything else.
    static func ipv4Octets(_ text: String) -> [Int]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [Int] = []
        for part in parts {
            guard (1...3).contains(part.count), part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  part == "0" || !part.hasPrefix("0"), let n = Int(part), n <= 255 else { return nil }
            octets.append(n)
        }
        return octets
    }

    /// Whether a redirect URI presented at /authorize matches a registered one: exactly, except that for
    /// loopback http URIs any port is accepted (RFC 8252 §7.3).
    public static func matches(_ presented: String, registered: String) -> Bool {
        if presented == registered { return true }
        guard var p = URLComponents(string: presented), var r = URLComponents(string: registered),
              p.scheme?.lowercased() == "http", r.scheme?.lowercased() == "http",
              let ph = p.host, let rh = r.host, isLoopback(ph), ph.lowercased() == rh.lowercased() else { return false }
        p.port = nil
        r.port = nil
        return p.string == r.string
    }
}
