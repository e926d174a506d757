import HTTP
import Testing

@Suite struct ByteSearchTests {
    @Test(arguments: [
        ("tools", "tools", true), ("xtools", "tools", true), ("toolsx", "tools", true), ("ttttools", "tools", true),
        ("toolstool", "tool", true), ("tool", "tools", false), ("toolx", "tools", false), ("tootools", "tools", true),
        ("", "a", false), ("abc", "", true), ("", "", true), ("aaaa", "aab", false), ("aaab", "aab", true),
        ("{\"a\":\"\\u0074ools\"}", "\\u", true), ("no escape here", "\\u", false),
    ])
    func findsANeedleAnywhereIncludingTheLastPossiblePlace(haystack: String, needle: String, found: Bool) {
        #expect(ByteSearch.contains(Array(haystack.utf8), Array(needle.utf8)) == found)
    }

    @Test func agreesWithANaiveSearchOnEveryPlacementInALongText() {
        let needle = Array("list_changed".utf8)
        for length in [needle.count, needle.count + 1, 100, 4096] {
            for at in [0, 1, length / 2, length - needle.count - 1, length - needle.count] where at >= 0 && at + needle.count <= length {
                var text = [UInt8](repeating: UInt8(ascii: "l"), count: length)
                text.replaceSubrange(at..<(at + needle.count), with: needle)
                #expect(ByteSearch.contains(text, needle), "length \(length), at \(at)")
                text[at + needle.count - 1] = UInt8(ascii: "x")
                let naive = (0...(length - needle.count)).contains { Array(text[$0..<($0 + needle.count)]) == needle }
                #expect(ByteSearch.contains(text, needle) == naive, "length \(length), at \(at), cut")
            }
        }
    }
}
