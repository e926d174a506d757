#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HTTP
import Testing

/// `HTTPClient` over https (libcurl, loaded on first use) against a real TLS server: Python's `ssl` module
/// with a certificate made by `openssl` for this run, trusted through `MCPCTL_CA_BUNDLE`.
@Suite(.serialized) struct HTTPSClientTests {
    /// A TLS server on 127.0.0.1 whose certificate names `localhost` and `pinned.invalid`.
    final class TLSServer {
        let process = Process()
        let lifeline = Pipe()
        let port: Int
        let dir: URL

        static let script = #"""
        import http.server, json, os, ssl, sys, threading
        # Ends with the test process: its stdin is a pipe whose other end only the test process holds.
        threading.Thread(target=lambda: (sys.stdin.buffer.read(), os._exit(0)), daemon=True).start()
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *a): pass
            def reply(self, status, body, ctype="application/json", extra=()):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in extra: self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD": self.wfile.write(body)
            def do_GET(self):
                if self.path == "/json": self.reply(200, b'{"ok":true}', extra=[("X-Test", "yes"), ("Cache-Control", "max-age=60")])
                elif self.path == "/redirect": self.reply(302, b"", extra=[("Location", "/json")])
                elif self.path == "/big": self.reply(200, b"x" * 100000, "text/plain")
                else: self.reply(404, b"{}")
            def do_HEAD(self): self.do_GET()
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                self.reply(201, json.dumps({"method": self.command, "body": body.decode(), "auth": self.headers.get("X-Token"),
                                            "expect": self.headers.get("Expect")}).encode())
            do_DELETE = do_POST
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[1], sys.argv[2])
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        print("READY", srv.server_address[1], flush=True)
        srv.serve_forever()
        """#

        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("tls-" + UUID().uuidString)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let openssl = Process()
            openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            openssl.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                                 "-addext", "subjectAltName=DNS:localhost,DNS:pinned.invalid,IP:127.0.0.1",
                                 "-keyout", dir.appendingPathComponent("key.pem").path, "-out", dir.appendingPathComponent("cert.pem").path]
            openssl.standardOutput = FileHandle.nullDevice
            openssl.standardError = FileHandle.nullDevice
            try openssl.run()
            openssl.waitUntilExit()
            guard openssl.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
            let pipe = Pipe()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", TLSServer.script, dir.appendingPathComponent("cert.pem").path,
                                 dir.appendingPathComponent("key.pem").path]
            process.standardOutput = pipe
            process.standardInput = lifeline
            process.standardError = FileHandle.nullDevice
            try process.run()
            var line = ""
            while !line.hasSuffix("\n") {
                let byte = pipe.fileHandleForReading.readData(ofLength: 1)
                guard !byte.isEmpty else { break }
                line += String(decoding: byte, as: UTF8.self)
            }
            guard line.hasPrefix("READY "), let port = Int(line.dropFirst(6).trimmingCharacters(in: .whitespacesAndNewlines)) else {
                process.terminate()
                throw CocoaError(.fileReadUnknown)
            }
            self.port = port
            // The server has loaded its key; only the certificate (the CA bundle) needs to stay.
            try? FileManager.default.removeItem(at: dir.appendingPathComponent("key.pem"))
        }

        var caFile: String { dir.appendingPathComponent("cert.pem").path }

        deinit {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: dir)
        }
    }

    /// One server for the suite; its CA is trusted by every HTTPClient made after this (MCPCTL_CA_BUNDLE).
    nonisolated(unsafe) static var shared: TLSServer?
    static func server() throws -> TLSServer {
        if let shared { return shared }
        let s = try TLSServer()
        setenv("MCPCTL_CA_BUNDLE", s.caFile, 1)
        shared = s
        return s
    }

    @Test func getReturnsStatusHeadersAndBody() throws {
        let s = try HTTPSClientTests.server()
        let client = HTTPClient()
        for _ in 0..<3 {  // again on a reused handle (keep-alive)
            let r = try client.send(HTTPClientRequest(url: URL(string: "https://localhost:\(s.port)/json")!, timeout: 10))
            #expect(r.status == 200)
            #expect(r.headers["x-test"] == "yes" && r.headers["Content-Type"] == "application/json")
            #expect(try r.readAll(limit: 1000) == Array(#"{"ok":true}"#.utf8))
        }
    }

    @Test func postAndOtherMethodsSendTheirBodyAndHeadersWithoutExpectContinue() throws {
        let s = try HTTPSClientTests.server()
        let client = HTTPClient()
        for method in ["POST", "DELETE"] {
            var request = HTTPClientRequest(url: URL(string: "https://localhost:\(s.port)/echo")!, timeout: 10)
            request.method = method
            request.headers["X-Token"] = "t1"
            request.body = Array(String(repeating: "b", count: 5000).utf8)
            let r = try client.send(request)
            #expect(r.status == 201)
            let json = try JSONSerialization.jsonObject(with: Data(try r.readAll(limit: 100_000))) as? [String: Any]
            #expect(json?["method"] as? String == method)
            #expect((json?["body"] as? String)?.count == 5000)
            #expect(json?["auth"] as? String == "t1")
            #expect(json?["expect"] is NSNull)
        }
    }

    @Test func redirectsAreNotFollowedAndLargeBodiesStopAtTheLimit() throws {
        let s = try HTTPSClientTests.server()
        let client = HTTPClient()
        let r = try client.send(HTTPClientRequest(url: URL(string: "https://localhost:\(s.port)/redirect")!, timeout: 10))
        #expect(r.status == 302 && r.headers["Location"] == "/json")
        var big = HTTPClientRequest(url: URL(string: "https://localhost:\(s.port)/big")!, timeout: 10)
        big.responseLimit = 1000
        #expect(throws: HTTPClientError.bodyTooLarge(limit: 1000)) { _ = try client.send(big) }
        big.responseLimit = nil
        #expect(try client.send(big).readAll(limit: 200_000).count == 100_000)
    }

    @Test func aPinnedAddressIsUsedInsteadOfResolvingAndTLSStillChecksTheName() throws {
        let s = try HTTPSClientTests.server()
        let client = HTTPClient()
        // `pinned.invalid` does not resolve; connectTo sends the request to the checked address anyway.
        var pinned = HTTPClientRequest(url: URL(string: "https://pinned.invalid:\(s.port)/json")!, timeout: 10)
        pinned.connectTo = "127.0.0.1"
        #expect(try client.send(pinned).status == 200)
        // A name the certificate does not cover fails verification, even pinned to the right address.
        var wrongName = HTTPClientRequest(url: URL(string: "https://other.invalid:\(s.port)/json")!, timeout: 10)
        wrongName.connectTo = "127.0.0.1"
        #expect(throws: (any Error).self) { _ = try client.send(wrongName) }
        // Without the pin the name does not resolve at all.
        #expect(throws: (any Error).self) {
            _ = try client.send(HTTPClientRequest(url: URL(string: "https://pinned.invalid:\(s.port)/json")!, timeout: 5))
        }
    }
}
