import Foundation
import Testing

/// The files in contrib/: the systemd unit's sandbox rating, and the nginx site carrying the MCP SDK's own
/// client over https (a CA made here, nginx started here) to `mcpctl serve`.
@Suite struct ContribInteropTests {
    static let contrib = InteropHarness.root.appendingPathComponent("contrib")

    @Test func theSystemdUnitIsRatedMediumOrBetter() throws {
        let h = InteropHarness()
        let r = try h.run("/usr/bin/systemd-analyze", ["security", "--offline=true", "--no-pager",
                                                        ContribInteropTests.contrib.appendingPathComponent("mcpctl.service").path])
        let line = try #require(r.stdout.split(separator: "\n").first { $0.contains("Overall exposure level") }, "\(r.stdout)\(r.stderr)")
        #expect(["OK", "LOW", "MEDIUM"].contains { line.contains(" \($0) ") }, "\(line)")
        #expect(!r.stderr.contains("Unknown") && !r.stderr.contains("Failed to parse"), "\(r.stderr)")
    }

    /// A CA and a certificate for localhost signed by it, in `d`: ca.pem, site.pem, site.key.
    func makeCertificates(_ h: InteropHarness, in d: String) throws {
        let pki = try h.run("/bin/sh", ["-c", """
            set -e; cd "$0"
            openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=mcpctl-test-ca 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -keyout site.key -out site.csr -subj /CN=localhost 2>/dev/null
            printf 'subjectAltName=DNS:localhost\\n' > san.ext
            openssl x509 -req -in site.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out site.pem -days 1 -extfile san.ext 2>/dev/null
            """, d])
        #expect(pki.status == 0, "\(pki.stderr)")
    }

    /// A CA, a certificate for localhost signed by it, and the nginx main configuration around contrib's site
    /// file (its ports and certificate paths replaced, nothing else).
    func startNginx(_ h: InteropHarness, tlsPort: Int, plainPort: Int, upstream: String) throws -> (ca: String, process: Process) {
        let d = h.dir.appendingPathComponent("nginx").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        try makeCertificates(h, in: d)
        var site = try String(contentsOf: ContribInteropTests.contrib.appendingPathComponent("nginx/mcpctl.conf"), encoding: .utf8)
        site = site.replacingOccurrences(of: "/etc/letsencrypt/live/mcp.example.com/fullchain.pem", with: d + "/site.pem")
            .replacingOccurrences(of: "/etc/letsencrypt/live/mcp.example.com/privkey.pem", with: d + "/site.key")
            .replacingOccurrences(of: "listen 443 ssl http2;", with: "listen 127.0.0.1:\(tlsPort) ssl http2;")
            .replacingOccurrences(of: "listen 80;", with: "listen 127.0.0.1:\(plainPort);")
            .split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains("listen [::]") }.joined(separator: "\n")
        #expect(site.contains("proxy_pass http://127.0.0.1:8000;"))
        site = site.replacingOccurrences(of: "http://127.0.0.1:8000", with: upstream)
        try site.write(toFile: d + "/site.conf", atomically: true, encoding: .utf8)
        try """
            pid \(d)/nginx.pid;
            error_log \(d)/error.log;
            daemon off;
            events {}
            http {
                access_log off;
                client_body_temp_path \(d)/body; proxy_temp_path \(d)/proxy; fastcgi_temp_path \(d)/f; uwsgi_temp_path \(d)/u; scgi_temp_path \(d)/s;
                include \(d)/site.conf;
            }
            """.write(toFile: d + "/nginx.conf", atomically: true, encoding: .utf8)
        let (p, _, err) = try h.spawn("/usr/sbin/nginx", ["-c", d + "/nginx.conf", "-p", d])
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if Self.accepts(port: tlsPort) { return (d + "/ca.pem", p) }
            if !p.isRunning { break }
            usleep(50_000)
        }
        throw InteropHarness.HarnessError("nginx did not start: \((try? String(contentsOf: err, encoding: .utf8)) ?? "")")
    }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }

    @Test func theNginxSiteCarriesAnMCPClientOverHTTPS() throws {
        let h = InteropHarness()
        try h.mcpctl(["user", "add", "alice@example.com"])
        try h.mcpctl(["grant", "add", "alice@example.com", "--app", "mcpctl", "--env", "local", "--role", "viewer"])
        let token = try h.mcpctl(["token", "create", "--email", "alice@example.com"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let tlsPort = InteropHarness.freePort(), plainPort = InteropHarness.freePort()
        let publicURL = "https://localhost:\(tlsPort)"
        let server = try h.startServer(["--public-url", publicURL, "--trusted-proxy", "127.0.0.1"])
        let nginx = try startNginx(h, tlsPort: tlsPort, plainPort: plainPort, upstream: server.url)
        defer { kill(nginx.process.processIdentifier, SIGTERM); nginx.process.waitUntilExit(); h.stop(server.process) }
        h.environment["SSL_CERT_FILE"] = nginx.ca     // the SDK's httpx trusts the test CA
        h.environment["MCPCTL_CA_BUNDLE"] = nginx.ca   // and so does doctor
        let python = try InteropHarness.python("mcp1")
        let (status, listed) = try h.client(python, url: publicURL + "/mcp/mcpctl/local", headers: ["Authorization: Bearer \(token)"], ["list-tools"])
        #expect(status == 0, "\(listed)")
        #expect((listed["tools"] as? [String])?.contains("whoami") == true, "\(listed)")
        // Without a token the 401 names the resource metadata under the public https URL, through the proxy.
        let (denied, refusal) = try h.client(python, url: publicURL + "/mcp/mcpctl/local", headers: [], ["list-tools"])
        #expect(denied == 3 && refusal["status"] as? Int == 401, "\(refusal)")
        #expect((refusal["www_authenticate"] as? String)?.contains(publicURL + "/.well-known/oauth-protected-resource/mcp/mcpctl/local") == true, "\(refusal)")
        // Through the proxy the metadata's issuer is byte-identical to the public URL.
        let doctor = try h.run(InteropHarness.binary, ["doctor", "--json", "--public-url", publicURL])
        #expect(doctor.stdout.contains("\"check\":\"public url\",\"status\":\"ok\"") || doctor.stdout.contains("metadata reachable, issuer \(publicURL)"), "\(doctor.stdout)")
        // The audit row names the client's address as forwarded by nginx.
        let rows = try h.mcpctl(["audit", "list", "--json", "--source", "mcp", "--limit", "5"]).stdout
        #expect(rows.contains("\"remote_addr\": \"127.0.0.1\"") || rows.contains("\"remote_addr\":\"127.0.0.1\""))
    }

    /// Caddy with contrib's Caddyfile: the server's port is the test's, the site address becomes localhost on a test port with the test CA's
    /// certificate (instead of an ACME certificate), and global options keep Caddy's admin API and storage
    /// out of the way; the site block is otherwise as written.
    @Test func theCaddyfileCarriesAnMCPClientOverHTTPS() throws {
        let h = InteropHarness()
        try h.mcpctl(["user", "add", "alice@example.com"])
        try h.mcpctl(["grant", "add", "alice@example.com", "--app", "mcpctl", "--env", "local", "--role", "viewer"])
        let token = try h.mcpctl(["token", "create", "--email", "alice@example.com"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let tlsPort = InteropHarness.freePort()
        let publicURL = "https://localhost:\(tlsPort)"
        let server = try h.startServer(["--public-url", publicURL, "--trusted-proxy", "127.0.0.1"])
        defer { h.stop(server.process) }
        let d = h.dir.appendingPathComponent("caddy").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        try makeCertificates(h, in: d)
        var site = try String(contentsOf: ContribInteropTests.contrib.appendingPathComponent("Caddyfile"), encoding: .utf8)
        #expect(site.contains("mcp.example.com {") && site.contains("reverse_proxy 127.0.0.1:8000"))
        site = site.replacingOccurrences(of: "127.0.0.1:8000", with: server.url.replacingOccurrences(of: "http://", with: ""))
        site = site.replacingOccurrences(of: "mcp.example.com {", with: "https://localhost:\(tlsPort) {\n    tls \(d)/site.pem \(d)/site.key")
        try ("{\n    admin off\n    auto_https disable_redirects\n    storage file_system \(d)/data\n}\n\n" + site)
            .write(toFile: d + "/Caddyfile", atomically: true, encoding: .utf8)
        h.environment["HOME"] = d
        h.environment["XDG_DATA_HOME"] = d
        h.environment["XDG_CONFIG_HOME"] = d
        let (caddy, _, err) = try h.spawn("/usr/bin/caddy", ["run", "--config", d + "/Caddyfile", "--adapter", "caddyfile"])
        defer { kill(caddy.processIdentifier, SIGTERM); caddy.waitUntilExit() }
        let deadline = Date().addingTimeInterval(20)
        while !Self.accepts(port: tlsPort) && caddy.isRunning && Date() < deadline { usleep(50_000) }
        #expect(Self.accepts(port: tlsPort), "caddy did not start: \((try? String(contentsOf: err, encoding: .utf8)) ?? "")")
        h.environment["SSL_CERT_FILE"] = d + "/ca.pem"
        h.environment["MCPCTL_CA_BUNDLE"] = d + "/ca.pem"
        let python = try InteropHarness.python("mcp1")
        let (status, listed) = try h.client(python, url: publicURL + "/mcp/mcpctl/local", headers: ["Authorization: Bearer \(token)"], ["list-tools"])
        #expect(status == 0, "\(listed)")
        #expect((listed["tools"] as? [String])?.contains("whoami") == true, "\(listed)")
        let (denied, refusal) = try h.client(python, url: publicURL + "/mcp/mcpctl/local", headers: [], ["list-tools"])
        #expect(denied == 3 && refusal["status"] as? Int == 401, "\(refusal)")
        let doctor = try h.run(InteropHarness.binary, ["doctor", "--json", "--public-url", publicURL])
        #expect(doctor.stdout.contains("metadata reachable, issuer \(publicURL)"), "\(doctor.stdout)")
    }
}
