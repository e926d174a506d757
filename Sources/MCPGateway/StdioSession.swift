import Foundation
import MCPAuth

/// One stdio MCP server process serving one MCP session: newline-delimited JSON-RPC on stdin/stdout
/// (MCP 2025-11-25 stdio transport), stderr copied to the server log. It belongs to the user who opened
/// it and to the app/environment it was opened on: presented by anyone else or on another endpoint it is
/// an unknown session.
final class StdioSession: @unchecked Sendable {
    let id: String
    let ownerID: Int64
    let app: String
    let env: String
    private let process = Process()
    private let stdin: FileHandle
    private let condition = NSCondition()
    private var inbox: [JSON] = []
    private var exited = false
    private var exitStatus: Int32 = 0
    /// Why the gateway ended the process, when it did (guarded by `condition`).
    private var failure: String?
    private let log: RequestLog
    static let unparseableFailure = "upstream wrote a line that is not JSON"

    /// Whether the gateway ended the process for what it wrote (a message line over the limit).
    var endedByGateway: Bool {
        condition.lock(); defer { condition.unlock() }
        return failure != nil
    }
    /// Lines from the process that were not JSON (MCP stdio: the server writes only messages to stdout).
    private var unparseableLines = 0
    /// Guarded by `condition` (request threads set it, the idle reaper reads it).
    private var lastUsedAt = Date()
    /// One message line at a time: lines longer than PIPE_BUF written by two request threads at once
    /// would interleave and the process would read garbage (MCP stdio: one JSON-RPC message per line).
    private let writeLock = Guarded<Void>()

    /// Bounds on what the process may write.
    struct Limits {
        /// The longest message line on stdout.
        var maxLine: Int
        /// Lines of stderr logged per second.
        var stderrPerSecond: Int
    }

    /// Variables of `serve`'s own environment a stdio server gets; nothing else of it (no secret of the
    /// gateway, no other upstream's credential) reaches the process.
    static let inheritedVariables = ["PATH", "HOME", "LANG", "TZ"]

    /// A clean environment for a stdio server: `inheritedVariables` from `parent`, then the environment's
    /// own `--env-var` values.
    static func environment(inheriting parent: [String: String], _ variables: [(name: String, value: String)]) -> [String: String] {
        var out: [String: String] = [:]
        for name in inheritedVariables { out[name] = parent[name] }
        for v in variables { out[v.name] = v.value }
        return out
    }

    init(id: String, ownerID: Int64, app: String, env: String, command: [String], limits: Limits, log: RequestLog,
         environment: [String: String]) throws {
        self.id = id
        self.log = log
        self.ownerID = ownerID
        self.app = app
        self.env = env
        let label = "\(app)/\(env)"
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.environment = environment
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        stdin = input.fileHandleForWriting
        try process.run()
        let outFD = output.fileHandleForReading.fileDescriptor
        let errFD = errors.fileHandleForReading.fileDescriptor
        // The pipes' read ends stay open as long as their FileHandles live: the threads keep them.
        let keep = (output.fileHandleForReading, errors.fileHandleForReading)
        let readerThread = Thread { [weak self] in
            withExtendedLifetime(keep) { StdioSession.readMessages(outFD, maxLine: limits.maxLine, session: self) }
            self?.markExited()
        }
        readerThread.name = "stdio-out"
        readerThread.start()
        let errThread = Thread {
            withExtendedLifetime(keep) { StdioSession.logErrors(errFD, label: label, perSecond: limits.stderrPerSecond, log: log) }
        }
        errThread.name = "stdio-err"
        errThread.start()
    }

    /// Reads message lines from the process's stdout until it closes it; a line over `maxLine` bytes ends
    /// the process (its answer could not be passed on whole, and buffering more would be unbounded).
    private static func readMessages(_ fd: Int32, maxLine: Int, session: StdioSession?) {
        var lines = LineBuffer(maxLine: maxLine, overlong: .fail)
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 1)
        defer { chunk.deallocate() }
        while let n = readSome(fd, chunk, waitMillis: -1), n > 0 {
            lines.append(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
            do {
                while let line = try lines.next() {
                    guard !line.isEmpty else { continue }
                    guard let json = try? JSON.parse(line) else {
                        session?.noteUnparseable()
                        continue
                    }
                    session?.deliver(json)
                }
            } catch {
                session?.fail("upstream wrote a message line over \(error.limit) bytes (--max-body); its process was ended")
                return
            }
        }
    }

    /// Copies the process's stderr to the log, at most `perSecond` lines a second, with one line a
    /// second saying how many were dropped while any were; each line is cut to 2000 bytes.
    private static func logErrors(_ fd: Int32, label: String, perSecond: Int, log: RequestLog) {
        var lines = LineBuffer(maxLine: 2000, overlong: .truncate)
        var allowance = LogAllowance(perSecond: perSecond, now: monotonicSeconds())
        let summarize = { (count: Int) in log.write(.warn, [("msg", "stdio \(label): \(count) stderr lines dropped")]) }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 1)
        defer { chunk.deallocate() }
        while true {
            let n = readSome(fd, chunk, waitMillis: 250)
            if let dropped = allowance.endedWindow(now: monotonicSeconds()) { summarize(dropped) }
            guard let n else { continue }
            if n == 0 { break }
            lines.append(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
            while let line = try? lines.next() {
                if let dropped = allowance.endedWindow(now: monotonicSeconds()) { summarize(dropped) }
                if allowance.admit() { log.upstream(label, String(decoding: line, as: UTF8.self)) }
            }
        }
        if allowance.pendingDropped > 0 { summarize(allowance.pendingDropped) }
    }

    /// Reads what is available from `fd` into `chunk`: the byte count, 0 at the end (or on an error), nil
    /// when nothing arrived within `waitMillis` (-1: wait as long as it takes).
    private static func readSome(_ fd: Int32, _ chunk: UnsafeMutableRawBufferPointer, waitMillis: Int32) -> Int? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&p, 1, waitMillis)
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 { return nil }
            let n = read(fd, chunk.baseAddress, chunk.count)
            if n < 0 && errno == EINTR { continue }
            return max(n, 0)
        }
    }

    private static func monotonicSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// Ends the process because of what it wrote; a request waiting on it gets `reason` (502).
    private func fail(_ reason: String) {
        condition.lock()
        failure = reason
        condition.broadcast()
        condition.unlock()
        log.write(.error, [("msg", "stdio \(app)/\(env): \(reason)")])
        terminate()
    }

    private func deliver(_ json: JSON) {
        condition.lock()
        inbox.append(json)
        condition.broadcast()
        condition.unlock()
    }

    private func noteUnparseable() {
        condition.lock()
        unparseableLines += 1
        condition.broadcast()
        condition.unlock()
    }

    /// How many lines that were not JSON the process has written so far.
    var unparseableCount: Int {
        condition.lock(); defer { condition.unlock() }
        return unparseableLines
    }

    /// Sends a request of the gateway's own and waits for its answer; messages that arrive meanwhile are
    /// put back for the client's requests to collect. Nil when the process failed or did not answer.
    func request(_ message: JSON, id: JSON, timeout: Double) -> JSON? {
        do { try send(message) } catch { return nil }
        let answer = awaitResponse(id: id, timeout: timeout)
        guard answer.failure == nil, let last = answer.messages.last else { return nil }
        let others = answer.messages.dropLast()
        if !others.isEmpty {
            condition.lock()
            inbox.insert(contentsOf: others, at: 0)
            condition.broadcast()
            condition.unlock()
        }
        return last
    }

    private func markExited() {
        process.waitUntilExit()
        condition.lock()
        exited = true
        exitStatus = process.terminationStatus
        condition.broadcast()
        condition.unlock()
    }

    /// Whether this session was opened by `user` on app/env.
    func belongs(to user: Int64, app: String, env: String) -> Bool {
        ownerID == user && self.app == app && self.env == env
    }

    var isAlive: Bool {
        condition.lock(); defer { condition.unlock() }
        return !exited
    }

    var lastUsed: Date {
        condition.lock(); defer { condition.unlock() }
        return lastUsedAt
    }

    private func touch() {
        condition.lock(); defer { condition.unlock() }
        lastUsedAt = Date()
    }

    /// Writes one message line to the process.
    func send(_ message: JSON) throws {
        touch()
        var line = message.bytes
        line.append(0x0A)
        try writeLock.withLock { try stdin.write(contentsOf: Data(line)) }
    }

    /// Waits for the response to `id`, returning it last, after any server messages that arrived first
    /// (notifications, server-to-client requests). A dead process or a timeout yields a JSON-RPC error, and
    /// `failure` says which (the gateway's own words, fit for the audit log; `Gateway.upstreamTimeout`
    /// for a timeout).
    /// With `unparseableSince` (a count read before the request was sent), a line that was not JSON arriving
    /// meanwhile ends the wait with a failure: it may have been the answer, which must not be lost silently.
    func awaitResponse(id: JSON, timeout: Double, unparseableSince: Int? = nil) -> (messages: [JSON], failure: String?) {
        let deadline = Date().addingTimeInterval(timeout)
        var collected: [JSON] = []
        condition.lock()
        defer { condition.unlock() }
        while true {
            var i = 0
            while i < inbox.count {
                let m = inbox[i]
                let isResponse = m["method"] == nil
                if isResponse, m["id"] == id {
                    inbox.remove(at: i)
                    lastUsedAt = Date()
                    return (collected + [m], nil)
                }
                if !isResponse {
                    collected.append(m)
                    inbox.remove(at: i)
                    continue
                }
                i += 1
            }
            if let since = unparseableSince, unparseableLines > since {
                let text = StdioSession.unparseableFailure
                return (collected + [MCPMessage.error(id: id, code: -32603, message: text)], text)
            }
            if let failure {
                return (collected + [MCPMessage.error(id: id, code: -32603, message: failure)], failure)
            }
            if exited {
                let text = "upstream process exited (status \(exitStatus))"
                return (collected + [MCPMessage.error(id: id, code: -32603, message: text)], text)
            }
            if !condition.wait(until: deadline) {
                return (collected + [MCPMessage.error(id: id, code: -32603, message: "upstream did not answer in time")], Gateway.upstreamTimeout)
            }
        }
    }

    func terminate() {
        try? stdin.close()
        if process.isRunning {
            process.terminate()
            let pid = process.processIdentifier
            DispatchQueue.global().asyncAfter(deadline: .now() + 2) { [process] in
                if process.isRunning { kill(pid, SIGKILL) }
            }
        }
    }
}
