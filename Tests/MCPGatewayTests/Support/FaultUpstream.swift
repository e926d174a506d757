import Foundation

/// A real upstream process that misbehaves on purpose (plain python3, no packages), to inject faults.
/// HTTP modes: `hang` (reads the request, never answers), `big N` (answers with a JSON body of about N
/// bytes), `sse N` (the same as one Server-Sent Event), `idle S` (answers at once; closes a keep-alive
/// connection idle for S seconds), `drop` (reads the request, closes without answering), `chunked N` (the
/// `big` answer framed in chunks), `interim S` (sends `100 Continue` heads without end for S seconds, then
/// closes), `stall N` (a connection's first request gets a small answer; each later one the `big` answer's
/// head and first 100 bytes, then the rest 1.5 s later). Stdio modes: `stdio-hang` (never answers), `stdio-noline N` (answers
/// initialize with N bytes and no newline), `stdio-stderr S` (floods stderr for S seconds, answers
/// initialize).
final class FaultUpstream: @unchecked Sendable {
    let process = Process()
    let port: Int

    static let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"

    static let source = #"""
import json, sys, threading, time
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

mode = sys.argv[1]
arg = float(sys.argv[2]) if len(sys.argv) > 2 else 0

def answer(rid, size):
    return json.dumps({"jsonrpc": "2.0", "id": rid, "result": {"blob": "x" * int(size), "protocolVersion": "2025-11-25",
                       "capabilities": {}, "serverInfo": {"name": "fault", "version": "1"}}})

if mode.startswith("stdio-"):
    if mode == "stdio-stderr":
        def flood():
            end = time.time() + arg
            n = 0
            while time.time() < end:
                n += 1
                sys.stderr.write("flood line %d %s\n" % (n, "e" * 60))
            sys.stderr.flush()
        threading.Thread(target=flood, daemon=True).start()
    for line in sys.stdin:
        msg = json.loads(line)
        if "id" not in msg or mode == "stdio-hang":
            continue
        if mode == "stdio-noline":
            sys.stdout.write("x" * int(arg))
            sys.stdout.flush()
            time.sleep(3600)
        sys.stdout.write(answer(msg["id"], 0) + "\n")
        sys.stdout.flush()
    sys.exit(0)

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        rid = json.loads(body).get("id")
        if mode == "hang":
            time.sleep(3600)
            return
        if mode == "drop":
            self.close_connection = True
            return
        if mode == "interim":
            end = time.time() + arg
            try:
                while time.time() < end:
                    self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n" * 256)
            except OSError:
                pass
            self.close_connection = True
            return
        ctype = "application/json"
        served = getattr(self, "served", 0)
        self.served = served + 1
        stalls = mode == "stall" and served > 0
        payload = answer(rid, arg if mode in ("big", "sse", "chunked") or stalls else 0)
        if mode == "sse":
            ctype = "text/event-stream"
            payload = "event: message\ndata: " + payload + "\n\n"
        data = payload.encode()
        if mode == "chunked":
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(data), 4096):
                part = data[i:i + 4096]
                self.wfile.write(b"%x\r\n" % len(part) + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if stalls:
            self.wfile.write(data[:100])
            self.wfile.flush()
            time.sleep(1.5)
            data = data[100:]
        self.wfile.write(data)

if mode == "idle":
    Handler.timeout = arg  # an idle keep-alive connection times out and is closed by the server
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print("READY %d" % server.server_address[1], flush=True)
server.serve_forever()
"""#

    /// The command line of a stdio fault server (for `Apps.add(command:)`).
    static func stdioCommand(_ mode: String, _ arg: Int = 0, dir: String) throws -> [String] {
        let path = dir + "/fault_upstream.py"
        try source.write(toFile: path, atomically: true, encoding: .utf8)
        return [python, "-u", path, mode, String(arg)]
    }

    /// Starts an HTTP fault server and waits for its port.
    init(_ mode: String, _ arg: Double = 0, dir: String) throws {
        let path = dir + "/fault_upstream.py"
        try FaultUpstream.source.write(toFile: path, atomically: true, encoding: .utf8)
        let out = Pipe()
        process.executableURL = URL(fileURLWithPath: FaultUpstream.python)
        process.arguments = ["-u", path, mode, String(arg)]
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        guard line.hasPrefix("READY "), let p = Int(line.dropFirst(6).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw CocoaError(.fileReadCorruptFile)
        }
        port = p
    }

    var url: String { "http://127.0.0.1:\(port)/mcp" }

    func close() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { close() }
}
