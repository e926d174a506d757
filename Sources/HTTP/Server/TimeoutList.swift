/// The connections waiting in one phase (idle, head or body), oldest first. Every connection in a list has
/// the same timeout, so appending in the order the phases began keeps the list ordered by deadline: only its
/// first entry is ever checked. Entries are linked through the connections themselves, so leaving a list
/// (a request handed to a worker, a connection closed) costs no search and no allocation.
struct TimeoutList {
    private(set) var first: HTTPConnection?
    private var last: HTTPConnection?

    mutating func append(_ connection: HTTPConnection) {
        connection.previous = last
        connection.next = nil
        if let last { last.next = connection } else { first = connection }
        last = connection
    }

    mutating func remove(_ connection: HTTPConnection) {
        if let previous = connection.previous { previous.next = connection.next } else { first = connection.next }
        if let next = connection.next { next.previous = connection.previous } else { last = connection.previous }
        connection.previous = nil
        connection.next = nil
    }
}
