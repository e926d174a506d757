#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 socket address built from a literal, and the reverse: a peer's IP as text.
enum SocketAddress {
    case v4(sockaddr_in)
    case v6(sockaddr_in6)

    /// Accepts IP literals (IPv6 optionally in brackets) and `localhost`; nil for anything else.
    init?(host: String, port: Int) {
        guard (0...65_535).contains(port) else { return nil }
        var literal = host
        if literal.hasPrefix("[") && literal.hasSuffix("]") { literal = String(literal.dropFirst().dropLast()) }
        if literal == "localhost" { literal = "127.0.0.1" }
        var address4 = sockaddr_in()
        if inet_pton(AF_INET, literal, &address4.sin_addr) == 1 {
            address4.sin_family = sa_family_t(AF_INET)
            address4.sin_port = UInt16(port).bigEndian
            self = .v4(address4)
            return
        }
        var address6 = sockaddr_in6()
        if inet_pton(AF_INET6, literal, &address6.sin6_addr) == 1 {
            address6.sin6_family = sa_family_t(AF_INET6)
            address6.sin6_port = UInt16(port).bigEndian
            self = .v6(address6)
            return
        }
        return nil
    }

    var family: Int32 {
        switch self {
        case .v4: AF_INET
        case .v6: AF_INET6
        }
    }

    func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        switch self {
        case .v4(var address):
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6(var address):
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
    }

    /// The IP of an address returned by accept(2); IPv4-mapped IPv6 (`::ffff:a.b.c.d`) becomes `a.b.c.d`.
    static func ipString(_ storage: sockaddr_storage) -> String {
        var storage = storage
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(storage.ss_family) {
        case AF_INET:
            withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                    var ip = address.pointee.sin_addr
                    _ = inet_ntop(AF_INET, &ip, &text, socklen_t(text.count))
                }
            }
        case AF_INET6:
            withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    var ip = address.pointee.sin6_addr
                    let bytes = withUnsafeBytes(of: &ip) { Array($0) }
                    if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                        var mapped = in_addr()
                        withUnsafeMutableBytes(of: &mapped) { $0.copyBytes(from: bytes[12..<16]) }
                        _ = inet_ntop(AF_INET, &mapped, &text, socklen_t(text.count))
                    } else {
                        _ = inet_ntop(AF_INET6, &ip, &text, socklen_t(text.count))
                    }
                }
            }
        default:
            return ""
        }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
