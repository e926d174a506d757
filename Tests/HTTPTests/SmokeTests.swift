import Testing
import HTTP
@Test func smoke() { #expect(1 + 1 == 2) }
