import HTTP
import Testing

@Suite struct HTTPHeadersTests {
    @Test func looksUpNamesIgnoringCase() {
        let headers = HTTPHeaders([("Content-Type", "text/plain"), ("X-Trace", "1")])
        #expect(headers["content-type"] == "text/plain")
        #expect(headers["X-TRACE"] == "1")
        #expect(headers["Missing"] == nil)
        #expect(headers.contains("x-trace"))
    }

    @Test func keepsOrderAndRepeatedFields() {
        var headers = HTTPHeaders()
        headers.add("Set-Cookie", "a=1")
        headers.add("Vary", "Origin")
        headers.add("set-cookie", "b=2")
        #expect(headers.values(for: "Set-Cookie") == ["a=1", "b=2"])
        #expect(headers.map(\.name) == ["Set-Cookie", "Vary", "set-cookie"])
        #expect(headers.count == 3)
    }

    @Test func settingReplacesEveryValueAndNilRemoves() {
        var headers = HTTPHeaders([("A", "1"), ("B", "2"), ("a", "3")])
        headers["A"] = "new"
        #expect(headers.values(for: "a") == ["new"])
        #expect(headers.map(\.name) == ["A", "B"])
        headers["a"] = nil
        #expect(!headers.contains("A"))
        headers.remove("b")
        #expect(headers.isEmpty)
    }

    @Test(arguments: ["x\r\nSet-Cookie: evil=1", "x\nInjected: 1", "x\rY", "x\u{0}y", "x\u{7}y"])
    func refusesValuesThatCouldInjectHeaders(_ value: String) {
        var headers = HTTPHeaders()
        headers["Location"] = value
        headers.add("X-Other", value)
        #expect(headers.isEmpty)
        #expect(!HTTPHeaders.isValidValue(value))
        #expect(HTTPHeaders([("Location", value)]).isEmpty)
    }

    @Test(arguments: ["", "Bad Name", "Bad:Name", "Bad\r\nName", "Ünicode"])
    func refusesInvalidNames(_ name: String) {
        var headers = HTTPHeaders()
        headers[name] = "v"
        headers.add(name, "v")
        #expect(headers.isEmpty)
    }

    @Test func acceptsTabsAndNonASCIIInValues() {
        var headers = HTTPHeaders()
        headers["X-Name"] = "J\u{F6}rg\tM"
        #expect(headers["x-name"] == "Jörg\tM")
    }
}

@Suite struct FormURLEncodingTests {
    @Test func roundTripsPairsWithReservedCharacters() {
        let pairs = [(name: "redirect_uri", value: "https://app.example/cb?x=1&y=2"), (name: "state", value: "a b+c/ü")]
        let encoded = FormURLEncoding.encode(pairs)
        #expect(encoded == "redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1%26y%3D2&state=a+b%2Bc%2F%C3%BC")
        let decoded = FormURLEncoding.decode(encoded)
        #expect(decoded.map(\.name) == pairs.map(\.name))
        #expect(decoded.map(\.value) == pairs.map(\.value))
    }

    @Test func keepsMalformedEscapesLiterally() {
        #expect(FormURLEncoding.percentDecode("100%zz%4") == "100%zz%4")
        #expect(FormURLEncoding.decode("a=%41%42c&&=x").map(\.value) == ["ABc", "x"])
    }
}
