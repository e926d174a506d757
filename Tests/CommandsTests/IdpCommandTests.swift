import Foundation
import MCPAuth
import Testing

/// `mcpctl idp add|list|remove` through the binary: the documented JSON, the secret kept as a file
/// reference only, and bad input refused with nothing stored.
@Suite struct IdpCommandTests {
    static let secret = "idp-client-secret-never-shown"

    func setUp() throws -> (CLIHarness, String) {
        let h = CLIHarness()
        let file = h.dir.appendingPathComponent("corp-secret").path
        try Self.secret.write(toFile: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)  // a secret only its owner may read
        try h.user("alice@example.com")
        return (h, file)
    }

    @Test func idpCommandsPrintTheDocumentedJSONAndKeepOnlyThePathOfTheSecret() throws {
        let (h, file) = try setUp()
        let added = try h.ok(["idp", "add", "corp", "--issuer", "https://login.example.com", "--client-id", "mcpctl", "--client-secret-file", file,
                              "--groups-claim", "groups", "--allowed-domain", "example.com", "--allowed-domain", "*.example.org",
                              "--create-users", "--json"]).jsonObject()
        #expect(added["name"] as? String == "corp" && added["issuer"] as? String == "https://login.example.com")
        #expect(added["client_secret_file"] as? String == file && added["scopes"] as? String == "openid email profile")
        #expect(added["allowed_domains"] as? [String] == ["example.com", "*.example.org"])
        #expect(added["create_users"] as? Bool == true && added["trust_email"] as? Bool == false && added["groups_claim"] as? String == "groups")
        let list = try h.ok(["idp", "list", "--json"])
        #expect(try list.jsonArray().map { $0["name"] as? String } == ["corp"])
        let table = try h.ok(["idp", "list"])
        #expect(table.stdout.contains("corp") && table.stdout.contains("example.com *.example.org"))
        // The secret itself is nowhere: not in any output, not in the store file.
        if CLIHarness.isSQLite {
            let store = try Data(contentsOf: URL(fileURLWithPath: h.dbPath))
            #expect(store.range(of: Data(Self.secret.utf8)) == nil)
        }
        for output in [list.stdout, table.stdout, try h.ok(["audit", "list", "--json"]).stdout] { #expect(!output.contains(Self.secret)) }
        let audit = try h.ok(["audit", "list", "--action", "idp.add", "--json"]).jsonArray()
        #expect(audit.first?["source"] as? String == "cli")
        let removed = try h.ok(["idp", "remove", "corp", "--json"]).jsonObject()
        #expect(removed["removed"] as? Bool == true && removed["name"] as? String == "corp")
        #expect(try h.ok(["idp", "list", "--json"]).jsonArray().isEmpty)
    }

    @Test func badProvidersAreRefusedAndNothingIsStored() throws {
        let (h, file) = try setUp()
        let base = ["idp", "add", "corp", "--client-id", "mcpctl", "--client-secret-file", file]
        let bad: [([String], String)] = [
            (base + ["--issuer", "http://login.example.com"], "https"),
            (base + ["--issuer", "https://login.example.com?x=1"], "without query"),
            (base + ["--issuer", "https://login.example.com", "--scopes", "email profile"], "openid"),
            (base + ["--issuer", "https://login.example.com", "--create-users"], "--allowed-domain"),
            (base + ["--issuer", "https://login.example.com", "--allowed-domain", "example..com"], "is not a domain"),
            (base + ["--issuer", "https://login.example.com", "--allowed-domain", "*"], "is not a domain"),
            (["idp", "add", "corp", "--issuer", "https://login.example.com", "--client-id", "mcpctl", "--client-secret-file", "/nonexistent/secret"], "cannot read"),
            (["idp", "add", "bad/name", "--issuer", "https://login.example.com", "--client-id", "mcpctl", "--client-secret-file", file], "name"),
        ]
        for (args, message) in bad {
            let r = try h.run(args)
            #expect(r.status != 0 && r.stderr.contains(message), "\(args): \(r.status) \(r.stderr)")
        }
        #expect(try h.ok(["idp", "list", "--json"]).jsonArray().isEmpty)
        // Plain http is fine on a loopback issuer (tests, local setups); a second provider of the same name is not.
        try h.ok(["idp", "add", "local", "--issuer", "http://127.0.0.1:9/o", "--client-id", "c", "--client-secret-file", file])
        let again = try h.run(["idp", "add", "LOCAL", "--issuer", "http://127.0.0.1:9/o", "--client-id", "c", "--client-secret-file", file])
        #expect(again.status != 0 && again.stderr.contains("already exists"))
        let missing = try h.run(["idp", "remove", "nope"])
        #expect(missing.status != 0 && missing.stderr.contains("no identity provider named 'nope'"))
    }

    @Test func withSeveralProvidersAGroupMappingMustNameItsProviderAndIdpRemoveDropsItsMappings() throws {
        let (h, file) = try setUp()
        for name in ["corp", "partner"] {
            try h.ok(["idp", "add", name, "--issuer", "https://\(name).example.com", "--client-id", "c", "--client-secret-file", file, "--groups-claim", "groups"])
        }
        let unnamed = try h.run(["group", "add", "operators", "--idp-group", "mcp-admins"])
        #expect(unnamed.status != 0 && unnamed.stderr.contains("--idp"), "\(unnamed.stderr)")
        let unknown = try h.run(["group", "add", "operators", "--idp-group", "mcp-admins", "--idp", "okta"])
        #expect(unknown.status != 0 && unknown.stderr.contains("no identity provider named 'okta'"), "\(unknown.stderr)")
        let added = try h.ok(["group", "add", "operators", "--idp-group", "mcp-admins", "--idp", "corp", "--json"]).jsonObject()
        #expect(added["idp_group"] as? String == "mcp-admins" && added["idp"] as? String == "corp")
        #expect(try h.ok(["group", "show", "operators"]).stdout.contains("mcp-admins (corp)"))
        try h.ok(["idp", "remove", "corp"])
        let after = try h.ok(["group", "show", "operators", "--json"]).jsonObject()
        #expect(after["idp_group"] is NSNull && after["idp"] is NSNull, "\(after)")
        let audit = try h.ok(["audit", "list", "--action", "idp.remove", "--json"]).jsonArray()
        #expect((audit.first?["reason"] as? String)?.contains("1 group mapping(s) dropped") == true, "\(audit)")
    }

    @Test func aSecretFileGroupOrOthersMayReadIsRefused() throws {
        let (h, file) = try setUp()
        for mode in [0o640, 0o604, 0o660] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
            let r = try h.run(["idp", "add", "corp", "--issuer", "https://login.example.com", "--client-id", "c", "--client-secret-file", file])
            #expect(r.status != 0 && r.stderr.contains("chmod 600"), "mode \(String(mode, radix: 8)): \(r.stderr)")
        }
        let dir = try h.run(["idp", "add", "corp", "--issuer", "https://login.example.com", "--client-id", "c", "--client-secret-file", h.dir.path])
        #expect(dir.status != 0 && dir.stderr.contains("not a regular file"), "\(dir.stderr)")
        #expect(try h.ok(["idp", "list", "--json"]).jsonArray().isEmpty)
    }

    @Test func unbindLetsTheNextAccountBindAndNamesWhatIsMissing() throws {
        let (h, file) = try setUp()
        try h.ok(["idp", "add", "corp", "--issuer", "https://login.example.com", "--client-id", "mcpctl", "--client-secret-file", file])
        let none = try h.run(["idp", "unbind", "corp", "alice@example.com"])
        #expect(none.status == 1 && none.stderr.contains("has not signed in with corp"), "\(none.stderr)")
        let nobody = try h.run(["idp", "unbind", "corp", "nobody@example.com"])
        #expect(nobody.status == 1 && nobody.stderr.contains("no user"), "\(nobody.stderr)")
        let unknown = try h.run(["idp", "unbind", "okta", "alice@example.com"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no identity provider named 'okta'"), "\(unknown.stderr)")

        // A binding as a first single sign-on leaves it.
        let store = try Store(path: h.dbPath)
        let alice = try #require(try Users(store: store).find("alice@example.com"))
        try store.db.run("INSERT INTO sso_subjects (idp, subject, user_id, bound_at) VALUES ('corp', 'u-1', ?, 0)", [.integer(alice.id)])
        let done = try h.ok(["idp", "unbind", "corp", "Alice@Example.com", "--json"]).jsonObject()
        #expect(done["unbound"] as? Bool == true && done["email"] as? String == "alice@example.com" && done["idp"] as? String == "corp")
        #expect(try store.db.first("SELECT COUNT(*) AS n FROM sso_subjects")?.int("n") == 0)
        #expect(try h.ok(["audit", "list", "--action", "idp.unbind", "--json"]).jsonArray().count == 1)
    }
}
