import Foundation
import Testing

/// Attacks across outside issuers, against two instances of Tests/Interop/outside_issuer.py (PyJWT, real
/// RSA keys) and `mcpctl serve`: one issuer's opaque tokens must never be sent to another, unknown
/// tokens must not be sent out again and again, and an issuer speaks only for verified users of its
/// allowed domains, never for a look-alike address.
@Suite(.serialized) struct OutsideIssuerBoundsInteropTests {
    typealias Issuer = OutsideIssuerInteropTests.Issuer

    @Test func opaqueTokensGoOnlyToTheirIssuerAndAnIssuerSpeaksOnlyForItsVerifiedDomain() throws {
        let h = InteropHarness()
        let python = try InteropHarness.python("mcp1")
        let upstreamPort = try h.startUpstream(python: python)
        let corp = try OutsideIssuerInteropTests().startIssuer(h, python, metadata: "openid")
        let partner = try OutsideIssuerInteropTests().startIssuer(h, python, metadata: "openid")
        let secretFile = h.dir.appendingPathComponent("secret")
        try "s3cret\n".write(to: secretFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secretFile.path)
        try h.mcpctl(["app", "add", "notes", "--env", "http", "--upstream", "http://127.0.0.1:\(upstreamPort)/mcp"])
        for email in ["ann@example.com", "kate@example.com", "bo@partner.example"] {
            try h.mcpctl(["user", "add", email])
            try h.mcpctl(["grant", "add", email, "--app", "notes", "--role", "editor"])
        }
        let introspection = { (i: Issuer) in ["--introspection-url", i.url + "/introspect", "--client-id", "mcpctl", "--client-secret-file", secretFile.path] }
        try h.mcpctl(["issuer", "add", "corp", "--issuer", corp.url, "--allowed-domain", "example.com"] + introspection(corp))
        // A second issuer that introspects must say which opaque tokens are its own.
        let unattributed = try h.run(InteropHarness.binary, ["issuer", "add", "partner", "--issuer", partner.url] + introspection(partner))
        #expect(unattributed.status != 0 && unattributed.stderr.contains("--token-prefix"), "\(unattributed.stderr)")
        try h.mcpctl(["issuer", "add", "partner", "--issuer", partner.url, "--token-prefix", "ptr_", "--allowed-domain", "partner.example"]
                     + introspection(partner))
        let server = try h.startServer()
        let resource = "\(server.url)/mcp/notes/http"

        // Each issuer's opaque token works and is introspected by its own issuer only.
        let (corpAsked, partnerAsked) = (try corp.introspections(), try partner.introspections())
        let corpToken = try corp.mint(["email": "ann@example.com", "aud": resource, "mode": "opaque"])
        let partnerToken = try partner.mint(["email": "bo@partner.example", "aud": resource, "mode": "opaque", "prefix": "ptr_"])
        #expect(try h.initializeStatus(resource, corpToken) == 200)
        #expect(try h.initializeStatus(resource, partnerToken) == 200)
        #expect(try corp.introspections() == corpAsked + 1 && partner.introspections() == partnerAsked + 1,
                "corp's token reached partner's endpoint, or partner's corp's")

        // An unknown token presented again and again is sent out once (the inactive answer is kept).
        let before = try corp.introspections()
        for _ in 0..<4 { #expect(try h.initializeStatus(resource, "junk-token-nobody-issued") == 401) }
        #expect(try corp.introspections() == before + 1)
        #expect(try partner.introspections() == partnerAsked + 1)

        // The partner cannot speak for corp's users, nor anyone for a look-alike or unverified address.
        #expect(try h.initializeStatus(resource, try partner.mint(["email": "ann@example.com", "aud": resource])) == 401)
        #expect(try h.initializeStatus(resource, try partner.mint(["email": "ann@example.com", "aud": resource, "mode": "opaque", "prefix": "ptr_"])) == 401)
        #expect(try h.initializeStatus(resource, try corp.mint(["email": "\u{212A}ate@example.com", "aud": resource])) == 401, "Kelvin sign")
        #expect(try h.initializeStatus(resource, try corp.mint(["email": "kate@example.com", "aud": resource, "email_verified": "false"])) == 401)
        #expect(try h.initializeStatus(resource, try corp.mint(["email": "kate@example.com", "aud": resource, "email_verified": "true"])) == 200)
        let reasons = try h.mcpAuditRows().filter { $0["decision"] as? String == "deny" }.compactMap { $0["reason"] as? String }
        for expected in ["issuer partner: email domain of ann@example.com not allowed", "issuer corp: token has no usable email claim",
                         "issuer corp: token's email is not verified by the issuer"] {
            #expect(reasons.contains { $0.contains(expected) }, "an audit row says '\(expected)': \(reasons)")
        }
        let listed = try JSONSerialization.jsonObject(with: Data(try h.mcpctl(["issuer", "list", "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
        let shown = try #require(listed.first { $0["name"] as? String == "partner" })
        #expect(shown["token_prefix"] as? String == "ptr_" && shown["allowed_domains"] as? [String] == ["partner.example"], "\(shown)")
    }

    /// Random strings from one address must not make the gateway introspect without end: once the address
    /// has used up its allowance of failed requests, tokens that are not mcpctl's own are refused with 429
    /// before any outside call, while the issuer's real users elsewhere are unaffected.
    @Test func anAddressOverItsLimitOfFailedRequestsCannotMakeTheGatewayIntrospect() throws {
        let h = InteropHarness()
        let python = try InteropHarness.python("mcp1")
        let upstreamPort = try h.startUpstream(python: python)
        let corp = try OutsideIssuerInteropTests().startIssuer(h, python, metadata: "openid")
        let secretFile = h.dir.appendingPathComponent("secret")
        try "s3cret\n".write(to: secretFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secretFile.path)
        try h.mcpctl(["app", "add", "notes", "--env", "http", "--upstream", "http://127.0.0.1:\(upstreamPort)/mcp"])
        try h.mcpctl(["issuer", "add", "corp", "--issuer", corp.url, "--introspection-url", corp.url + "/introspect",
                      "--client-id", "mcpctl", "--client-secret-file", secretFile.path])
        let server = try h.startServer(["--unauthenticated-rate", "3"])
        let resource = "\(server.url)/mcp/notes/http"
        let before = try corp.introspections()
        var statuses: [Int] = []
        for i in 0..<8 { statuses.append(try h.initializeStatus(resource, "random-guess-\(i)")) }
        #expect(statuses.prefix(3).allSatisfy { $0 == 401 } && statuses.suffix(5).allSatisfy { $0 == 429 }, "\(statuses)")
        #expect(try corp.introspections() == before + 3, "only the requests within the allowance were sent out")
    }

    @Test func aSecretFileOthersCanReadIsRefusedByIssuerAddAndIdpAdd() throws {
        let h = InteropHarness()
        try h.mcpctl(["init"])
        let secretFile = h.dir.appendingPathComponent("secret")
        try "s3cret\n".write(to: secretFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: secretFile.path)
        let issuer = try h.run(InteropHarness.binary, ["issuer", "add", "corp", "--issuer", "https://login.example.com", "--introspection-url",
                                                       "https://login.example.com/i", "--client-id", "c", "--client-secret-file", secretFile.path])
        #expect(issuer.status != 0 && issuer.stderr.contains("chmod 600"), "\(issuer.stderr)")
        let idp = try h.run(InteropHarness.binary, ["idp", "add", "corp", "--issuer", "https://login.example.com", "--client-id", "c",
                                                    "--client-secret-file", secretFile.path])
        #expect(idp.status != 0 && idp.stderr.contains("chmod 600"), "\(idp.stderr)")
        let (issuers, idps) = (try h.mcpctl(["issuer", "list", "--json"]).stdout, try h.mcpctl(["idp", "list", "--json"]).stdout)
        #expect(!issuers.contains("corp") && !idps.contains("corp"), "nothing stored")
        // doctor names a secret file that became readable by others after it was added.
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secretFile.path)
        try h.mcpctl(["idp", "add", "corp", "--issuer", "https://login.example.com", "--client-id", "c", "--client-secret-file", secretFile.path])
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: secretFile.path)
        let doctor = try h.run(InteropHarness.binary, ["doctor", "--json"])
        #expect(doctor.stdout.contains("client secret files") && doctor.stdout.contains("idp corp"), "\(doctor.stdout)")
    }
}
