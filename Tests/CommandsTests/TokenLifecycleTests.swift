import Foundation
import MCPAuth
import Testing

/// The first user job end to end through the real binary: add a user, create, list, rotate, revoke, scan.
@Suite struct TokenLifecycleTests {
    func verify(_ h: CLIHarness, _ secret: String, email: String? = nil) throws -> Result<Principal, VerificationFailure> {
        let store = try Store(path: h.dbPath)
        return try TokenVerifier().verify(secret: secret, email: email, db: store.db)
    }

    @Test func createPrintsOnlyTheSecretOnStdoutAndASummaryOnStderr() throws {
        let h = CLIHarness()
        try h.user()
        let r = try h.ok(["token", "create", "--email", "alice@example.com", "--name", "ci", "--scopes", "read,write"])
        let secret = r.stdout.trimmingCharacters(in: .newlines)
        #expect(r.lines.count == 1)
        #expect(secret.hasPrefix("mcp_pat_") && secret.count == 8 + 32 + 6)
        #expect(TokenSecret.kind(of: secret) == "pat")
        #expect(r.stderr.contains("tok_") && !r.stderr.contains(secret))
        guard case .success(let p) = try verify(h, secret) else { Issue.record("fresh token did not verify"); return }
        #expect(p.email == "alice@example.com" && p.scopes == [.read, .write])
    }

    @Test func listAndShowUseTheDocumentedJSONKeysAndNeverTheSecret() throws {
        let h = CLIHarness()
        try h.user()
        let (secret, id) = try h.token("alice@example.com", ["--name", "laptop"])
        let list = try h.ok(["token", "list", "--json"])
        #expect(!list.stdout.contains(secret))
        let items = try list.jsonArray()
        #expect(items.count == 1)
        let keys = ["id", "email", "name", "kind", "scopes", "app", "env", "client_id", "created_at", "expires_at", "last_used_at", "revoked_at"]
        for key in keys { #expect(items[0].keys.contains(key), "missing key \(key)") }
        #expect(items[0]["id"] as? String == id)
        #expect(items[0]["kind"] as? String == "pat")
        let created = try #require(items[0]["created_at"] as? String)
        #expect(Clock.parseRFC3339(created) != nil && created.hasSuffix("Z"))
        let show = try h.ok(["token", "show", id, "--json"])
        #expect(try show.jsonObject()["name"] as? String == "laptop")
        #expect(!show.stdout.contains(secret))
        let human = try h.ok(["token", "list"])
        #expect(human.stdout.contains(id) && human.stdout.contains("laptop") && !human.stdout.contains(secret))
    }

    @Test func defaultExpiryIsNinetyDaysAndNeverMustBeExplicit() throws {
        let h = CLIHarness()
        try h.user()
        let r = try h.ok(["token", "create", "--email", "alice@example.com", "--json"])
        let j = try r.jsonObject()
        let created = try #require(Clock.parseRFC3339(j["created_at"] as! String))
        let expires = try #require(Clock.parseRFC3339(j["expires_at"] as! String))
        #expect(expires - created == 90 * 86_400_000)
        let never = try h.ok(["token", "create", "--email", "alice@example.com", "--expires", "never", "--json"]).jsonObject()
        #expect(never["expires_at"] is NSNull)
        let bad = try h.run(["token", "create", "--email", "alice@example.com", "--expires", "soon"])
        #expect(bad.status == 64 && bad.stderr.contains("Invalid duration"))
    }

    @Test func revokedTokenFailsVerificationAndRevokeAcceptsIDsAndSecrets() throws {
        let h = CLIHarness()
        try h.user()
        let a = try h.token()
        let b = try h.token()
        try h.ok(["token", "revoke", a.id])
        #expect(try verify(h, a.secret) == .failure(.revoked))
        let r = try h.ok(["token", "revoke", b.secret])
        #expect(!r.stdout.contains(b.secret) && !r.stderr.contains(b.secret))
        #expect(try verify(h, b.secret) == .failure(.revoked))
        let unknown = try h.run(["token", "revoke", "tok_doesnotexist"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no token"))
    }

    @Test func revokeWithAnUnknownIDChangesNothing() throws {
        let h = CLIHarness()
        try h.user()
        let a = try h.token()
        let r = try h.run(["token", "revoke", a.id, "tok_nope"])
        #expect(r.status == 1)
        guard case .success = try verify(h, a.secret) else { Issue.record("token was revoked despite the error"); return }
    }

    @Test func expiredTokenFailsVerification() throws {
        let h = CLIHarness()
        try h.user()
        let t = try h.token("alice@example.com", ["--expires", "1s"])
        Thread.sleep(forTimeInterval: 1.3)
        #expect(try verify(h, t.secret) == .failure(.expired))
        let listed = try h.ok(["token", "list", "--json"]).jsonArray()
        #expect(listed.isEmpty)
        let all = try h.ok(["token", "list", "--all", "--json"]).jsonArray()
        #expect(all.first?["status"] as? String == "expired")
    }

    @Test func rotationWithoutGraceKillsTheOldSecretAtOnce() throws {
        let h = CLIHarness()
        try h.user()
        let old = try h.token("alice@example.com", ["--name", "deploy", "--scopes", "read,delete"])
        let r = try h.ok(["token", "rotate", old.id, "--json"]).jsonObject()
        let newSecret = try #require(r["token"] as? String)
        #expect(r["name"] as? String == "deploy")
        #expect(r["scopes"] as? [String] == ["read", "delete"])
        #expect(r["rotated_from"] as? String == old.id)
        #expect(try verify(h, old.secret) == .failure(.revoked))
        guard case .success = try verify(h, newSecret) else { Issue.record("rotated token does not verify"); return }
    }

    @Test func rotationWithGraceKeepsTheOldSecretForTheGracePeriodOnly() throws {
        let h = CLIHarness()
        try h.user()
        let old = try h.token()
        let r = try h.ok(["token", "rotate", old.id, "--grace", "2s"])
        let newSecret = r.stdout.trimmingCharacters(in: .newlines)
        guard case .success = try verify(h, old.secret) else { Issue.record("old token died before the grace period ended"); return }
        guard case .success = try verify(h, newSecret) else { Issue.record("new token does not verify"); return }
        Thread.sleep(forTimeInterval: 2.3)
        #expect(try verify(h, old.secret) == .failure(.expired))
        guard case .success = try verify(h, newSecret) else { Issue.record("new token died with the old one"); return }
    }

    @Test func emailHeaderMustMatchTheTokensOwner() throws {
        let h = CLIHarness()
        try h.user()
        try h.user("bob@example.com")
        let t = try h.token()
        guard case .success = try verify(h, t.secret, email: "ALICE@example.com") else { Issue.record("case-insensitive email failed"); return }
        #expect(try verify(h, t.secret, email: "bob@example.com") == .failure(.emailMismatch))
        #expect(try verify(h, "mcp_pat_notatoken", email: nil) == .failure(.malformed))
        var forged = t.secret
        forged.removeLast()
        forged.append(t.secret.last == "A" ? "B" : "A")
        #expect(try verify(h, forged) == .failure(.malformed))
    }

    @Test func disablingOrRemovingAUserKillsTheirTokensAtOnce() throws {
        let h = CLIHarness()
        try h.user()
        let t = try h.token()
        let r = try h.ok(["user", "disable", "alice@example.com", "--json"]).jsonObject()
        #expect(r["revoked"] as? Int == 1)
        #expect(try verify(h, t.secret) == .failure(.revoked))
        try h.ok(["user", "enable", "alice@example.com"])
        #expect(try verify(h, t.secret) == .failure(.revoked))
        let t2 = try h.token()
        try h.ok(["user", "remove", "alice@example.com"])
        #expect(try verify(h, t2.secret) == .failure(.unknown))
    }

    @Test func revokeAllCancelsEveryCredentialOfTheUser() throws {
        let h = CLIHarness()
        try h.user()
        try h.user("bob@example.com")
        let a1 = try h.token()
        let a2 = try h.token()
        let b = try h.token("bob@example.com")
        let r = try h.ok(["token", "revoke", "--email", "Alice@Example.com", "--all", "--json"]).jsonObject()
        #expect(r["revoked"] as? Int == 2)
        #expect(try verify(h, a1.secret) == .failure(.revoked))
        #expect(try verify(h, a2.secret) == .failure(.revoked))
        guard case .success = try verify(h, b.secret) else { Issue.record("another user's token was revoked"); return }
        #expect(try h.run(["token", "revoke", "--all"]).status == 64)
    }

    @Test func scanReportsLiveRevokedAndUnknownWithoutPrintingSecrets() throws {
        let h = CLIHarness()
        try h.user()
        let live = try h.token()
        let dead = try h.token()
        try h.ok(["token", "revoke", dead.id])
        let stranger = TokenSecret.generate(kind: "pat")
        let noise = "mcp_pat_" + String(repeating: "a", count: 38)
        let file = h.dir.appendingPathComponent("config.env")
        try "A=\(live.secret)\nB=\(dead.secret)\n# \(stranger) \(noise)\n".write(to: file, atomically: true, encoding: .utf8)
        let r = try h.run(["token", "scan", file.path, "--json"])
        #expect(r.status == 1)
        for s in [live.secret, dead.secret, stranger] { #expect(!r.stdout.contains(s) && !r.stderr.contains(s)) }
        let findings = try r.jsonArray()
        #expect(findings.map { $0["status"] as? String } == ["live", "revoked", "unknown"])
        #expect(findings[0]["token"] as? String == "mcp_pat_…" + String(live.secret.suffix(4)))
        #expect(findings[0]["line"] as? Int == 1)
        let clean = try h.run(["token", "scan"], stdin: "B=\(dead.secret)\n")
        #expect(clean.status == 0 && clean.stdout.contains("revoked"))
    }

    @Test func printConfigGivesAClientBlockWithTheHeaderPair() throws {
        let h = CLIHarness()
        try h.user()
        let r = try h.ok(["token", "create", "--email", "alice@example.com", "--print-config", "--url", "https://mcp.example.com"])
        let j = try #require(try r.json() as? [String: Any])
        let servers = try #require(j["mcpServers"] as? [String: Any])
        let entry = try #require(servers["mcpctl-local"] as? [String: Any])
        #expect(entry["url"] as? String == "https://mcp.example.com/mcp/mcpctl/local")
        let headers = try #require(entry["headers"] as? [String: String])
        #expect(headers["Email"] == "alice@example.com")
        #expect(TokenSecret.kind(of: headers["Token"] ?? "") == "pat")
    }

    @Test func twoProcessesCreatingTokensAtOnceBothSucceed() throws {
        let h = CLIHarness()
        try h.user()
        let group = DispatchGroup()
        let results = ResultBox()
        for _ in 0..<8 {
            group.enter()
            DispatchQueue.global().async {
                let r = try? h.run(["token", "create", "--email", "alice@example.com"])
                results.append(r?.status ?? -1)
                group.leave()
            }
        }
        group.wait()
        #expect(results.values == Array(repeating: 0, count: 8))
        #expect(try h.ok(["token", "list", "--json"]).jsonArray().count == 8)
        #expect(try h.ok(["audit", "verify"]).status == 0)
    }

    @Test(.enabled(if: CLIHarness.isSQLite, "a SQLite store's files, modes and backups"))
    func storeFileNeverContainsACreatedSecret() throws {
        let h = CLIHarness()
        try h.user()
        var secrets: [String] = []
        for _ in 0..<5 { secrets.append(try h.token().secret) }
        try h.ok(["token", "rotate", try h.token().id])
        let dir = URL(fileURLWithPath: h.dbPath).deletingLastPathComponent()
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            let bytes = try Data(contentsOf: dir.appendingPathComponent(file))
            let text = String(decoding: bytes, as: UTF8.self)
            for s in secrets {
                #expect(!text.contains(s), "\(file) contains a secret")
                #expect(!text.contains(String(s.dropFirst(8).prefix(20))), "\(file) contains part of a secret")
            }
        }
    }

    @Test func twoProcessesCreatingTokensAtOnceBothSucceedOnAFreshStore() throws {
        let h = CLIHarness()
        let group = DispatchGroup()
        let results = ResultBox()
        for i in 0..<4 {
            group.enter()
            DispatchQueue.global().async {
                let r = try? h.run(["user", "add", "u\(i)@example.com"])
                results.append(r?.status ?? -1)
                group.leave()
            }
        }
        group.wait()
        #expect(results.values == [0, 0, 0, 0])
    }
}

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Int32] = []
    func append(_ v: Int32) { lock.lock(); items.append(v); lock.unlock() }
    var values: [Int32] { lock.lock(); defer { lock.unlock() }; return items }
}

extension Result where Success == Principal, Failure == VerificationFailure {
    static func == (a: Self, b: Self) -> Bool {
        switch (a, b) {
        case (.failure(let x), .failure(let y)): return x == y
        case (.success(let x), .success(let y)): return x.tokenID == y.tokenID
        default: return false
        }
    }
}
