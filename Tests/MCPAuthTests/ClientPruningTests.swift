import MCPAuth
import Testing

/// Pruning unused clients (`client prune`) and reclaiming never-used self-registered ones, called directly.
@Suite struct ClientPruningTests {
    static let day: Int64 = 86_400

    /// Makes a client look created (and last used) `days` ago.
    func age(_ clientID: String, days: Int64, store: Store) throws {
        let then = Clock.nowMillis() - days * ClientPruningTests.day * 1000
        try store.db.run("UPDATE clients SET created_at = ?, last_used_at = NULL WHERE client_id = ?", [.integer(then), .text(clientID)])
    }

    @Test func pruneDeletesOnlyClientsUnusedForThePeriodThatHoldNoLiveToken() throws {
        let f = try OAuthFixture.make()
        let clients = Clients(store: f.store)
        let stale = try OAuthFixture.registerClient(in: f.store, name: "Stale")
        let fresh = try OAuthFixture.registerClient(in: f.store, name: "Fresh")
        _ = try f.tokens()
        try age(stale.clientID, days: 40, store: f.store)
        try age(f.client.clientID, days: 40, store: f.store)   // old, but it holds live tokens

        let planned = try clients.prune(unusedForSeconds: 30 * ClientPruningTests.day, dryRun: true)
        #expect(planned.map(\.clientID) == [stale.clientID])
        #expect(try clients.find(stale.clientID) != nil, "a dry run deletes nothing")

        let pruned = try clients.prune(unusedForSeconds: 30 * ClientPruningTests.day, dryRun: false)
        #expect(pruned.map(\.clientID) == [stale.clientID])
        #expect(try clients.find(stale.clientID) == nil)
        #expect(try clients.find(fresh.clientID) != nil && clients.find(f.client.clientID) != nil)
    }

    @Test func registrationBeyondTheCapReclaimsTheOldestNeverUsedSelfRegisteredClients() throws {
        let store = try TestStore.make()
        let registration = ClientRegistration(store: store)
        var ids: [String] = []
        for i in 0..<3 {
            let metadata = try ClientMetadata.parse(try JSON.parse("""
                {"client_name": "App \(i)", "redirect_uris": ["http://127.0.0.1/cb\(i)"], "token_endpoint_auth_method": "none"}
                """), defaultAuthMethod: "none")
            let outcome = try registration.register(metadata, maxUnusedClients: 2, remoteAddr: "192.0.2.1", now: Int64(i))
            ids.append(outcome.record.clientID)
            #expect(outcome.record.registration == .dcr)
        }
        let clients = Clients(store: store)
        #expect(try clients.find(ids[0]) == nil, "the oldest never-used client is reclaimed")
        #expect(try clients.find(ids[1]) != nil && clients.find(ids[2]) != nil)
    }

    @Test func aMalformedClientRowIsRefusedNotFilledWithDefaults() throws {
        let f = try OAuthFixture.make()
        try f.store.db.run("UPDATE clients SET redirect_uris = 'not json' WHERE client_id = ?", [.text(f.client.clientID)])
        #expect(throws: MalformedRow(table: "clients", column: "redirect_uris")) { try Clients(store: f.store).find(f.client.clientID) }
        #expect(throws: MalformedRow.self) { try ClientRecord.find(f.client.clientID, db: f.store.db) }
    }
}
