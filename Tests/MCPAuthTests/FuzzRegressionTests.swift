import MCPAuth
import Testing

/// Inputs the fuzz targets under Tests/Fuzz found to break a property, kept so the fix stays.
@Suite("Fuzz regressions (MCPAuth)")
struct FuzzRegressionTests {
    /// FuzzJSONRPC: `922337203685e775808` was read as infinity, which encodes as `null`, so the value a
    /// gateway forwarded differed from the one it checked.
    @Test func jsonRefusesANumberBeyondTheRangeOfADoubleInsteadOfReadingInfinity() {
        for text in ["922337203685e775808", "1e400", "-1e400", "[0,1e309]", #"{"jsonrpc":"2.0","id":1e999,"method":"m"}"#] {
            #expect(throws: JSON.ParseError.self, "\(text)") { try JSON.parse(text) }
        }
    }

    @Test func jsonStillReadsTheLargestAndSmallestDoubles() throws {
        #expect(try JSON.parse("1.7976931348623157e308") == .double(1.7976931348623157e308))
        #expect(try JSON.parse("-1.7976931348623157e308") == .double(-1.7976931348623157e308))
        #expect(try JSON.parse("5e-324") == .double(Double.leastNonzeroMagnitude))
        #expect(try JSON.parse("1e-400") == .double(0))
    }
}
