import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `serve --otlp-endpoint`: spans reach a collector that decodes them with the official OpenTelemetry
/// protobuf definitions (Tests/Interop/otlp_receiver.py), driven by the MCP SDK's own client; a collector
/// that is down or never answers costs requests nothing.
@Suite struct TracingInteropTests {
    typealias Span = [String: Any]

    /// Starts the receiver; returns its port and the file it appends decoded spans to.
    func startCollector(_ h: InteropHarness, hang: Bool = false) throws -> (port: Int, out: URL) {
        let out = h.dir.appendingPathComponent("spans.jsonl")
        let (p, stdout, stderr) = try h.spawn(try InteropHarness.python("mcp1"), [
            InteropHarness.scripts.appendingPathComponent("otlp_receiver.py").path, "--out", out.path] + (hang ? ["--hang"] : []))
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let text = (try? String(contentsOf: stdout, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("READY ") }), let port = Int(line.dropFirst(6)) { return (port, out) }
            if !p.isRunning { break }
            usleep(50_000)
        }
        throw InteropHarness.HarnessError("OTLP receiver did not start: \((try? String(contentsOf: stderr, encoding: .utf8)) ?? "")")
    }

    /// A token of alice, a viewer of the built-in app (mcpctl/local).
    func viewerOfTheBuiltInApp(_ h: InteropHarness) throws -> String {
        try h.mcpctl(["user", "add", "alice@example.com"])
        try h.mcpctl(["grant", "add", "alice@example.com", "--app", "mcpctl", "--env", "local", "--role", "viewer"])
        return try h.mcpctl(["token", "create", "--email", "alice@example.com"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A collector, and a server that exports every span to it.
    func tracedServer(_ h: InteropHarness) throws -> (collector: (port: Int, out: URL), server: (url: String, process: Process, log: URL)) {
        let collector = try startCollector(h)
        return (collector, try h.startServer(["--otlp-endpoint", "http://127.0.0.1:\(collector.port)/v1/traces"]))
    }

    func spans(_ out: URL) -> [Span] {
        let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? Span }
    }

    func text(_ url: URL) -> String { (try? String(contentsOf: url, encoding: .utf8)) ?? "" }

    func waitUntil(_ seconds: Double, _ condition: () throws -> Bool) rethrows {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline { if try condition() { return }; usleep(100_000) }
    }

    static func hex(_ bytes: Int) -> String {
        (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    func attribute(_ span: Span, _ key: String) -> Any? { (span["attributes"] as? [String: Any])?[key] }

    @Test func eachMCPRequestIsAServerSpanWithItsStagesUnderTheCallersTraceDecodedByTheOfficialProtoAndHoldingNoSecret() throws {
        let h = InteropHarness()
        let python = try InteropHarness.python("mcp1")
        let key = "sk-live-" + Self.hex(12), otlpSecret = "otlp-" + Self.hex(12)
        h.environment["KEYED_UPSTREAM_KEY"] = key
        h.environment["NOTES_AUTHORIZATION"] = "Bearer \(key)"
        h.environment["OTLP_TOKEN"] = "Bearer \(otlpSecret)"
        let seen = try h.file("seen.jsonl", "")
        let upstream = try h.startKeyedUpstream(["--key-env", "KEYED_UPSTREAM_KEY", "--seen-file", seen])
        defer { h.stopNow(upstream.process) }
        try h.mcpctl(["user", "add", "alice@example.com"])
        try h.mcpctl(["app", "add", "notes", "--env", "prod", "--upstream", "http://127.0.0.1:\(upstream.port)/mcp",
                      "--upstream-header", "Authorization=env:NOTES_AUTHORIZATION"])
        try h.mcpctl(["grant", "add", "alice@example.com", "--app", "notes", "--role", "viewer"])
        let created = try h.mcpctl(["token", "create", "--email", "alice@example.com", "--json"]).json()
        let token = try #require(created["token"] as? String), tokenID = try #require(created["id"] as? String)
        let collector = try startCollector(h)
        // A base URL: /v1/traces is appended.
        let server = try h.startServer(["--otlp-endpoint", "http://127.0.0.1:\(collector.port)",
                                        "--otlp-header", "Authorization=env:OTLP_TOKEN", "--log-level", "debug"])
        let url = "\(server.url)/mcp/notes/prod"
        let traceID = Self.hex(16), callerSpan = Self.hex(8)
        let traced = ["Authorization: Bearer \(token)", "traceparent: 00-\(traceID)-\(callerSpan)-01"]
        let (listed, listOut) = try h.client(python, url: url, headers: traced, ["list-tools"])
        #expect(listed == 0, "\(listOut)")
        let (called, callOut) = try h.client(python, url: url, headers: traced, ["call", "report"])
        #expect(called == 0 && (callOut["content"] as? [String]) == ["all notes are fine"], "\(callOut)")
        // A denied request without a trace of its own starts a new one.
        #expect(MetricsInteropTests.post(url, body: #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
                                         headers: ["Authorization": "Bearer mcp_pat_not-a-real-token"]) == 401)
        let auditedRequests = try h.mcpAuditRows().count
        waitUntil(30) { spans(collector.out).filter { $0["kind"] as? Int == 2 }.count >= auditedRequests }
        h.stop(server.process)

        let all = spans(collector.out)
        #expect(text(collector.out.appendingPathExtension("errors")).isEmpty, "the official decoder refused a body")
        let servers = all.filter { $0["kind"] as? Int == 2 }
        #expect(servers.count == auditedRequests, "one server span per audited request: \(servers.count) of \(auditedRequests)")
        #expect(all.allSatisfy { ($0["resource"] as? [String: Any])?["service.name"] as? String == "mcpctl" })

        // Every request of the SDK's sessions sits under the caller's span, in the caller's trace.
        let allowed = servers.filter { attribute($0, "mcpctl.decision") as? String == "allow" }
        #expect(allowed.count >= 4, "initialize, initialized, tools/list, tools/call: \(allowed.map { $0["name"] ?? "" })")
        for s in allowed {
            #expect(s["traceId"] as? String == traceID && s["parentSpanId"] as? String == callerSpan, "\(s)")
            #expect(attribute(s, "url.path") as? String == "/mcp/notes/prod" && attribute(s, "mcpctl.app") as? String == "notes")
            let children = all.filter { $0["parentSpanId"] as? String == s["spanId"] as? String }
            #expect(children.allSatisfy { $0["traceId"] as? String == traceID })
            let names = Set(children.map { $0["name"] as? String ?? "" })
            #expect(names.isSuperset(of: ["authenticate", "authorize", "audit write"]), "\(names)")
            if attribute(s, "http.request.method") as? String == "POST" {
                #expect(children.filter { $0["kind"] as? Int == 3 }.count == 1, "one upstream call (client span) under \(s["name"] ?? "")")
            }
        }
        let call = try #require(allowed.first { $0["name"] as? String == "tools/call report" }, "\(allowed.map { $0["name"] ?? "" })")
        #expect(attribute(call, "mcp.method.name") as? String == "tools/call" && attribute(call, "gen_ai.tool.name") as? String == "report")
        #expect(attribute(call, "http.response.status_code") as? Int == 200 && attribute(call, "http.request.method") as? String == "POST")
        let callUpstream = try #require(all.first { $0["parentSpanId"] as? String == call["spanId"] as? String && $0["kind"] as? Int == 3 })
        #expect(attribute(callUpstream, "server.address") as? String == "127.0.0.1" && attribute(callUpstream, "server.port") as? Int == upstream.port)

        // The upstream was told the upstream call's span as its parent (a tool-list refresh goes out as the caller's request).
        let clientSpans = Set(all.filter { $0["kind"] as? Int == 3 }.compactMap { $0["spanId"] as? String })
        let sent = text(URL(fileURLWithPath: seen)).split(separator: "\n").compactMap {
            ((try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: [String]])?["traceparent"]?.first
        }
        #expect(!sent.isEmpty)
        for value in sent {
            let parts = value.split(separator: "-").map(String.init)
            #expect(parts.count == 4 && parts[1] == traceID && (clientSpans.contains(parts[2]) || parts[2] == callerSpan), "\(value)")
        }
        #expect(sent.contains { clientSpans.contains(String($0.split(separator: "-")[2])) })

        // The denied request: a new trace, its authentication span marked as the error.
        let denied = try #require(servers.first { attribute($0, "http.response.status_code") as? Int == 401 })
        #expect(denied["traceId"] as? String != traceID && (denied["parentSpanId"] as? String ?? "").isEmpty)
        let failed = all.filter { $0["parentSpanId"] as? String == denied["spanId"] as? String && $0["status"] as? Int == 2 }
        #expect(failed.map { $0["name"] as? String } == ["authenticate"])

        // No credential, token id, email or the collector's own header value in any byte sent to it, nor in the log.
        let raw = text(collector.out.appendingPathExtension("raw"))
        #expect(raw.contains(traceID))
        for secret in [token, tokenID, key, "alice@example.com", otlpSecret, "not-a-real-token"] {
            #expect(!raw.contains(secret), "a span carries \(secret.prefix(8))…")
        }
        let headers = text(collector.out.appendingPathExtension("headers"))
        #expect(headers.contains("Bearer \(otlpSecret)"), "the --otlp-header reached the collector")
        #expect(!text(server.log).contains(otlpSecret))
    }

    /// The collector's credential never goes over plain http to another host; spans alone may (a collector
    /// in the same cluster, `http://otel-collector:4318`).
    @Test func aCollectorCredentialIsRefusedOverPlainHttpToANonLoopbackHost() throws {
        let h = InteropHarness()
        try h.mcpctl(["init"])
        h.environment["OTLP_TOKEN"] = "collector-credential"
        for url in ["http://otel-collector.example:4318", "http://10.0.0.7:4318", "HTTP://[fd00::1]:4318"] {
            let r = try h.run(InteropHarness.binary, ["serve", "--otlp-endpoint", url, "--otlp-header", "Authorization=env:OTLP_TOKEN"])
            #expect(r.status == 64 && r.stderr.contains("use https") && !r.stderr.contains("collector-credential"), "\(url): \(r.status) \(r.stderr)")
        }
    }

    @Test func aTraceparentInMetaWinsOverTheHeaderAnInvalidOneStartsANewTraceAndAnUnsampledOneIsNotExported() throws {
        let h = InteropHarness()
        let token = try viewerOfTheBuiltInApp(h)
        let (collector, server) = try tracedServer(h)
        let url = server.url + "/mcp/mcpctl/local"
        let (headerTrace, metaTrace, unsampledTrace) = (Self.hex(16), Self.hex(16), Self.hex(16))
        let (metaSpan, unsampledSpan) = (Self.hex(8), Self.hex(8))
        func list(_ traceparent: String, meta: String? = nil) -> Int? {
            let params = meta.map { #"{"_meta":{"traceparent":"\#($0)"}}"# } ?? "{}"
            return MetricsInteropTests.post(url, body: #"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":\#(params)}"#,
                                            headers: ["Authorization": "Bearer \(token)", "traceparent": traceparent])
        }
        #expect(list("00-\(headerTrace)-\(Self.hex(8))-01", meta: "00-\(metaTrace)-\(metaSpan)-01") == 200)
        #expect(list("00-\(unsampledTrace)-\(unsampledSpan)-00") == 200)
        #expect(list("00-\(Self.hex(16).uppercased())-\(Self.hex(8))-01") == 200)  // W3C Trace Context: lowercase hex only
        waitUntil(30) { spans(collector.out).filter { $0["kind"] as? Int == 2 }.count >= 2 }
        h.stop(server.process)

        let servers = spans(collector.out).filter { $0["kind"] as? Int == 2 }
        #expect(servers.count == 2, "the unsampled request is not exported: \(servers.count)")
        #expect(servers.contains { $0["traceId"] as? String == metaTrace && $0["parentSpanId"] as? String == metaSpan })
        #expect(!servers.contains { $0["traceId"] as? String == headerTrace || $0["traceId"] as? String == unsampledTrace })
        #expect(servers.contains { $0["traceId"] as? String != metaTrace && ($0["parentSpanId"] as? String ?? "").isEmpty },
                "an invalid traceparent starts a new trace")
    }

    @Test func textThatJSONMustEscapeAndALongTracestateReachTheCollectorExactlyAsSent() throws {
        let h = InteropHarness()
        let token = try viewerOfTheBuiltInApp(h)
        let (collector, server) = try tracedServer(h)
        // Quotation mark, reverse solidus, control characters (RFC 8259 §7 escapes them) and multi-byte UTF-8.
        let tool = "we\"ird\\tool\n\t\u{01}\u{1F}é😀"
        let body = try JSONSerialization.data(withJSONObject: ["jsonrpc": "2.0", "id": 1, "method": "tools/call",
                                                               "params": ["name": tool, "arguments": [String: String]()]])
        // 30 list members (W3C Trace Context §3.3.1.1 allows 32), under the 512 bytes the gateway keeps.
        let state = (0..<30).map { "v\($0)=\(Self.hex(6))" }.joined(separator: ",")
        let traceID = Self.hex(16)
        let status = MetricsInteropTests.post(server.url + "/mcp/mcpctl/local", body: String(decoding: body, as: UTF8.self),
                                              headers: ["Authorization": "Bearer \(token)", "traceparent": "00-\(traceID)-\(Self.hex(8))-01",
                                                        "tracestate": state])
        #expect(status != nil)
        waitUntil(30) { spans(collector.out).contains { $0["kind"] as? Int == 2 } }
        h.stop(server.process)

        #expect(text(collector.out.appendingPathExtension("errors")).isEmpty, "the official decoder refused a body")
        let traced = spans(collector.out).filter { $0["traceId"] as? String == traceID }
        let call = try #require(traced.first { $0["kind"] as? Int == 2 })
        #expect(call["name"] as? String == "tools/call \(tool)")
        #expect(attribute(call, "gen_ai.tool.name") as? String == tool)
        #expect(traced.count >= 3 && traced.allSatisfy { $0["traceState"] as? String == state }, "\(traced.map { $0["name"] ?? "" })")
    }

    @Test func aRatioSamplerOfZeroExportsOnlyTracesTheCallerSampledAndABadRatioStopsServe() throws {
        let h = InteropHarness()
        let token = try viewerOfTheBuiltInApp(h)
        h.environment["OTEL_TRACES_SAMPLER"] = "parentbased_traceidratio"
        h.environment["OTEL_TRACES_SAMPLER_ARG"] = "1.5"
        let bad = try h.run(InteropHarness.binary, ["serve", "--otlp-endpoint", "http://127.0.0.1:9"])
        #expect(bad.status == 64 && bad.stderr.contains("OTEL_TRACES_SAMPLER_ARG"), "\(bad.stderr)")
        h.environment["OTEL_TRACES_SAMPLER_ARG"] = "0"
        let collector = try startCollector(h)
        // The standard variable alone turns tracing on, used as the full traces URL.
        h.environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = "http://127.0.0.1:\(collector.port)/v1/traces"
        let server = try h.startServer()
        let url = server.url + "/mcp/mcpctl/local"
        let list = #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#
        for _ in 0..<5 { #expect(MetricsInteropTests.post(url, body: list, headers: ["Authorization": "Bearer \(token)"]) == 200) }
        let traceID = Self.hex(16)
        #expect(MetricsInteropTests.post(url, body: list, headers: ["Authorization": "Bearer \(token)", "traceparent": "00-\(traceID)-\(Self.hex(8))-01"]) == 200)
        waitUntil(30) { !spans(collector.out).isEmpty }
        h.stop(server.process)
        let servers = spans(collector.out).filter { $0["kind"] as? Int == 2 }
        #expect(servers.map { $0["traceId"] as? String } == [traceID], "only the caller's sampled trace: \(servers.count)")
    }

    @Test(arguments: [false, true])
    func requestsAreAnsweredAndSpansCountedAsDroppedWhileTheCollectorIsDownOrNeverAnswers(collectorHangs: Bool) throws {
        let h = InteropHarness()
        let token = try viewerOfTheBuiltInApp(h)
        let port = collectorHangs ? try startCollector(h, hang: true).port : InteropHarness.freePort()
        let metricsPort = InteropHarness.freePort()
        let server = try h.startServer(["--otlp-endpoint", "http://127.0.0.1:\(port)/v1/traces", "--metrics-listen", "127.0.0.1:\(metricsPort)"])
        let list = #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#
        var statuses: [Int] = []
        for round in 0..<3 {
            for _ in 0..<10 { statuses.append(MetricsInteropTests.post(server.url + "/mcp/mcpctl/local", body: list, headers: ["Authorization": "Bearer \(token)"]) ?? -1) }
            if round < 2 { usleep(1_200_000) }  // past the export interval: the exporter is now sending (or stuck)
        }
        #expect(statuses == Array(repeating: 200, count: 30), "\(statuses)")
        let metrics = "http://127.0.0.1:\(metricsPort)/metrics"
        var scrape = try MetricsInteropTests().scrape(h, metrics)
        waitUntil(40) {
            scrape = (try? MetricsInteropTests().scrape(h, metrics)) ?? scrape
            return scrape.value("mcpctl_trace_spans_dropped_total", ["reason": "export_failed"]) > 0
        }
        #expect(scrape.value("mcpctl_trace_spans_dropped_total", ["reason": "export_failed"]) > 0)
        #expect(scrape.value("mcpctl_trace_spans_exported_total") == 0)
        #expect(scrape.types["mcpctl_trace_spans_dropped"] == "counter")
        h.stop(server.process)
        #expect(server.process.terminationStatus == 0)
        #expect(text(server.log).contains("trace export failed"))
    }
}
