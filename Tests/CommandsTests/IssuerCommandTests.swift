import Foundation
import MCPAuth
import Testing

/// `mcpctl issuer add|list|remove`, through the binary.
@Suite struct IssuerCommandTests {
    /// A harness with an initialized store.
    func harness() throws -> CLIHarness {
        let h = CLIHarness()
        try h.ok(["init"])
        return h
    }

    func secretFile(_ h: CLIHarness) throws -> String {
        let path = h.dir.appendingPathComponent("corp-secret").path
        try "very-secret-value-123\n".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)  // a secret only its owner may read
        return path
    }

    @Test func anIssuerIsAddedListedAndRemovedWithTheDocumentedJSONAndAuditRows() throws {
        let h = try harness()
        let secret = try secretFile(h)
        let added = try h.ok(["issuer", "add", "corp", "--issuer", "https://login.example.com", "--audience", "api://mcp",
                              "--introspection-url", "https://login.example.com/introspect", "--client-id", "mcpctl",
                              "--client-secret-file", secret, "--email-claim", "upn", "--json"]).jsonObject()
        #expect(added["name"] as? String == "corp" && added["issuer"] as? String == "https://login.example.com")
        #expect(added["audience"] as? String == "api://mcp" && added["email_claim"] as? String == "upn")
        #expect(added["client_secret_file"] as? String == secret && added["created_at"] is String)
        let list = try h.ok(["issuer", "list", "--json"]).jsonArray()
        #expect(list.map { $0["name"] as? String } == ["corp"])
        #expect(try h.ok(["issuer", "list"]).stdout.contains("https://login.example.com"))
        let removed = try h.ok(["issuer", "remove", "corp", "--json"]).jsonObject()
        #expect(removed["removed"] as? Bool == true)
        #expect(try h.ok(["issuer", "list", "--json"]).jsonArray().isEmpty)
        let audit = try h.ok(["audit", "list", "--source", "cli", "--json"]).jsonArray()
        #expect(Set(audit.compactMap { $0["action"] as? String }).isSuperset(of: ["issuer.add", "issuer.remove"]))
    }

    @Test func theClientSecretStaysInItsFileAndNeverReachesTheStoreOutputOrAudit() throws {
        let h = try harness()
        let secret = try secretFile(h)
        let out = try h.ok(["issuer", "add", "corp", "--issuer", "https://login.example.com", "--introspection-url", "https://login.example.com/i",
                            "--client-id", "mcpctl", "--client-secret-file", secret])
        let listed = try h.ok(["issuer", "list", "--json"]).stdout + (try h.ok(["audit", "list", "--json"]).stdout) + out.stdout + out.stderr
        #expect(!listed.contains("very-secret-value-123"))
        for suffix in ["", "-wal"] {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: h.dbPath + suffix))) ?? Data()
            #expect(bytes.range(of: Data("very-secret-value-123".utf8)) == nil, "the store\(suffix) holds the secret")
        }
    }

    @Test(arguments: [
        (["--issuer", "http://login.example.com"], "https"),
        (["--issuer", "http://127.0.0.1.nip.io"], "https"),
        (["--issuer", "ftp://login.example.com"], "https"),
        (["--issuer", "https://login.example.com?tenant=1"], "query"),
        (["--issuer", "https://login.example.com#x"], "fragment"),
        (["--issuer", "https://login.example.com", "--introspection-url", "https://login.example.com/i"], "go together"),
        (["--issuer", "https://login.example.com", "--client-id", "x"], "go together"),
        (["--issuer", "https://login.example.com", "--email-claim", "e mail"], "claim"),
        (["--issuer", "https://login.example.com", "--audience", "a\u{202e}b"], "printable"),
        (["--issuer", "https://login.example.com", "--introspection-url", "http://idp.example.com/i", "--client-id", "x",
          "--client-secret-file", "/nonexistent/secret"], "cannot read"),
    ])
    func badInputIsRefusedAndChangesNothing(args: [String], message: String) throws {
        let h = try harness()
        let r = try h.run(["issuer", "add", "corp"] + args)
        #expect(r.status != 0 && r.stderr.contains(message), "\(args): \(r.stderr)")
        #expect(try h.ok(["issuer", "list", "--json"]).jsonArray().isEmpty)
    }

    @Test func loopbackHTTPIssuersAreAllowedForTests() throws {
        let h = try harness()
        try h.ok(["issuer", "add", "local", "--issuer", "http://127.0.0.1:8443"])
        try h.ok(["issuer", "add", "local6", "--issuer", "http://[::1]:8443/realms/x"])
        try h.ok(["issuer", "add", "localname", "--issuer", "http://localhost:9000"])
    }

    @Test func duplicateNamesAndIssuersAreRefusedAndUnknownNamesAreNotFound() throws {
        let h = try harness()
        try h.ok(["issuer", "add", "corp", "--issuer", "https://login.example.com"])
        #expect(try h.run(["issuer", "add", "CORP", "--issuer", "https://other.example.com"]).stderr.contains("already exists"))
        #expect(try h.run(["issuer", "add", "corp2", "--issuer", "https://login.example.com"]).stderr.contains("already added"))
        let missing = try h.run(["issuer", "remove", "nope"])
        #expect(missing.status != 0 && missing.stderr.contains("no issuer named 'nope'"))
        #expect(try h.run(["issuer", "add", "bad name", "--issuer", "https://x.example.com"]).status != 0)
        #expect(try h.ok(["issuer", "list", "--json"]).jsonArray().count == 1)
    }

    @Test func allowedDomainsAndTokenPrefixesAreStoredShownAndChecked() throws {
        let h = try harness()
        let secret = try secretFile(h)
        let added = try h.ok(["issuer", "add", "partner", "--issuer", "https://id.partner.example", "--introspection-url", "https://id.partner.example/i",
                              "--client-id", "mcpctl", "--client-secret-file", secret, "--token-prefix", "ptr_",
                              "--allowed-domain", "partner.example", "--allowed-domain", "*.contractors.example", "--json"]).jsonObject()
        #expect(added["allowed_domains"] as? [String] == ["partner.example", "*.contractors.example"] && added["token_prefix"] as? String == "ptr_")
        #expect(try h.ok(["issuer", "list"]).stdout.contains("partner.example *.contractors.example"))
        let bad: [([String], String)] = [
            (["issuer", "add", "x", "--issuer", "https://x.example", "--allowed-domain", "not a domain"], "is not a domain"),
            (["issuer", "add", "x", "--issuer", "https://x.example", "--token-prefix", "x_"], "--introspection-url"),
            (["issuer", "add", "x", "--issuer", "https://x.example", "--introspection-url", "https://x.example/i", "--client-id", "c",
              "--client-secret-file", secret, "--token-prefix", "ptr_x"], "overlaps"),
            (["issuer", "add", "x", "--issuer", "https://x.example", "--introspection-url", "https://x.example/i", "--client-id", "c",
              "--client-secret-file", secret, "--token-prefix", "has space"], "printable"),
        ]
        for (args, message) in bad {
            let r = try h.run(args)
            #expect(r.status != 0 && r.stderr.contains(message), "\(args): \(r.stderr)")
        }
        #expect(try h.ok(["issuer", "list", "--json"]).jsonArray().count == 1)
    }
}

