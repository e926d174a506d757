import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes results: aligned tables for people, one JSON value for machines, messages on stderr.
/// Everything meant for people passes through `TerminalText.escape`, and JSON through
/// `TerminalText.escapeJSON`, so text from outside never reaches a terminal raw.
struct Output {
    let json: Bool

    static let stdoutIsTTY = isatty(STDOUT_FILENO) == 1
    static let stderrIsTTY = isatty(STDERR_FILENO) == 1
    static let colour = stderrIsTTY && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty

    static func write(_ s: String, to fd: Int32 = STDOUT_FILENO) {
        let bytes = Array(s.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { if errno == EINTR { continue }; return }
            offset += n
        }
    }

    func line(_ s: String) { Output.write(TerminalText.escape(s) + "\n") }
    func note(_ s: String) { Output.write(TerminalText.escape(s) + "\n", to: STDERR_FILENO) }
    func emit(_ value: JSON) { Output.write(Output.json(value, pretty: Output.stdoutIsTTY) + "\n") }

    /// One JSON value as text, hidden characters escaped.
    static func json(_ value: JSON, pretty: Bool = false) -> String {
        TerminalText.escapeJSON(value.encoded(pretty: pretty))
    }

    /// A human message on stdout, or nothing in JSON mode (the caller emits JSON instead).
    func say(_ s: String) { if !json { line(s) } }

    static func error(_ message: String) {
        LogSink.flushStandardError()  // a server's log lines first, in order
        let label = colour ? "\u{1B}[1;31mError:\u{1B}[0m" : "Error:"
        write("\(label) \(TerminalText.escape(message))\n", to: STDERR_FILENO)
    }

    static var terminalWidth: Int {
        var size = winsize()
        if stdoutIsTTY, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return Int.max
    }

    /// Columns padded to the widest cell; on a terminal the last column is cut to fit. Every cell is
    /// escaped before it is measured, so hidden characters neither act nor break the alignment.
    func table(_ headers: [String], _ rawRows: [[String]], empty: String = "(none)") {
        if rawRows.isEmpty { line(empty); return }
        let rows = rawRows.map { $0.map(TerminalText.escape) }
        var widths = headers.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        let maxWidth = Output.terminalWidth
        func render(_ cells: [String]) -> String {
            var s = ""
            for (i, cell) in cells.enumerated() {
                if i == cells.count - 1 { s += cell } else { s += cell.padding(toLength: widths[i] + 2, withPad: " ", startingAt: 0) }
            }
            while s.hasSuffix(" ") { s.removeLast() }
            if s.count > maxWidth { s = String(s.prefix(maxWidth - 1)) + "…" }
            return s
        }
        Output.write(render(headers) + "\n")
        for row in rows { Output.write(render(row) + "\n") }
    }

    static func time(_ millis: Int64?) -> String { millis.map { Clock.rfc3339($0) } ?? "-" }
    static func ago(_ millis: Int64?) -> String {
        guard let millis else { return "never" }
        let s = (Clock.nowMillis() - millis) / 1000
        if s < 0 { return "in " + DurationText.format(roundUnit(-s)) }
        if s < 60 { return "just now" }
        return DurationText.format(roundUnit(s)) + " ago"
    }
    static func until(_ millis: Int64?) -> String {
        guard let millis else { return "never" }
        let s = (millis - Clock.nowMillis()) / 1000
        if s <= 0 { return "expired" }
        return "in " + DurationText.format(max(60, roundUnit(s)))
    }
    private static func roundUnit(_ s: Int64) -> Int64 {
        if s >= 86_400 { return s / 86_400 * 86_400 }
        if s >= 3600 { return s / 3600 * 3600 }
        if s >= 60 { return s / 60 * 60 }
        return s
    }
}

import MCPAuth
