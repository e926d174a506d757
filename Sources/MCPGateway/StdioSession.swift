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
    static let unparseableFailure = "upstream wrote a line that is not JSON"
    /// Lines from the process that were not JSON (MCP stdio: the server writes only messages to stdout).
    private var unparseableLines = 0
    /// Guarded by `condition` (request threads set it, the idle reaper reads it).
    private var lastUsedAt = Date()
    /// One message line at a time: lines longer than PIPE_BUF written by two request threads at once
    /// would interleave and the process would read garbage (MCP stdio: one JSON-RPC message per line).
    private let writeLock = NSLock()

    init(id: String, ownerID: Int64, app: String, env: String, command: [String], log: RequestLog) throws {
        self.id = id
        self.ownerID = ownerID
        self.app = app
        self.env = env
        let label = "\(app)/\(env)"
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        stdin = input.fileHandleForWriting
        try process.run()
        let out = output.fileHandleForReading
        let err = errors.fileHandleForReading
        let readerThread = Thread { [weak self] in
            var buffer: [UInt8] = []
            while true {
                let data = out.availableData
                if data.isEmpty { break }
                buffer.append(contentsOf: data)
                while let nl = buffer.firstIndex(of: 0x0A) {
                    let line = Array(buffer[..<nl])
                    buffer.removeSubrange(...nl)
                    guard !line.isEmpty else { continue }
                    guard let json = try? JSON.parse(line) else {
                        self?.noteUnparseable()
                        continue
                    }
                    self?.deliver(json)
                }
            }
            self?.markExited()
        }
        readerThread.name = "stdio-out"
        readerThread.start()
        let errThread = Thread {
            var buffer: [UInt8] = []
            while true {
                let data = err.availableData
                if data.isEmpty { break }
                buffer.append(contentsOf: data)
                while let nl = buffer.firstIndex(of: 0x0A) {
                    log.upstream(label, String(decoding: buffer[..<nl], as: UTF8.self))
                    buffer.removeSubrange(...nl)
                }
            }
        }
        errThread.name = "stdio-err"
        errThread.start()
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
        writeLock.lock()
        defer { writeLock.unlock() }
        try stdin.write(contentsOf: Data(line))
    }

    /// Waits for the response to `id`, returning it last, after any server messages that arrived first
    /// (notifications, server-to-client requests). A dead process or a timeout yields a JSON-RPC error, and
    /// `failure` says which (the gateway's own words, fit for the audit log).
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
            if exited {
                let text = "upstream process exited (status \(exitStatus))"
                return (collected + [MCPMessage.error(id: id, code: -32603, message: text)], text)
            }
            if !condition.wait(until: deadline) {
                let text = "upstream did not answer in time"
                return (collected + [MCPMessage.error(id: id, code: -32603, message: text)], text)
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
