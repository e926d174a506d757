/// Verification of a signed JWT access token (RFC 7519, RFC 9068) against an issuer's JWK Set.
public enum JWTVerifier {
    /// The only algorithms accepted. `none` (RFC 7518 §3.6) and every HMAC algorithm are refused: a
    /// verifier that took HS256 could be fooled into using the issuer's public key as the HMAC secret.
    public static let algorithms: Set<String> = ["RS256", "ES256"]

    /// RFC 9068 §2.1 names `at+jwt` (also as `application/at+jwt`); issuers that predate it send `JWT`.
    /// RFC 7515 §4.1.9: the media type comparison is case-insensitive.
    static let types: Set<String> = ["at+jwt", "application/at+jwt", "jwt"]

    /// The token's header, checked for shape, algorithm and type: the first step, before a key is chosen.
    public static func parse(_ token: String) -> Result<JWSCompact, JWTFailure> {
        let jws: JWSCompact
        do { jws = try JWSCompact(token) } catch { return .failure(error) }
        if let failure = headerViolation(jws) { return .failure(failure) }
        return .success(jws)
    }

    /// Whether the header names an accepted algorithm and type.
    public static func headerViolation(_ jws: JWSCompact) -> JWTFailure? {
        guard algorithms.contains(jws.algorithm) else { return .algorithmRefused }
        guard let typ = jws.type, types.contains(typ.lowercased()) else { return .wrongType }
        return nil
    }

    /// The whole check: header, key (from `keys` only), signature, then claims. `unknownKey` means the
    /// caller may refresh the key set once and try again.
    public static func verify(_ token: String, keys: JWKSet, expecting: JWTExpectation, now: Int64) -> Result<JWTClaims, JWTFailure> {
        parse(token).flatMap { verify($0, keys: keys, expecting: expecting, now: now) }
    }

    public static func verify(_ jws: JWSCompact, keys: JWKSet, expecting: JWTExpectation, now: Int64) -> Result<JWTClaims, JWTFailure> {
        keys.key(alg: jws.algorithm, kid: jws.keyID).flatMap { key in
            guard signatureHolds(jws, key: key) else { return .failure(.badSignature) }
            guard let claims = JWTClaims(json: jws.payload) else { return .failure(.malformed) }
            if let failure = claims.violation(of: expecting, now: now) { return .failure(failure) }
            return .success(claims)
        }
    }

    /// RFC 7518 §3.3 RS256: RSASSA-PKCS1-v1_5 with SHA-256 over the signing input.
    static func signatureHolds(_ jws: JWSCompact, key: JWK) -> Bool {
        switch (jws.algorithm, key.key) {
        case ("RS256", .rsa(let rsa)): return rsa.verifyPKCS1SHA256(signature: jws.signature, message: jws.signingInput)
        // RFC 7518 §3.4 ES256: ECDSA P-256 with SHA-256, the signature as R ‖ S.
        case ("ES256", .p256(let ec)): return ec.verifySHA256(signature: jws.signature, message: jws.signingInput)
        default: return false
        }
    }
}
