/// The server's live connections: their sockets (which a forced shutdown cuts) and how many each client
/// address holds, so that one address cannot take every connection slot.
struct ConnectionTable {
    /// Whether a new connection may be served.
    enum Admission: Equatable {
        case admitted
        /// The server holds `maxConnections` already.
        case serverFull
        /// This client address holds `maxConnectionsPerAddress` already.
        case addressFull
    }

    private(set) var sockets: Set<Int32> = []
    private var perAddress: [String: Int] = [:]

    var count: Int { sockets.count }

    /// Records the connection when both limits allow it.
    mutating func admit(_ fd: Int32, from address: String, maxTotal: Int, maxPerAddress: Int) -> Admission {
        guard sockets.count < maxTotal else { return .serverFull }
        let held = perAddress[address, default: 0]
        guard held < maxPerAddress else { return .addressFull }
        sockets.insert(fd)
        perAddress[address] = held + 1
        return .admitted
    }

    /// Forgets a connection; call before its socket is closed, so a reused descriptor is never touched.
    mutating func remove(_ fd: Int32, from address: String) {
        guard sockets.remove(fd) != nil else { return }
        let held = perAddress[address, default: 1] - 1
        perAddress[address] = held > 0 ? held : nil
    }
}
