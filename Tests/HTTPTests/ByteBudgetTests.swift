import Dispatch
import HTTP
import Synchronization
import Testing

@Suite struct ByteBudgetTests {
    @Test func chargesOnlyWhatFitsAndTakesReleasesBack() {
        let budget = ByteBudget(limit: 100)
        #expect(budget.tryCharge(60))
        #expect(!budget.tryCharge(41))
        #expect(budget.usedBytes == 60)
        #expect(budget.tryCharge(40))
        budget.release(60)
        #expect(budget.usedBytes == 40)
        budget.release(40)
        #expect(budget.usedBytes == 0)
    }

    @Test func parallelChargesNeverExceedTheLimit() {
        let budget = ByteBudget(limit: 1000)
        let granted = Atomic(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<500 where budget.tryCharge(3) { granted.add(1, ordering: .relaxed) }
        }
        #expect(granted.load(ordering: .relaxed) == 333)
        #expect(budget.usedBytes == 999)
    }

    @Test func aBodyThatWouldExceedTheSharedBudgetIsRefusedInsteadOfBuffered() throws {
        let payload = String(repeating: "b", count: 60_000)
        try withServer(handler: { _ in .text(payload) }) { _, port in
            let client = HTTPClient()
            let budget = ByteBudget(limit: 100_000)
            let first = try client.send(HTTPClientRequest(url: url(port))).readAll(budget: budget)
            #expect(first.count == 60_000)
            #expect(budget.usedBytes == 60_000)

            let second = try client.send(HTTPClientRequest(url: url(port)))
            #expect(throws: HTTPClientError.budgetExceeded(limit: 100_000)) { try second.readAll(budget: budget) }
            #expect(budget.usedBytes == 60_000)
            #expect(throws: HTTPClientError.responseClosed) { try second.readChunk() }

            budget.release(first.count)
            let third = try client.send(HTTPClientRequest(url: url(port))).readAll(budget: budget)
            #expect(third.count == 60_000)
            budget.release(third.count)
            #expect(budget.usedBytes == 0)
        }
    }

    @Test func aFailedReadGivesBackWhatItHadCharged() throws {
        try withServer(handler: { _ in .text(String(repeating: "c", count: 50_000)) }) { _, port in
            let budget = ByteBudget(limit: 1_000_000)
            let response = try HTTPClient().send(HTTPClientRequest(url: url(port)))
            #expect(throws: HTTPClientError.bodyTooLarge(limit: 40_000)) { try response.readAll(limit: 40_000, budget: budget) }
            #expect(budget.usedBytes == 0)
        }
    }
}
