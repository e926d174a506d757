import Foundation
import HTTP
import MCPAuth
import Testing

/// The PostgreSQL store going away under running replicas: requests fail closed while it is gone (503,
/// never an answer without its audit row), /healthz says so, and service resumes by itself when the
/// database is back, in the same processes.
@Suite(.serialized, .enabled(if: GatewayHarness.postgresURL != nil, "needs MCPCTL_TEST_DB=postgresql://… (.ci/postgres)"))
struct StoreOutageTests {
    /// One call's outcome: its JSON-RPC id (which names its arguments) and the answer's status.
    struct Outcome: Sendable {
        let id: Int
        let replica: Int
        let status: Int
    }

    /// The audit digest of the arguments of call `id` (as the gateway computes it with the store's key).
    static func digest(_ id: Int, key: HMACSHA256Key) throws -> String {
        Hex.encode(key.authenticationCode(for: Array(try JSON.parse(Array(#"{"n":\#(id)}"#.utf8)).encoded().utf8)))
    }

    static func healthz(_ h: ReplicaHarness, _ replica: Int) -> Int {
        (try? h.send(replica, "GET", "/healthz", timeout: 10).status) ?? 0
    }

    /// Six threads calling the two replicas in turn until stopped, each call with its own id; every
    /// outcome is kept (status 0: no answer within `timeout`).
    final class Load: Sendable {
        let outcomes = Locked<[Outcome]>([])
        private let stopping = Locked(false)
        private let group = DispatchGroup()

        init(_ h: ReplicaHarness, token: String, timeout: Double = 15) {
            for w in 0..<6 {
                group.enter()
                Thread.detachNewThread { [self] in
                    defer { group.leave() }
                    var i = 0
                    while !stopping.value {
                        let id = w * 1_000_000 + i, replica = i % 2
                        let status = (try? h.call(replica, token: token, id: id, timeout: timeout).status) ?? 0
                        outcomes.withLock { $0.append(Outcome(id: id, replica: replica, status: status)) }
                        i += 1
                    }
                }
            }
        }

        /// Stops the callers and waits for their last calls (again: nothing).
        func stop() {
            stopping.withLock { $0 = true }
            group.wait()
        }
    }

    /// The calls answered 200 whose audit row is missing from the store.
    static func unaudited(_ outcomes: [Outcome], _ h: ReplicaHarness) throws -> (missing: Int, acknowledged: Int) {
        let key = HMACSHA256Key(try #require(try h.admin.setting("audit_key")?.bytes))
        let recorded = Set(try h.mcpRows().filter { $0.int("status") == 200 }.compactMap { $0.string("args_digest") })
        let acknowledged = outcomes.filter { $0.status == 200 }
        let missing = try acknowledged.filter { !recorded.contains(try StoreOutageTests.digest($0.id, key: key)) }
        return (missing.count, acknowledged.count)
    }

    @Test func theDatabaseGoingAwayMidLoadFailsClosedAndServiceResumesByItself() throws {
        let h = try ReplicaHarness(relay: true, extra: ["--unauthenticated-rate", "100000"])
        let relay = try #require(h.relay)
        let load = Load(h, token: try h.token().secret)
        defer { load.stop() }
        let outcomes = load.outcomes
        #expect(eventually(within: 10) { outcomes.value.filter { $0.status == 200 }.count > 20 })

        relay.cut()
        let noticed = eventually(within: 15) { StoreOutageTests.healthz(h, 0) == 503 && StoreOutageTests.healthz(h, 1) == 503 }
        #expect(noticed, "/healthz did not report the lost database")
        usleep(300_000)  // requests sent before the cut have been answered by now
        let atOutage = outcomes.value.count
        #expect(eventually(within: 10) { outcomes.value.dropFirst(atOutage).count > 20 })
        let duringOutage = Array(outcomes.value.dropFirst(atOutage))
        #expect(duringOutage.allSatisfy { $0.status == 503 }, "while the database was gone: \(Set(duringOutage.map(\.status)))")
        // The authorization server says the same (503, not a server error), and the operator's log says why.
        let refresh = try h.postForm(1, "/oauth/token", [("grant_type", "refresh_token"), ("refresh_token", "x"), ("client_id", "y")])
        #expect(refresh.status == 503, "\(refresh.status) \(refresh.text)")
        #expect(h.log(0).contains("store unreachable") && h.log(1).contains("store unreachable"))

        try relay.restore()
        let resumed = eventually(within: 20) { StoreOutageTests.healthz(h, 0) == 200 && StoreOutageTests.healthz(h, 1) == 200 }
        #expect(resumed, "/healthz did not recover")
        let atReturn = outcomes.value.count
        #expect(eventually(within: 15) { Set(outcomes.value.dropFirst(atReturn).filter { $0.status == 200 }.map(\.replica)) == [0, 1] },
                "service did not resume on both replicas")
        load.stop()

        #expect(h.processes.allSatisfy { $0.isRunning }, "a replica exited")
        let all = outcomes.value
        #expect(Set(all.map(\.status)).isSubset(of: [200, 503]), "\(Set(all.map(\.status)))")
        // Nothing answered as accepted lacks its audit row.
        let audit = try StoreOutageTests.unaudited(all, h)
        #expect(audit.missing == 0, "\(audit.missing) of \(audit.acknowledged) acknowledged requests have no audit row")
        let verify = try h.mcpctl(["audit", "verify"])
        #expect(verify.stdout.contains("OK"), "\(verify.stdout)")
    }

    @Test func killingOneReplicaUnderLoadLosesNoAcknowledgedAuditRowAndTheOtherServesOn() throws {
        let h = try ReplicaHarness(extra: ["--unauthenticated-rate", "100000"])
        let load = Load(h, token: try h.token().secret, timeout: 5)
        defer { load.stop() }
        let outcomes = load.outcomes
        #expect(eventually(within: 10) { outcomes.value.filter { $0.status == 200 }.count > 50 })
        kill(h.processes[0].processIdentifier, SIGKILL)
        let atKill = outcomes.value.count
        #expect(eventually(within: 10) { outcomes.value.dropFirst(atKill).filter { $0.replica == 1 && $0.status == 200 }.count > 20 },
                "the surviving replica stopped serving")
        load.stop()

        let audit = try StoreOutageTests.unaudited(outcomes.value, h)
        #expect(audit.missing == 0, "\(audit.missing) of \(audit.acknowledged) acknowledged requests have no audit row")
        #expect(try h.mcpctl(["audit", "verify"]).stdout.contains("OK"))
    }

    @Test func connectionsTheDatabaseEndedAreReplacedWithoutAFailedRequest() throws {
        let name = "replica-" + String(UUID().uuidString.prefix(8)).lowercased()
        let h = try ReplicaHarness(nameConnections: name)
        let token = try h.token()
        for replica in 0..<2 { #expect(try h.call(replica, token: token.secret).status == 200) }
        // The administrator (or a failover) ends every connection of both replicas, the audit writers' too.
        let pids = try h.admin.db.query("SELECT pid FROM pg_stat_activity WHERE application_name = ?", [.text(name)]).compactMap { $0.int("pid") }
        #expect(pids.count >= 4)
        for pid in pids { _ = try h.admin.db.query("SELECT pg_terminate_backend(CAST(? AS INTEGER))", [.integer(pid)]) }
        let gone = try eventually(within: 10) {
            try h.admin.db.query("SELECT pid FROM pg_stat_activity").compactMap { $0.int("pid") }.allSatisfy { !pids.contains($0) }
        }
        try #require(gone)
        for i in 0..<10 {
            #expect(try h.call(i % 2, token: token.secret, id: i).status == 200)
        }
        for replica in 0..<2 { #expect(StoreOutageTests.healthz(h, replica) == 200) }
    }
}
