import MCPAuth
import Testing

/// ES256 (RFC 7518 §3.4: ECDSA P-256 with SHA-256): the RFC 7515 A.3 example, a token signed by
/// Python's `cryptography` (Tests/Interop/jose_vectors.py's key style, made once), and the attacks.
@Suite("ES256 verification")
struct ES256Tests {
    /// RFC 7515 A.3 (the EC key of RFC 7517 A.1) and its example JWS.
    static let a3X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
    static let a3Y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
    static let a3Token = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
    /// A P-256 key and an access token it signed (r begins with a zero octet), from python3 + cryptography 50.
    static let x = "fzDAc_Up5RI6bqmViF4TMTpdiXNL_M9CTlWryBJEMMk"
    static let y = "2r0BevldbizaWUsNK9qe9z9CTI67xfgcBfXXpWB2azo"
    static let good = "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImUxIn0.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiaHR0cHM6Ly9tY3AuZXhhbXBsZS9tY3AvYS9wcm9kIiwiZXhwIjoyMDAwMDAwMDAwLCJpYXQiOjE3MDAwMDAwMDAsImVtYWlsIjoiYW5uQGV4YW1wbGUuY29tIn0.AAvZmYQjP01lfaR8mW5use_eGHO0wl3xPvBincp6cbermQzjkLJszkSTNqNk-Ad0gOxNp0nPKV6fb5aUEkbh4A"
    static let n: [UInt8] = Hex.decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")!

    let expectation = JWTExpectation(issuer: "https://issuer.example", audiences: ["https://mcp.example/mcp/a/prod"])

    func key(_ x: String, _ y: String) throws -> P256PublicKey {
        try P256PublicKey(x: try #require(Base64URL.decode(x)), y: try #require(Base64URL.decode(y)))
    }

    func parts(_ token: String) throws -> (input: [UInt8], signature: [UInt8]) {
        let p = token.split(separator: ".").map(String.init)
        return (Array("\(p[0]).\(p[1])".utf8), try #require(Base64URL.decode(p[2])))
    }

    func keySet(kid: String = "e1") throws -> JWKSet {
        try #require(JWKSet(json: Array(#"{"keys":[{"kty":"EC","crv":"P-256","kid":"\#(kid)","x":"\#(ES256Tests.x)","y":"\#(ES256Tests.y)"}]}"#.utf8)))
    }

    @Test("The RFC 7515 A.3 ES256 example verifies with its JWK, and a one-bit change does not")
    func rfc7515AppendixA3() throws {
        let k = try key(ES256Tests.a3X, ES256Tests.a3Y)
        let (input, signature) = try parts(ES256Tests.a3Token)
        #expect(k.verifySHA256(signature: signature, message: input))
        var flipped = signature
        flipped[40] ^= 0x10
        #expect(!k.verifySHA256(signature: flipped, message: input))
        var other = input
        other[3] ^= 1
        #expect(!k.verifySHA256(signature: signature, message: other))
    }

    @Test("An ES256 access token from Python verifies through a JWK Set, and its claims are read")
    func pythonTokenVerifies() throws {
        let claims = try JWTVerifier.verify(ES256Tests.good, keys: keySet(), expecting: expectation, now: 1_800_000_000).get()
        #expect(claims["email"]?.stringValue == "ann@example.com")
    }

    @Test("r = s = 0, r or s equal to n, and signatures of another length are refused (CVE-2022-21449 and friends)")
    func degenerateSignatures() throws {
        let k = try key(ES256Tests.x, ES256Tests.y)
        let (input, signature) = try parts(ES256Tests.good)
        let zero = [UInt8](repeating: 0, count: 32)
        for bad in [zero + zero, ES256Tests.n + ES256Tests.n, Array(signature[0..<32]) + ES256Tests.n, ES256Tests.n + Array(signature[32...]),
                    Array(signature.dropFirst()), [0] + signature, signature + [0], []] {
            #expect(!k.verifySHA256(signature: bad, message: input))
        }
        let p = ES256Tests.good.split(separator: ".")
        let psychic = "\(p[0]).\(p[1]).\(Base64URL.encode(zero + zero))"
        #expect(JWTVerifier.verify(psychic, keys: try keySet(), expecting: expectation, now: 1_800_000_000).failure == .badSignature)
    }

    @Test("Points off the curve, coordinates at or above p, and short coordinates are refused as keys")
    func invalidPoints() throws {
        let gx = Hex.decode("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296")!
        var gy = Hex.decode("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")!
        #expect((try? P256PublicKey(x: gx, y: gy)) != nil, "the generator is on the curve")
        gy[31] ^= 1
        #expect(throws: P256PublicKey.KeyError.notOnCurve) { try P256PublicKey(x: gx, y: gy) }
        let p = Hex.decode("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff")!
        #expect(throws: P256PublicKey.KeyError.malformed) { try P256PublicKey(x: p, y: gy) }
        #expect(throws: P256PublicKey.KeyError.malformed) { try P256PublicKey(x: Array(gx.dropFirst()), y: gy) }
        let offCurve = try #require(JWKSet(json: Array(#"{"keys":[{"kty":"EC","crv":"P-256","x":"\#(Base64URL.encode(gx))","y":"\#(Base64URL.encode(gy))"}]}"#.utf8)))
        #expect(offCurve.keys.isEmpty)
        let otherCurve = try #require(JWKSet(json: Array(#"{"keys":[{"kty":"EC","crv":"P-384","x":"\#(ES256Tests.x)","y":"\#(ES256Tests.y)"}]}"#.utf8)))
        #expect(otherCurve.keys.isEmpty)
    }

    @Test("An ES256 token is not verified with an RSA key of the same kid, nor an RS256 token with an EC key")
    func algorithmAndKeyTypeMustAgree() throws {
        let rsa = try #require(JWKSet(json: Array(#"{"keys":[{"kty":"RSA","kid":"e1","n":"\#(JOSEVectors.keyN)","e":"AQAB"}]}"#.utf8)))
        #expect(JWTVerifier.verify(ES256Tests.good, keys: rsa, expecting: expectation, now: 1_800_000_000).failure == .keyMismatch)
        #expect(JWTVerifier.verify(JOSEVectors.good, keys: try keySet(kid: "k1"), expecting: expectation, now: 1_800_000_000).failure == .keyMismatch)
    }
}
