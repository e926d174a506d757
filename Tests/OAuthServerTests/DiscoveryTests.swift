import Foundation
import HTTP
import MCPAuth
import Testing

@Suite struct DiscoveryTests {
    @Test func metadataAdvertisesIssuerEndpointsAndOnlyS256() throws {
        let h = try OAuthHarness()
        let r = try h.get("/.well-known/oauth-authorization-server")
        #expect(r.status == 200)
        let m = r.json
        #expect(m["issuer"]?.stringValue == h.issuer)
        #expect(m["authorization_endpoint"]?.stringValue == h.issuer + "/oauth/authorize")
        #expect(m["token_endpoint"]?.stringValue == h.issuer + "/oauth/token")
        #expect(m["registration_endpoint"]?.stringValue == h.issuer + "/oauth/register")
        #expect(m["introspection_endpoint"]?.stringValue == h.issuer + "/oauth/introspect")
        #expect(m["revocation_endpoint"]?.stringValue == h.issuer + "/oauth/revoke")
        #expect(m["response_types_supported"] == .array(["code"]))
        #expect(m["grant_types_supported"] == .array(["authorization_code", "refresh_token"]))
        #expect(m["code_challenge_methods_supported"] == .array(["S256"]))
        #expect(m["token_endpoint_auth_methods_supported"] == .array(["none", "client_secret_basic", "client_secret_post"]))
        #expect(m["scopes_supported"] == .array(["read", "write", "delete"]))
        #expect(m["authorization_response_iss_parameter_supported"] == .bool(true))
        #expect(m["client_id_metadata_document_supported"] == .bool(true))
    }

    @Test func otherPathsAreLeftToTheGateway() throws {
        let h = try OAuthHarness()
        #expect(h.oauth.handle(HTTPRequest(method: "GET", target: "/mcp/notes/dev")) == nil)
        #expect(h.oauth.handle(HTTPRequest(method: "GET", target: "/.well-known/oauth-protected-resource/mcp/notes/dev")) == nil)
        #expect(h.oauth.handle(HTTPRequest(method: "GET", target: "/healthz")) == nil)
    }
}
