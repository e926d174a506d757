import Foundation
import HTTP
import MCPAuth
import MCPGateway
import Testing

/// Upstream credential references: parsed and validated at input, resolved by the gateway, sent only to
/// their own upstream, and never echoed.
@Suite struct UpstreamCredentialTests {
    @Test func referencesAreParsedAndHeadersThatFrameOrRouteTheRequestAreRefused() throws {
        let ok = try UpstreamCredential.parse("Authorization=env:GITHUB_TOKEN", kind: .header)
        #expect(ok.credential == UpstreamCredential(name: "Authorization", source: .environment("GITHUB_TOKEN")))
        #expect(try UpstreamCredential.parse("X-Api-Key=file:/etc/key", kind: .header).credential?.reference == "file:/etc/key")
        for name in ["Host", "content-length", "Transfer-Encoding", "Connection", "Cookie", "Mcp-Session-Id", "MCP-Protocol-Version", "Proxy-Authorization"] {
            #expect(throws: DomainError.self, "\(name)") { try UpstreamCredential.parse("\(name)=env:X", kind: .header) }
        }
        for bad in ["X Key=env:X", "=env:X", "X-Key=env:1X", "X-Key=file:relative/path", "X-Key", "X\r\nInjected: 1=env:X"] {
            #expect(throws: DomainError.self, "\(bad)") { try UpstreamCredential.parse(bad, kind: .header) }
        }
        #expect(throws: DomainError.self) { try UpstreamCredential.parse("1BAD=env:X", kind: .environmentVariable) }
        #expect(try UpstreamCredential.parse("X-Key=", kind: .header, allowRemoval: true).credential == nil)
    }

    @Test func aValueGivenInPlaceOfAReferenceIsRefusedWithoutBeingEchoed() {
        let secret = "ghp_" + String(repeating: "s3cr3t", count: 6)
        for text in ["Authorization=Bearer \(secret)", "Authorization: Bearer \(secret)", "Authorization: Bearer \(secret)=env:X"] {
            do {
                _ = try UpstreamCredential.parse(text, kind: .header)
                Issue.record("accepted \(text)")
            } catch {
                #expect(!String(describing: error).contains(secret))
            }
        }
    }

    @Test func fileValuesMustBePrivateLoseOneTrailingNewlineAndMayNotCarryLineBreaksIntoAHeader() throws {
        let dir = NSTemporaryDirectory() + "mcpctl-cred-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/key"
        let secret = "k-" + UUID().uuidString
        let reference = UpstreamCredential(name: "X-Api-Key", source: .file(path))
        try (secret + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(throws: UpstreamCredential.ResolutionError.self) { try reference.resolve(environment: [:], kind: .header, app: "a", env: "e") }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect(try reference.resolve(environment: [:], kind: .header, app: "a", env: "e") == secret)
        try (secret + "\r\nInjected: yes\n").write(toFile: path, atomically: false, encoding: .utf8)
        do {
            _ = try reference.resolve(environment: [:], kind: .header, app: "a", env: "e")
            Issue.record("a header value with a line break was accepted")
        } catch {
            #expect(!String(describing: error).contains(secret) && String(describing: error).contains("a/e"))
        }
        let missing = UpstreamCredential(name: "Authorization", source: .environment("NOT_SET"))
        #expect(throws: UpstreamCredential.ResolutionError.self) { try missing.resolve(environment: [:], kind: .header, app: "a", env: "e") }
    }

    @Test func theUpstreamGetsItsConfiguredHeaderAndNeverTheCallersCredentialsOrCookies() throws {
        let key = "Bearer upstream-" + UUID().uuidString
        let h = try GatewayHarness(gatewayConfig: { $0.upstreamCredentials = UpstreamCredentials(environment: ["NOTES_KEY": key]) })
        defer { h.close() }
        var change = Apps.Update()
        change.headers = [("Authorization", UpstreamCredential(name: "Authorization", source: .environment("NOTES_KEY")))]
        try Apps(store: h.admin).update(app: h.app, env: "json", change)
        let token = try h.token()
        let reply = try h.call("json", token: token, "read_notes", headers: [("Cookie", "sid=caller"), ("Email", "alice@example.com")])
        #expect(reply.status == 200)
        let other = try h.call("sse", token: token, "read_notes")  // another environment of the same app: no key
        #expect(other.status == 200)
        for seen in h.upstream.requests {
            let sent = seen.headers.values(for: "Authorization")
            #expect(seen.headers["Cookie"] == nil && seen.headers["Email"] == nil && seen.headers["Token"] == nil)
            #expect(!sent.contains { $0.contains(token) })
            #expect(sent == (seen.path == "/json" ? [key] : []), "\(seen.path): \(sent)")
        }
        #expect(h.upstream.requests.contains { $0.path == "/json" })
    }
}
