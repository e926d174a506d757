import CLibPQ
import CSQLite
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A connection to a PostgreSQL database through libpq, running statements written in SQLite's dialect
/// (rewritten once per distinct text by `PostgresDialect`). Parameters go as text, bytes as binary; results
/// come back as text and are typed by their column's type. Not shared between threads.
final class PostgresConnection {
    private let pq: LibPQ
    private let conn: OpaquePointer
    private let location: StoreLocation
    private var statements: [String: String] = [:]
    /// Statements prepared on this connection's session (PostgreSQL parses and plans each once, then only
    /// executes it): by translated text and parameter types, the prepared statement's name.
    private var prepared: [PreparedKey: String] = [:]
    private var preparedCount = 0
    /// The session still holds statements `prepared` no longer names (a table changed under them): they
    /// are deallocated before the next is prepared, so the session's statements do not pile up.
    private var staleStatements = false
    private struct PreparedKey: Hashable { let sql: String; let types: [Oid] }
    /// Statements kept prepared per connection; statements beyond (built from variable parts) run unprepared.
    static let maxPrepared = 256
    /// Inside `write`/`read`: a dropped connection is then the transaction's failure, never silently reopened.
    private var inOwnTransaction = false

    /// The one lock every write transaction of this store (schema) takes first: PostgreSQL's counterpart of
    /// SQLite's single writer, so read-then-write steps see each other's commits and never interleave.
    private static let writeLock = "SELECT pg_advisory_xact_lock(7089, hashtext(current_schema()))"
    private static let sessionSettings = "SET client_min_messages = warning; SET synchronous_commit = on"
    private static let retries = 8

    /// Seconds libpq waits for a connection before giving up, unless the URL or `PGCONNECT_TIMEOUT` says
    /// otherwise: libpq waits forever by default, which would hang a request on an unreachable server.
    static let connectTimeoutSeconds = 5

    init(url: String) throws {
        pq = try LibPQ.shared.get()
        location = StoreLocation(url)
        guard let c = pq.connect(Self.withConnectTimeout(url)) else { throw DatabaseError(code: SQLITE_NOMEM, message: "libpq could not start a connection", sql: nil) }
        guard pq.status(c) == CONNECTION_OK else {
            let message = Self.oneLine(location.scrub(Self.text(pq.errorMessage(c))))
            pq.finish(c)
            throw DatabaseError(code: SQLITE_CANTOPEN, message: message, sql: nil, sqlState: "08006")
        }
        conn = c
        try execute(Self.sessionSettings)
    }

    deinit { pq.finish(conn) }

    /// `url` with `connect_timeout` added when neither it nor the environment sets one.
    static func withConnectTimeout(_ url: String) -> String {
        let environment = ProcessInfo.processInfo.environment["PGCONNECT_TIMEOUT"] ?? ""
        guard environment.isEmpty, !url.contains("connect_timeout=") else { return url }
        return url + (url.contains("?") ? "&" : "?") + "connect_timeout=\(connectTimeoutSeconds)"
    }

    /// libpq's messages span lines ("…failed: Connection refused\n\tIs the server running…"): one line
    /// for an error message.
    static func oneLine(_ message: String) -> String {
        message.split(whereSeparator: { $0 == "\n" || $0 == "\t" || $0 == "\r" }).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }

    private static func text(_ p: UnsafeMutablePointer<CChar>?) -> String {
        p.map { String(cString: $0) }?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    // MARK: Statements

    func execute(_ sql: String) throws {
        let translated = try translate(sql, script: true)
        if !inOwnTransaction { try reconnectIfLost() }
        let result = pq.exec(conn, translated)
        defer { pq.clear(result) }
        try check(result, sql)
    }

    func forEach(_ sql: String, _ values: [SQLValue], _ body: (Row) throws -> Bool) throws {
        let result = try run(statement: sql, values)
        defer { pq.clear(result) }
        let fields = pq.nfields(result)
        let names = (0..<fields).map { Self.text(pq.fname(result, $0)) }
        let types = (0..<fields).map { pq.ftype(result, $0) }
        for r in 0..<pq.ntuples(result) {
            let row = Row(columns: names, values: (0..<fields).map { value(result, r, $0, type: types[Int($0)]) })
            if try !body(row) { return }
        }
    }

    func run(_ sql: String, _ values: [SQLValue]) throws -> Int {
        let result = try run(statement: sql, values)
        defer { pq.clear(result) }
        return Int(Self.text(pq.cmdTuples(result))) ?? 0
    }

    var lastInsertRowID: Int64 { (try? first("SELECT lastval()")?[0].int) ?? nil ?? 0 }

    /// A transaction is open on the server (a dropped connection has none).
    var inTransaction: Bool {
        let status = pq.transactionStatus(conn)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    func dataVersion() throws -> Int64 {
        guard let v = try first("SELECT CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS TEXT) AS BIGINT)")?[0].int else {
            throw DatabaseError(code: SQLITE_ERROR, message: "no transaction id", sql: nil)
        }
        return v
    }

    private func first(_ sql: String) throws -> Row? {
        var found: Row?
        try forEach(sql, []) { found = $0; return false }
        return found
    }

    // MARK: Transactions

    func write<T>(_ body: () throws -> T) throws -> T {
        if inOwnTransaction || inTransaction { return try body() }
        inOwnTransaction = true
        defer { inOwnTransaction = false }
        var attempt = 0
        while true {
            attempt += 1
            do {
                try control("BEGIN")
                try control(Self.writeLock)
                let result = try body()
                try control("COMMIT")
                return result
            } catch let error as DatabaseError {
                if inTransaction { try? control("ROLLBACK") }
                // Serialization failures and deadlocks say "try again", which is what SQLite's busy wait does.
                guard error.isBusy, attempt < Self.retries else { throw error }
                usleep(UInt32(1_000 * attempt))
            } catch {
                if inTransaction { try? control("ROLLBACK") }
                throw error
            }
        }
    }

    func read<T>(_ body: () throws -> T) throws -> T {
        if inOwnTransaction || inTransaction { return try body() }
        try control("BEGIN ISOLATION LEVEL REPEATABLE READ")
        inOwnTransaction = true
        defer { inOwnTransaction = false }
        defer { if inTransaction { try? control(pq.transactionStatus(conn) == PQTRANS_INERROR ? "ROLLBACK" : "COMMIT") } }
        return try body()
    }

    private func control(_ sql: String) throws {
        let begins = sql.hasPrefix("BEGIN")
        if begins { try reconnectIfLost() }
        try retryingOnceIfLost(begins) {
            let result = pq.exec(conn, sql)
            defer { pq.clear(result) }
            try check(result, sql)
        }
    }

    /// Runs `send`; when it failed because the connection turned out to be gone and what it sent changes
    /// nothing when run twice (`BEGIN`, a read outside a transaction), sends it once more on a new
    /// connection. A server may end an idle connection just as a statement is sent into it (its close can
    /// trail its goodbye); nothing else is retried, since a write whose connection dropped may have committed.
    private func retryingOnceIfLost<T>(_ idempotent: Bool, _ send: () throws -> T) throws -> T {
        do {
            return try send()
        } catch let error as DatabaseError where idempotent && pq.status(conn) != CONNECTION_OK && error.isUnavailable {
            try reconnectIfLost()
            return try send()
        }
    }

    // MARK: libpq

    /// A connection the server dropped (restart, failover, network, `pg_terminate_backend`) is opened again
    /// before the next statement outside a transaction; inside one, the failure is the caller's.
    private func reconnectIfLost() throws {
        guard isDropped else { return }
        pq.reset(conn)
        guard pq.status(conn) == CONNECTION_OK else {
            throw DatabaseError(code: SQLITE_IOERR, message: Self.oneLine(location.scrub(Self.text(pq.errorMessage(conn)))), sql: nil, sqlState: "08006")
        }
        statements.removeAll()
        prepared.removeAll()  // a new session has none
        staleStatements = false
        let result = pq.exec(conn, Self.sessionSettings)
        defer { pq.clear(result) }
        try check(result, nil)
    }

    /// Whether the connection is known bad, or its server has hung up while it sat idle. An idle connection
    /// has nothing to read; one whose server ended it has the server's goodbye and the closed socket waiting,
    /// which a zero-timeout poll(2) finds (one system call) before a statement is sent into a dead socket.
    private var isDropped: Bool {
        if pq.status(conn) != CONNECTION_OK { return true }
        let peerClosed = Int16(0x2000)  // POLLRDHUP (poll(2), Linux): the server shut its side down
        var watched = pollfd(fd: pq.socket(conn), events: Int16(POLLIN) | peerClosed, revents: 0)
        guard poll(&watched, 1, 0) > 0 else { return false }
        if watched.revents & (peerClosed | Int16(POLLHUP) | Int16(POLLERR) | Int16(POLLNVAL)) != 0 { return true }
        // Something arrived while idle (a notice, or a goodbye whose close is still on its way): let libpq read it.
        return pq.consumeInput(conn) == 0 || pq.status(conn) != CONNECTION_OK
    }

    private func translate(_ sql: String, script: Bool) throws -> String {
        if let t = statements[sql] { return t }
        let t: String
        do {
            t = script ? try PostgresDialect.script(sql) : try PostgresDialect.statement(sql)
        } catch let unsupported as PostgresDialect.Unsupported {
            throw DatabaseError(code: SQLITE_ERROR, message: "not supported on PostgreSQL: \(unsupported.what)", sql: sql)
        }
        statements[sql] = t
        return t
    }

    private func run(statement sql: String, _ values: [SQLValue]) throws -> LibPQ.Result {
        let translated = try translate(sql, script: false)
        if !inOwnTransaction { try reconnectIfLost() }
        let params = try Parameters(values, sql: sql)
        defer { params.free() }
        // A SELECT outside a transaction: the store's are reads, or idempotent (setval of a counter's floor).
        let read = !inOwnTransaction && translated.hasPrefix("SELECT ")
        return try retryingOnceIfLost(read) { try send(translated, sql, values.count, params) }
    }

    private func send(_ translated: String, _ sql: String, _ count: Int, _ params: Parameters) throws -> LibPQ.Result {
        let name = try preparedName(translated, sql, params.types)
        let result = params.types.withUnsafeBufferPointer { types in
            params.values.withUnsafeBufferPointer { vals in
                params.lengths.withUnsafeBufferPointer { lengths in
                    params.formats.withUnsafeBufferPointer { formats in
                        if let name {
                            return pq.execPrepared(conn, name, Int32(count), vals.baseAddress, lengths.baseAddress, formats.baseAddress, 0)
                        }
                        return pq.execParams(conn, translated, Int32(count), types.baseAddress, vals.baseAddress,
                                             lengths.baseAddress, formats.baseAddress, 0)
                    }
                }
            }
        }
        do { try check(result, sql) } catch let error as DatabaseError {
            pq.clear(result)
            // 0A000 "cached plan must not change result type": a table changed under the prepared statement.
            if error.sqlState == "0A000" {
                prepared.removeAll()
                staleStatements = true
                deallocateStaleStatements()
            }
            throw error
        }
        return result!
    }

    /// The name of the statement prepared for `translated` with these parameter types, preparing it on
    /// first use; nil (it runs unprepared) when a value is NULL (whose type only the statement could say,
    /// so each pattern of NULLs would be a statement of its own) or this connection already keeps
    /// `maxPrepared`.
    private func preparedName(_ translated: String, _ sql: String, _ types: [Oid]) throws -> String? {
        let key = PreparedKey(sql: translated, types: types)
        if let name = prepared[key] { return name }
        deallocateStaleStatements()
        guard prepared.count < Self.maxPrepared, !types.contains(0), !staleStatements else { return nil }
        preparedCount += 1
        let name = "mcpctl_\(preparedCount)"
        let result = types.withUnsafeBufferPointer { pq.prepare(conn, name, translated, Int32(types.count), $0.baseAddress) }
        defer { pq.clear(result) }
        try check(result, sql)
        prepared[key] = name
        return name
    }

    /// Deallocates every statement of the session once `prepared` has forgotten them all. Not possible
    /// inside a failed transaction (PostgreSQL refuses every command there until its end): then later.
    private func deallocateStaleStatements() {
        guard staleStatements, pq.transactionStatus(conn) != PQTRANS_INERROR else { return }
        let result = pq.exec(conn, "DEALLOCATE ALL")
        defer { pq.clear(result) }
        if (try? check(result, nil)) != nil { staleStatements = false }
    }

    private func check(_ result: LibPQ.Result?, _ sql: String?) throws {
        let status = pq.resultStatus(result)
        if result != nil, status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY { return }
        let state = result.flatMap { pq.resultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) }
        let primary = result.flatMap { pq.resultErrorField($0, Int32(UInt8(ascii: "M"))) }.map { String(cString: $0) }
        let message = Self.oneLine(location.scrub(primary ?? Self.text(pq.errorMessage(conn))))
        let lost = pq.status(conn) != CONNECTION_OK
        throw DatabaseError(code: Self.code(state, lost: lost), message: message, sql: sql, sqlState: state ?? (lost ? "08006" : nil))
    }

    /// The SQLite result code of the same kind as a SQLSTATE.
    private static func code(_ state: String?, lost: Bool) -> Int32 {
        guard let state else { return lost ? SQLITE_IOERR : SQLITE_ERROR }
        if state.hasPrefix("23") { return SQLITE_CONSTRAINT }
        if state == "40001" || state == "40P01" || state == "55P03" { return SQLITE_BUSY }
        if state.hasPrefix("08") || state.hasPrefix("57P") { return SQLITE_IOERR }
        return SQLITE_ERROR
    }

    private func value(_ result: LibPQ.Result, _ r: Int32, _ f: Int32, type: Oid) -> SQLValue {
        if pq.getisnull(result, r, f) != 0 { return .null }
        let count = Int(pq.getlength(result, r, f))
        guard let base = pq.getvalue(result, r, f) else { return .null }
        let bytes = UnsafeRawBufferPointer(start: base, count: count)
        switch type {
        case 16: return .integer(bytes.first == UInt8(ascii: "t") ? 1 : 0)
        case 20, 21, 23, 26: return .integer(Int64(String(decoding: bytes, as: UTF8.self)) ?? 0)
        case 700, 701: return .real(Double(String(decoding: bytes, as: UTF8.self)) ?? .nan)
        case 1700:
            let text = String(decoding: bytes, as: UTF8.self)
            return Int64(text).map(SQLValue.integer) ?? .real(Double(text) ?? .nan)
        case 17: return .blob(Self.unhex(bytes))
        default: return .text(String(decoding: bytes, as: UTF8.self))
        }
    }

    /// BYTEA in its text form, `\x` followed by hex digits.
    private static func unhex(_ text: UnsafeRawBufferPointer) -> [UInt8] {
        guard text.count >= 2 else { return [] }
        func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
        var out = [UInt8]()
        out.reserveCapacity((text.count - 2) / 2)
        var i = 2
        while i + 1 < text.count {
            out.append(nibble(text[i]) << 4 | nibble(text[i + 1]))
            i += 2
        }
        return out
    }

    /// Bound values in libpq's arrays: integers, reals and text as text with their type, bytes as binary
    /// BYTEA, NULL untyped (the statement decides).
    private struct Parameters {
        var types: [Oid] = []
        var values: [UnsafePointer<CChar>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        private var owned: [UnsafeMutableRawPointer] = []

        init(_ bound: [SQLValue], sql: String) throws {
            for value in bound {
                switch value {
                case .null: add(type: 0, nil)
                case .integer(let v): add(type: 20, String(v))
                case .real(let v): add(type: 701, v.isFinite ? "\(v)" : v.isNaN ? "NaN" : v > 0 ? "Infinity" : "-Infinity")
                case .text(let v):
                    // PostgreSQL text cannot hold NUL (SQLite's can): refused rather than cut short.
                    if v.utf8.contains(0) {
                        throw DatabaseError(code: SQLITE_MISMATCH, message: "text with a NUL character cannot be stored in PostgreSQL", sql: sql, sqlState: "22021")
                    }
                    add(type: 25, v)
                case .blob(let v):
                    let copy = UnsafeMutableRawPointer.allocate(byteCount: max(v.count, 1), alignment: 1)
                    v.withUnsafeBytes { if let b = $0.baseAddress { copy.copyMemory(from: b, byteCount: v.count) } }
                    owned.append(copy)
                    types.append(17)
                    values.append(UnsafePointer(copy.assumingMemoryBound(to: CChar.self)))
                    lengths.append(Int32(v.count))
                    formats.append(1)
                }
            }
        }

        private mutating func add(type: Oid, _ text: String?) {
            types.append(type)
            lengths.append(0)
            formats.append(0)
            guard let text else { values.append(nil); return }
            let utf8 = Array(text.utf8) + [0]
            let copy = UnsafeMutableRawPointer.allocate(byteCount: utf8.count, alignment: 1)
            utf8.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: utf8.count) }
            owned.append(copy)
            values.append(UnsafePointer(copy.assumingMemoryBound(to: CChar.self)))
        }

        func free() { for p in owned { p.deallocate() } }
    }
}
