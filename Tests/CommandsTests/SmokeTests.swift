import Testing
import Commands
@Test func smoke() { #expect(1 + 1 == 2) }
