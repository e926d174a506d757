import Foundation
import MCPAuth

/// `mcpctl audit list|tail|export|verify|head|prune`.
enum AuditCommands {
    static func run(_ c: Context) throws -> Int32 {
        let store = try c.store()
        switch c.parsed.path[1] {
        case "list":
            let limit = try intOption(c, "limit") ?? 100
            let records = try AuditQuery.list(try filter(c), limit: limit, db: store.db)
            if c.json { c.out.emit(.array(records.map(\.json))) } else { table(records, c) }
        case "tail": return try tail(c, store)
        case "export": return try export(c, store)
        case "verify":
            var expect: AuditLog.Head?
            if let text = c.option("expect-head") {
                let parts = text.split(separator: ":")
                guard parts.count == 2, let seq = Int64(parts[0]), let hash = Hex.decode(String(parts[1])), hash.count == 32 else {
                    throw CommandUsageError(message: "Invalid '--expect-head': use SEQ:HASH as printed by 'mcpctl audit head'")
                }
                expect = AuditLog.Head(seq: seq, hash: hash)
            }
            let start = Date()
            let r = try AuditVerifier.verify(db: store.db, expectHead: expect)
            let seconds = Date().timeIntervalSince(start)
            if c.json {
                c.out.emit(.object([("ok", .bool(r.ok)), ("rows", .int(r.rows)), ("first_seq", .int(r.firstSeq)), ("last_seq", .int(r.lastSeq)),
                                    ("head_hash", .string(Hex.encode(r.headHash))), ("bad_seq", .num(r.badSeq)), ("problem", .str(r.problem)),
                                    ("seconds", .double((seconds * 1000).rounded() / 1000))]))
            } else if r.ok {
                c.out.line("OK: \(r.rows) rows verified (seq \(r.firstSeq)…\(r.lastSeq)), head \(Hex.encode(r.headHash))")
            }
            if !r.ok {
                if !c.json { Output.error("audit chain broken at seq \(r.badSeq ?? 0): \(r.problem ?? "")") }
                return ExitCode.failure
            }
        case "head":
            let head = try AuditLog.head(store.db)
            if c.json { c.out.emit(.object([("seq", .int(head.seq)), ("hash", .string(Hex.encode(head.hash)))])) }
            else { c.out.line("\(head.seq):\(Hex.encode(head.hash))") }
        case "prune":
            guard let before = try when(c, "before") else { throw CommandUsageError(message: "Missing expected option '--before'") }
            let n = try AuditVerifier.prune(before: before, db: store.db)
            if c.json { c.out.emit(.object([("deleted", .int(Int64(n))), ("before", .string(Clock.rfc3339(before)))])) }
            else { c.out.line("Deleted \(n) audit rows older than \(Clock.rfc3339(before)); the chain stays verifiable from the cut point") }
        default: throw CommandUsageError(message: "Unknown command 'audit \(c.parsed.path[1])'")
        }
        return ExitCode.success
    }

    static func intOption(_ c: Context, _ name: String) throws -> Int? {
        guard let text = c.option(name) else { return nil }
        guard let n = Int(text), n > 0, n <= 1_000_000 else { throw CommandUsageError(message: "Invalid value '\(text)' for '--\(name)': use a number from 1 to 1000000") }
        return n
    }

    /// `--since 1h` means one hour ago; an RFC 3339 time is taken as is.
    static func when(_ c: Context, _ name: String) throws -> Int64? {
        guard let text = c.option(name) else { return nil }
        if let s = DurationText.seconds(text) { return Clock.nowMillis() - s * 1000 }
        if let t = Clock.parseRFC3339(text) { return t }
        throw CommandUsageError(message: "Invalid time '\(text)' for '--\(name)': use a duration (1h, 7d) or an RFC 3339 time")
    }

    static func filter(_ c: Context) throws -> AuditFilter {
        var f = AuditFilter()
        f.since = try when(c, "since")
        f.until = try when(c, "until")
        if let s = c.option("source") {
            guard let source = AuditSource(rawValue: s) else { throw CommandUsageError(message: "Invalid source '\(s)': use \(AuditSource.names)") }
            f.source = source
        }
        if let d = c.option("decision") {
            guard let decision = AuditDecision(rawValue: d) else { throw CommandUsageError(message: "Invalid decision '\(d)': use \(AuditDecision.names)") }
            f.decision = decision
        }
        f.email = c.option("email")
        f.clientID = c.option("client")
        f.tokenID = c.option("token")
        f.app = c.option("app")
        f.env = c.option("env")
        f.tool = c.option("tool")
        f.action = c.option("action")
        return f
    }

    static func row(_ r: AuditRecord) -> [String] {
        let who = r.text("email").isEmpty ? (r.text("actor").isEmpty ? "-" : r.text("actor")) : r.text("email")
        let what = [r.text("method"), r.text("tool")].filter { !$0.isEmpty }.joined(separator: " ")
        let on = r.text("app").isEmpty ? "-" : "\(r.text("app"))/\(r.text("env"))"
        return [String(r.seq), r.text("at"), r.text("source"), r.text("action"), who, on, what.isEmpty ? "-" : what,
                r.text("decision").isEmpty ? "-" : r.text("decision"), r.text("status").isEmpty ? "-" : r.text("status"),
                r.text("reason").isEmpty ? "-" : r.text("reason")]
    }

    static let headers = ["SEQ", "AT", "SOURCE", "ACTION", "WHO", "APP/ENV", "CALL", "DECISION", "STATUS", "REASON"]

    static func table(_ records: [AuditRecord], _ c: Context) {
        c.out.table(headers, records.map(row), empty: "No audit events match.")
    }

    static func tail(_ c: Context, _ store: Store) throws -> Int32 {
        var f = try filter(c)
        let n = try intOption(c, "lines") ?? 10
        let latest = try AuditQuery.list(f, limit: n, db: store.db).reversed()
        let headSeq = try AuditLog.head(store.db).seq
        var last = latest.last?.seq ?? headSeq
        let jsonLines = try tailFormat(c) == "jsonl" || c.json
        func emit(_ r: AuditRecord) {
            if jsonLines { Output.write(Output.json(r.json) + "\n") } else { c.out.line(row(r).joined(separator: "  ")) }
        }
        latest.forEach(emit)
        guard c.flag("follow") else { return ExitCode.success }
        var version = try store.db.dataVersion()
        while true {
            usleep(200_000)
            let v = try store.db.dataVersion()
            guard v != version else { continue }
            version = v
            f.afterSeq = last
            try AuditQuery.stream(f, db: store.db) { r in emit(r); last = r.seq }
        }
    }

    /// `tail --format`: `text` (the table's columns, default) or `jsonl` (one `audit list --json` object per line).
    static func tailFormat(_ c: Context) throws -> String {
        let format = c.option("format") ?? "text"
        guard format == "text" || format == "jsonl" else { throw CommandUsageError(message: "Invalid format '\(format)': use text or jsonl") }
        return format
    }

    static func export(_ c: Context, _ store: Store) throws -> Int32 {
        let format = c.option("format") ?? "jsonl"
        guard format == "jsonl" || format == "csv" else { throw CommandUsageError(message: "Invalid format '\(format)': use jsonl or csv") }
        var buffer = ""
        func flush(force: Bool) {
            if force || buffer.utf8.count > 64 * 1024 { Output.write(buffer); buffer = "" }
        }
        if format == "csv" { buffer += AuditRecord.keys.joined(separator: ",") + "\n" }
        // JSON escapes lose nothing; CSV keeps the stored text for files and pipes, escaped only on a terminal.
        let terminal = Output.stdoutIsTTY
        func cell(_ text: String) -> String { csv(terminal ? TerminalText.escape(text) : text) }
        try AuditQuery.stream(try filter(c), db: store.db) { r in
            if format == "csv" {
                buffer += AuditRecord.keys.map { cell(r.text($0)) }.joined(separator: ",") + "\n"
            } else {
                buffer += Output.json(r.json) + "\n"
            }
            flush(force: false)
        }
        flush(force: true)
        return ExitCode.success
    }

    /// RFC 4180 quoting; cells that a spreadsheet would run as a formula are prefixed with a quote.
    static func csv(_ s: String) -> String {
        var v = s
        if let first = v.first, "=+-@".contains(first), !(Double(v) != nil) { v = "'" + v }
        if v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return v
    }
}
