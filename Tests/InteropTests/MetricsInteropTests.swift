import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `serve --metrics-listen`: GET /metrics on a second listener, read by Prometheus's own text parser
/// (prometheus-client, through Tests/Interop/metrics_check.py).
@Suite struct MetricsInteropTests {
    static func post(_ url: String, body: String, headers: [String: String] = [:]) -> Int? {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json, text/event-stream", forHTTPHeaderField: "Accept")
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        return AuditForwardInteropTests.send(request)
    }

    struct Scrape {
        let samples: [(name: String, labels: [String: String], value: Double)]
        let types: [String: String]
        let contentType: String
        let text: String

        func value(_ name: String, _ labels: [String: String] = [:]) -> Double {
            samples.filter { sample in sample.name == name && labels.allSatisfy { k, v in sample.labels[k] == v } }.reduce(0) { $0 + $1.value }
        }
    }

    func scrape(_ h: InteropHarness, _ url: String) throws -> Scrape {
        let r = try h.run(try InteropHarness.python("mcp1"), [InteropHarness.scripts.appendingPathComponent("metrics_check.py").path, url])
        #expect(r.status == 0, "the Prometheus parser refused the page: \(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let samples = (o["samples"] as? [[Any]] ?? []).map { s in
            (s[0] as? String ?? "", s[1] as? [String: String] ?? [:], (s[2] as? NSNumber)?.doubleValue ?? -1)
        }
        return Scrape(samples: samples, types: o["types"] as? [String: String] ?? [:], contentType: o["content_type"] as? String ?? "", text: o["text"] as? String ?? "")
    }

    /// One POST /login as a browser sends it (the form's CSRF token and cookie from a GET first), by curl; the status.
    func signIn(_ h: InteropHarness, _ base: String, _ email: String, _ password: String) throws -> Int {
        let jar = h.dir.appendingPathComponent("jar-\(UUID().uuidString)").path
        let r = try h.run("/bin/sh", ["-c", """
            page=$(curl -s -c "$4" "$0/login")
            csrf=$(printf '%s' "$page" | sed -n 's/.*name="csrf" value="\\([^"]*\\)".*/\\1/p' | head -n 1)
            curl -s -o /dev/null -w '%{http_code}' -b "$4" -c "$4" --data-urlencode "csrf=$csrf" --data-urlencode "email=$1" \\
                 --data-urlencode "password=$2" --data-urlencode "next=$3" "$0/login"
            """, base, email, password, "/account", jar])
        return Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    @Test func countsParseWithPrometheusAndHoldNoEmailsTokenIdsOrUnknownAppNames() throws {
        let h = InteropHarness()
        try h.mcpctl(["user", "add", "alice@example.com"])
        try h.mcpctl(["grant", "add", "alice@example.com", "--app", "mcpctl", "--env", "local", "--role", "viewer"])
        let created = try h.mcpctl(["token", "create", "--email", "alice@example.com", "--json"]).json()
        let token = try #require(created["token"] as? String), tokenID = try #require(created["id"] as? String)
        let metricsPort = InteropHarness.freePort()
        let server = try h.startServer(["--metrics-listen", "127.0.0.1:\(metricsPort)"])
        let endpoint = server.url + "/mcp/mcpctl/local"
        let list = #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#
        for _ in 0..<3 { #expect(Self.post(endpoint, body: list, headers: ["Authorization": "Bearer \(token)"]) == 200) }
        for _ in 0..<2 { #expect(Self.post(endpoint, body: list, headers: ["Authorization": "Bearer mcp_pat_not-a-real-token"]) == 401) }
        #expect(Self.post(server.url + "/mcp/attacker-chosen-name/x", body: list, headers: ["X-MCPCTL-Email": "alice@example.com"]) == 401)

        // Password sign-ins: one right, two wrong, then wrong ones until the throttle answers 429.
        try h.addUser("bob@example.com", password: "correct horse battery staple")
        #expect(try signIn(h, server.url, "bob@example.com", "correct horse battery staple") == 303)
        var statuses: [Int] = []
        for _ in 0..<7 { statuses.append(try signIn(h, server.url, "bob@example.com", "wrong password")) }
        #expect(statuses.contains(429), "\(statuses)")

        let s = try scrape(h, "http://127.0.0.1:\(metricsPort)/metrics")
        #expect(s.value("mcpctl_sign_ins_total", ["outcome": "success"]) == 1)
        #expect(s.value("mcpctl_sign_ins_total", ["outcome": "failure"]) == Double(statuses.filter { $0 == 303 }.count))
        #expect(s.value("mcpctl_sign_ins_total", ["outcome": "throttled"]) == Double(statuses.filter { $0 == 429 }.count))
        #expect(!s.text.contains("bob@example.com"))
        #expect(s.contentType.hasPrefix("text/plain; version=0.0.4"))
        #expect(s.types["mcpctl_requests"] == "counter" && s.types["mcpctl_gateway_overhead_seconds"] == "histogram")
        #expect(s.value("mcpctl_requests_total", ["app": "mcpctl", "env": "local", "decision": "allow", "status": "200"]) == 3)
        #expect(s.value("mcpctl_requests_total", ["app": "mcpctl", "env": "local", "decision": "deny", "status": "401"]) == 2)
        #expect(s.value("mcpctl_requests_total", ["app": "unknown", "env": "unknown", "decision": "deny", "status": "401"]) == 1)
        #expect(s.value("mcpctl_token_checks_total", ["result": "valid"]) == 3)
        #expect(s.value("mcpctl_gateway_overhead_seconds_count") == 6)
        #expect(s.value("mcpctl_gateway_overhead_seconds_bucket", ["le": "+Inf"]) == 6)
        #expect(s.value("mcpctl_upstream_duration_seconds_count", ["app": "mcpctl", "env": "local"]) == 3)
        #expect(s.value("mcpctl_audit_commit_seconds_count") == 6)
        #expect(s.value("mcpctl_audit_queue_depth") == 0)
        // Nothing that names a person, a credential or an attacker's chosen path reaches a label.
        for secretish in ["alice@example.com", tokenID, token, "attacker-chosen-name", "not-a-real-token"] {
            #expect(!s.text.contains(secretish), "/metrics shows \(secretish)")
        }
        // The public listener does not serve it.
        let main = (try? Data(contentsOf: URL(string: server.url + "/metrics")!)) ?? Data()
        #expect(!String(decoding: main, as: UTF8.self).contains("mcpctl_requests_total"))
        h.stop(server.process)
    }

    @Test func requestsOverTheUnauthenticatedAllowanceAreCountedAsRateLimited() throws {
        let h = InteropHarness()
        try h.mcpctl(["init"])
        let metricsPort = InteropHarness.freePort()
        let server = try h.startServer(["--metrics-listen", "127.0.0.1:\(metricsPort)", "--unauthenticated-rate", "2"])
        let list = #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#
        let statuses = (0..<5).map { _ in Self.post(server.url + "/mcp/mcpctl/local", body: list) ?? -1 }
        #expect(statuses.filter { $0 == 429 }.count >= 1, "\(statuses)")
        let s = try scrape(h, "http://127.0.0.1:\(metricsPort)/metrics")
        #expect(s.value("mcpctl_rate_limited_total") == Double(statuses.filter { $0 == 429 }.count))
        #expect(s.value("mcpctl_requests_total", ["decision": "deny", "status": "401"]) == Double(statuses.filter { $0 == 401 }.count))
        h.stop(server.process)
    }

    @Test func anUnreachableUpstreamIsCountedAsAnUpstreamError() throws {
        let h = InteropHarness()
        try h.mcpctl(["user", "add", "alice@example.com"])
        try h.mcpctl(["app", "add", "notes", "--env", "prod", "--upstream", "http://127.0.0.1:\(InteropHarness.freePort())/mcp"])
        try h.mcpctl(["grant", "add", "alice@example.com", "--app", "notes", "--env", "prod", "--role", "viewer"])
        let token = try h.mcpctl(["token", "create", "--email", "alice@example.com"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let metricsPort = InteropHarness.freePort()
        let server = try h.startServer(["--metrics-listen", "127.0.0.1:\(metricsPort)"])
        let status = Self.post(server.url + "/mcp/notes/prod", body: #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
                               headers: ["Authorization": "Bearer \(token)"])
        #expect(status == 502, "\(String(describing: status))")
        let s = try scrape(h, "http://127.0.0.1:\(metricsPort)/metrics")
        #expect(s.value("mcpctl_upstream_errors_total", ["app": "notes", "env": "prod"]) == 1)
        #expect(s.value("mcpctl_upstream_duration_seconds_count", ["app": "notes", "env": "prod"]) == 1)
        #expect(s.value("mcpctl_requests_total", ["app": "notes", "env": "prod", "status": "502"]) == 1)
        h.stop(server.process)
    }
}
