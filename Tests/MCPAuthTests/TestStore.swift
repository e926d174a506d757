import Foundation
import MCPAuth

/// Fresh temporary stores for domain tests: every test gets its own file, or, when `MCPCTL_TEST_DB` names a
/// PostgreSQL database (`.ci/postgres` sets it), its own schema there, so the same tests run on both stores.
enum TestStore {
    static func make() throws -> Store { try Store(path: location()) }

    /// A fresh store location: a path in a new temporary directory, or a URL naming a new empty schema.
    static func location() throws -> String {
        guard let url = postgresURL else {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mcpauth-" + UUID().uuidString)
            return dir.appendingPathComponent("s.db").path
        }
        let schema = "t" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try Database(path: url).execute("CREATE SCHEMA \(schema)")
        return url + (url.contains("?") ? "&" : "?") + "options=-csearch_path%3D" + schema
    }

    /// The PostgreSQL database the suites run against, if any.
    static let postgresURL: String? = ProcessInfo.processInfo.environment["MCPCTL_TEST_DB"].flatMap { $0.isEmpty ? nil : $0 }
    /// Whether stores are SQLite files (tests of file permissions and identity apply only then).
    static var isSQLite: Bool { postgresURL == nil }
}

/// A store with one user granted `scopes` on notes/production and one public client: enough to issue
/// authorization codes and tokens by calling MCPAuth directly.
struct OAuthFixture {
    static let issuer = "https://auth.example.com"
    static let verifier = String(repeating: "v", count: 43)
    let store: Store
    let user: User
    let client: ClientRecord
    let resource = ResourceIndicator(app: "notes", env: "production")
    let lifetimes = OAuthTokenLifetimes()

    static func make(scopes: ScopeSet = .all) throws -> OAuthFixture {
        let store = try TestStore.make()
        _ = try Apps(store: store).add(app: "notes", env: "production", upstream: "http://127.0.0.1:9/mcp", command: nil)
        let user = try Users(store: store).add(email: "ada@example.com", name: "Ada", password: nil)
        _ = try Grants(store: store).add(email: user.email, app: "notes", env: "production", scopes: scopes)
        return OAuthFixture(store: store, user: user, client: try registerClient(in: store, name: "Notes app"))
    }

    /// Another public client of the same store.
    static func registerClient(in store: Store, name: String) throws -> ClientRecord {
        try Clients(store: store).register(name: name, redirectURIs: ["http://127.0.0.1:8123/cb"], confidential: false,
                                           registration: .cli).record
    }

    /// A fresh authorization code for `client` (the consent step's output).
    func issueCode(scopes: ScopeSet = .all) throws -> String {
        let grant = AuthorizationGrant(clientID: client.clientID, userID: user.id, redirectURI: "",
                                       codeChallenge: PKCE.challenge(forVerifier: OAuthFixture.verifier),
                                       resource: resource, scopes: scopes)
        return try AuthorizationCodes(store: store).issue(grant, issuer: OAuthFixture.issuer)
    }

    func redeem(_ code: String) throws -> IssuedTokenPair {
        try AuthorizationCodes(store: store).redeem(code: code, clientID: client.clientID, redirectURI: nil,
                                                    verifier: OAuthFixture.verifier, resource: nil, lifetimes: lifetimes,
                                                    remoteAddr: "192.0.2.1")
    }

    /// A token pair, as after a completed authorization.
    func tokens() throws -> IssuedTokenPair { try redeem(try issueCode()) }

    func refresh(_ refreshToken: String, clientID: String? = nil, scope: ScopeSet? = nil) throws -> IssuedTokenPair {
        try OAuthTokens(store: store).refresh(secret: refreshToken, clientID: clientID ?? client.clientID, scope: scope,
                                              resource: nil, lifetimes: lifetimes, remoteAddr: "192.0.2.1")
    }

    func token(_ id: String) throws -> TokenRecord {
        guard let record = try Tokens(store: store).find(id: id) else { throw DomainError.notFound(id) }
        return record
    }
}
