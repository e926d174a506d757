import Testing
import MCPAuth
@Test func smoke() { #expect(1 + 1 == 2) }
