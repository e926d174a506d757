import MCPAuth
import Testing

/// RSA (RFC 8017), JWS (RFC 7515), JWK (RFC 7517) and JWT access tokens (RFC 7519, RFC 9068): the
/// published examples, vectors computed by Python's `cryptography`, and the known attacks on verifiers.
@Suite("JOSE verification")
struct JOSETests {
    // MARK: Big integers

    @Test("Modular powers match the values Python computed, from 64 to 3072 bits")
    func modularPowersMatchPython() throws {
        for (b, e, m, expected) in JOSEVectors.modexp {
            let m = try #require(BigUInt(hex: m)), b = try #require(BigUInt(hex: b)), e = try #require(BigUInt(hex: e))
            let modulus = try #require(MontgomeryModulus(m))
            let result = modulus.power(b, e)
            #expect(result == BigUInt(hex: expected), "\(b)^\(e) mod \(m)")
        }
    }

    @Test("Big integers round-trip through big-endian octets, and a value too large for the length is refused")
    func octetConversion() {
        let x = BigUInt(bigEndian: [0, 0, 1, 2, 3])
        #expect(x.bitWidth == 17)
        #expect(x.bigEndianBytes(count: 3) == [1, 2, 3])
        #expect(x.bigEndianBytes(count: 5) == [0, 0, 1, 2, 3])
        #expect(x.bigEndianBytes(count: 2) == nil)
        #expect(MontgomeryModulus(BigUInt(10)) == nil)
    }

    // MARK: Published examples

    @Test("The RFC 7515 A.2 RS256 example verifies with its JWK, and a one-bit change does not")
    func rfc7515AppendixA2() throws {
        let key = try rsaKey(RFC.a2Modulus)
        let (input, signature) = try signed(RFC.a2Token)
        #expect(key.verifyPKCS1SHA256(signature: signature, message: input))
        #expect(!key.verifyPKCS1SHA256(signature: flipped(signature, bit: 1000), message: input))
        #expect(!key.verifyPKCS1SHA256(signature: signature, message: flipped(input, bit: 42)))
    }

    @Test("The RFC 7520 4.1 RS256 example verifies with its JWK, and a one-bit change does not")
    func rfc7520Section41() throws {
        let key = try rsaKey(RFC.bilboModulus)
        let (input, signature) = try signed(RFC.bilboToken)
        #expect(key.verifyPKCS1SHA256(signature: signature, message: input))
        #expect(!key.verifyPKCS1SHA256(signature: flipped(signature, bit: 7), message: input))
        #expect(!key.verifyPKCS1SHA256(signature: signature, message: flipped(input, bit: 0)))
    }

    @Test("RFC 7520 4.1 through a JWK Set: the key is chosen by its kid")
    func rfc7520ThroughKeySet() throws {
        let set = try #require(JWKSet(json: Array("""
            {"keys":[{"kty":"RSA","kid":"bilbo.baggins@hobbiton.example","use":"sig","n":"\(RFC.bilboModulus)","e":"AQAB"}]}
            """.utf8)))
        let jws = try JWSCompact(RFC.bilboToken)
        #expect(jws.keyID == "bilbo.baggins@hobbiton.example")
        // The example's payload is text, not claims, so verification gets past the signature and stops there.
        #expect(JWTVerifier.verify(jws, keys: set, expecting: expectation, now: 1_800_000_000).failure == .malformed)
    }

    // MARK: Access tokens

    @Test("A well-formed RS256 access token verifies and its claims are read")
    func goodTokenVerifies() throws {
        let claims = try JWTVerifier.verify(JOSEVectors.good, keys: keySet(), expecting: expectation, now: 1_800_000_000).get()
        #expect(claims["email"]?.stringValue == "ann@example.com")
        #expect(claims["scope"]?.stringValue == "read write")
    }

    @Test("A token for another issuer, another audience, or past its expiry is refused")
    func claimsAreChecked() throws {
        let keys = try keySet()
        let now: Int64 = 1_800_000_000
        #expect(verify(keys, JWTExpectation(issuer: "https://issuer.example/", audiences: [audience]), now) == .wrongIssuer)
        #expect(verify(keys, JWTExpectation(issuer: "https://ISSUER.example", audiences: [audience]), now) == .wrongIssuer)
        #expect(verify(keys, JWTExpectation(issuer: issuer, audiences: ["https://mcp.example/mcp/a/dev"]), now) == .wrongAudience)
        #expect(verify(keys, expectation, 2_000_000_000 + 31) == .expired)
        #expect(verify(keys, expectation, 2_000_000_000 + 29) == nil, "a small clock skew is allowed")
        #expect(verify(keys, expectation, 1_700_000_000 - 31) == .issuedInFuture)
    }

    @Test("The audience may be a string or an array of strings, compared byte for byte")
    func audienceShapes() {
        #expect(JWTClaims.audience(.string("a"), matchesAnyOf: ["a"]))
        #expect(JWTClaims.audience(.array([.string("x"), .string("a")]), matchesAnyOf: ["a"]))
        #expect(!JWTClaims.audience(.array([.string("a"), .int(1)]), matchesAnyOf: ["a"]))
        #expect(!JWTClaims.audience(nil, matchesAnyOf: ["a"]))
        #expect(!JWTClaims.audience(.string("caf\u{e9}"), matchesAnyOf: ["cafe\u{301}"]), "canonically equivalent is not the same bytes")
    }

    @Test("A token without exp is refused")
    func expiryIsRequired() throws {
        let claims = try #require(JWTClaims(json: Array(#"{"iss":"https://issuer.example","aud":"https://mcp.example/mcp/a/prod"}"#.utf8)))
        #expect(claims.violation(of: expectation, now: 1) == .missingExpiry)
    }

    // MARK: Attacks

    @Test("alg none is refused, however it is spelled")
    func algNoneIsRefused() throws {
        let parts = JOSEVectors.good.split(separator: ".").map(String.init)
        for alg in ["none", "None", "NONE", "nOnE"] {
            let header = Base64URL.encode(Array(#"{"alg":"\#(alg)","typ":"at+jwt","kid":"k1"}"#.utf8))
            for token in ["\(header).\(parts[1]).", "\(header).\(parts[1]).\(parts[2])"] {
                #expect(JWTVerifier.verify(token, keys: try keySet(), expecting: expectation, now: 1_800_000_000).failure == .algorithmRefused)
            }
        }
    }

    @Test("HS256 signed with the issuer's public key as the HMAC secret is refused")
    func hmacWithPublicKeyIsRefused() throws {
        // The attack works only on a verifier that takes the key from the token's alg; check that the
        // forgery is a real HMAC over the public key first, so this test cannot pass for the wrong reason.
        let parts = JOSEVectors.hs256WithPublicKey.split(separator: ".").map(String.init)
        let mac = HMAC.sha256(key: Array(JOSEVectors.publicKeyPEM.utf8 + [0x0a]), message: Array("\(parts[0]).\(parts[1])".utf8))
        #expect(Base64URL.encode(mac) == parts[2])
        #expect(JWTVerifier.verify(JOSEVectors.hs256WithPublicKey, keys: try keySet(), expecting: expectation, now: 1_800_000_000).failure == .algorithmRefused)
        for alg in ["HS384", "HS512", "RS384", "PS256", "ES256K"] {
            let header = Base64URL.encode(Array(#"{"alg":"\#(alg)","typ":"JWT","kid":"k1"}"#.utf8))
            #expect(JWTVerifier.verify("\(header).\(parts[1]).\(parts[2])", keys: try keySet(), expecting: expectation, now: 1).failure == .algorithmRefused)
        }
    }

    @Test("Non-canonical PKCS#1 v1.5 encodings signed with the real key are refused (the encoding is compared, never parsed)")
    func lenientEncodingsAreRefused() throws {
        let keys = try keySet()
        for forged in [JOSEVectors.forgedNoNullParameters, JOSEVectors.forgedTrailingGarbage, JOSEVectors.forgedBlockType2, JOSEVectors.forgedShortPadding] {
            #expect(JWTVerifier.verify(forged, keys: keys, expecting: expectation, now: 1_800_000_000).failure == .badSignature)
        }
    }

    @Test("A truncated signature, one with a leading zero octet added, or one plus the modulus is refused")
    func signatureLengthTricks() throws {
        let keys = try keySet()
        let parts = JOSEVectors.good.split(separator: ".").map(String.init)
        let signature = try #require(Base64URL.decode(parts[2]))
        let n = try #require(Base64URL.decode(JOSEVectors.keyN))
        let plusModulus = add(signature, n)
        for bad in [Array(signature.dropLast()), Array(signature.dropFirst()), [0] + signature, signature + [0], plusModulus, [], n] {
            let token = "\(parts[0]).\(parts[1]).\(Base64URL.encode(bad))"
            #expect(JWTVerifier.verify(token, keys: keys, expecting: expectation, now: 1_800_000_000).failure == .badSignature)
        }
    }

    @Test("A token whose kid the key set does not have is refused as an unknown key")
    func unknownKid() throws {
        let set = try keySet(kid: "k2")
        #expect(JWTVerifier.verify(JOSEVectors.good, keys: set, expecting: expectation, now: 1_800_000_000).failure == .unknownKey)
        #expect(JWTVerifier.verify(JOSEVectors.good, keys: JWKSet(keys: []), expecting: expectation, now: 1_800_000_000).failure == .unknownKey)
    }

    @Test("A key limited to another algorithm or to encryption does not verify")
    func keyAlgorithmMustMatch() throws {
        for extra in [#","alg":"RS384""#, #","use":"enc""#] {
            let set = try keySet(extra: extra)
            #expect(JWTVerifier.verify(JOSEVectors.good, keys: set, expecting: expectation, now: 1_800_000_000).failure == .keyMismatch)
        }
    }

    @Test("Keys below 2048 bits are refused, even when leading zero octets pad them to 256 octets")
    func smallKeysAreRefused() throws {
        let padded = try #require(Base64URL.decode(JOSEVectors.smallModulusPadded))
        #expect(padded.count == 256)
        #expect(throws: RSAPublicKey.KeyError.tooSmall(bits: 1024)) { try RSAPublicKey(modulus: padded, exponent: [1, 0, 1]) }
        let set = try #require(JWKSet(json: Array(#"{"keys":[{"kty":"RSA","kid":"k1","n":"\#(JOSEVectors.smallModulusPadded)","e":"AQAB"}]}"#.utf8)))
        #expect(set.keys.isEmpty)
    }

    @Test("Even, tiny or oversized public exponents are refused")
    func badExponents() throws {
        let n = try #require(Base64URL.decode(JOSEVectors.keyN))
        for e: [UInt8] in [[1], [2], [0], [1, 0, 0], [UInt8](repeating: 0xff, count: 9) + [1]] {
            #expect(throws: RSAPublicKey.KeyError.invalidExponent) { try RSAPublicKey(modulus: n, exponent: e) }
        }
    }

    @Test("A crit header, a duplicate header member, or a missing or foreign typ is refused")
    func headerRules() throws {
        let keys = try keySet()
        let payload = JOSEVectors.good.split(separator: ".")[1]
        let signature = JOSEVectors.good.split(separator: ".")[2]
        func token(_ header: String) -> String { "\(Base64URL.encode(Array(header.utf8))).\(payload).\(signature)" }
        let cases: [(String, JWTFailure)] = [
            (#"{"alg":"RS256","typ":"at+jwt","kid":"k1","crit":["exp"],"exp":1}"#, .criticalHeader),
            (#"{"alg":"RS256","typ":"at+jwt","kid":"k1","alg":"none"}"#, .malformed),
            (#"{"alg":"RS256","kid":"k1"}"#, .wrongType),
            (#"{"alg":"RS256","typ":"id_token+jwt","kid":"k1"}"#, .wrongType),
            (#"{"alg":"RS256","typ":"at+jwt","kid":7}"#, .malformed),
        ]
        for (header, failure) in cases {
            #expect(JWTVerifier.verify(token(header), keys: keys, expecting: expectation, now: 1_800_000_000).failure == failure, "\(header)")
        }
        for bad in ["", "a.b", "a.b.c.d", "\(JOSEVectors.good)=", String(repeating: "a", count: JWSCompact.maxLength + 1)] {
            #expect(JWTVerifier.verify(bad, keys: keys, expecting: expectation, now: 1).failure == .malformed)
        }
    }

    @Test("A JWK Set skips keys it cannot use and refuses private keys")
    func keySetParsing() throws {
        let n = JOSEVectors.keyN
        let set = try #require(JWKSet(json: Array("""
            {"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b"},{"kty":"oct","k":"AAAA"},{"kty":"RSA","n":"\(n)","e":"AQAB","d":"AQAB"},
                     {"kty":"RSA","kid":"k1","n":"\(n)","e":"AQAB"}]}
            """.utf8)))
        #expect(set.keys.count == 1)
        #expect(JWKSet(json: Array(#"{"keys":{}}"#.utf8)) == nil)
        #expect(JWKSet(json: Array("[]".utf8)) == nil)
    }

    // MARK: Helpers

    let issuer = "https://issuer.example"
    let audience = "https://mcp.example/mcp/a/prod"
    var expectation: JWTExpectation { JWTExpectation(issuer: issuer, audiences: [audience]) }

    func verify(_ keys: JWKSet, _ expecting: JWTExpectation, _ now: Int64) -> JWTFailure? {
        JWTVerifier.verify(JOSEVectors.good, keys: keys, expecting: expecting, now: now).failure
    }

    func keySet(kid: String = "k1", extra: String = "") throws -> JWKSet {
        try #require(JWKSet(json: Array(#"{"keys":[{"kty":"RSA","kid":"\#(kid)","n":"\#(JOSEVectors.keyN)","e":"AQAB"\#(extra)}]}"#.utf8)))
    }

    func rsaKey(_ n: String) throws -> RSAPublicKey {
        try RSAPublicKey(modulus: try #require(Base64URL.decode(n)), exponent: [1, 0, 1])
    }

    func signed(_ token: String) throws -> ([UInt8], [UInt8]) {
        let parts = token.split(separator: ".").map(String.init)
        return (Array("\(parts[0]).\(parts[1])".utf8), try #require(Base64URL.decode(parts[2])))
    }

    func flipped(_ bytes: [UInt8], bit: Int) -> [UInt8] {
        var copy = bytes
        copy[bit / 8] ^= 1 << UInt8(bit % 8)
        return copy
    }

    /// a + b for big-endian octet strings of equal length (one octet longer when it carries).
    func add(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: a.count + 1)
        var carry = 0
        for i in (0..<a.count).reversed() {
            let s = Int(a[i]) + Int(b[i]) + carry
            out[i + 1] = UInt8(s & 0xff); carry = s >> 8
        }
        out[0] = UInt8(carry)
        return out[0] == 0 ? Array(out.dropFirst()) : out
    }

    enum RFC {
        /// RFC 7515 A.2.1 (the RSA key of RFC 7517 A.1) and its example JWS.
        static let a2Modulus = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
        static let a2Token = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
        /// RFC 7520 3.3 (Bilbo's RSA key) and 4.1 (RSA v1.5 signature, compact serialization).
        static let bilboModulus = "n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw"
        static let bilboToken = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9.SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4.MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xuglII7PNDi84wnB-BDkoBwA78185hX-Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluPxUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg"
    }
}
