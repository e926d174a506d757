extension HTTPRequest {
    /// The address of the client behind a configured reverse proxy: for a request whose peer is one of
    /// `trustedProxies`, the right-most `X-Forwarded-For` entry that is not itself a trusted proxy (entries
    /// to its left were written by the client and prove nothing); else the peer address. Rate limits and
    /// audit rows use it, so a proxy in front does not make every user share one address.
    public func clientAddress(trustedProxies: [String]) -> String {
        guard !trustedProxies.isEmpty, trustedProxies.contains(remoteAddress) else { return remoteAddress }
        var hops: [Substring] = []
        for value in headers.values(for: "X-Forwarded-For") {
            for hop in value.split(separator: ",") {
                let trimmed = HTTPRequest.trimmedSpaces(hop)
                if !trimmed.isEmpty { hops.append(trimmed) }
            }
        }
        return hops.last { !trustedProxies.contains(String($0)) }.map { String($0.prefix(64)) } ?? remoteAddress
    }

    private static func trimmedSpaces(_ value: Substring) -> Substring {
        var s = value
        while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
        return s
    }
}
