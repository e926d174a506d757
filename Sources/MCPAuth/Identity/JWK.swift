/// One public key from a JWK (RFC 7517 §4) — only what signature verification uses. Embedded keys in
/// a token's header (`jwk`, `jku`, `x5u`, `x5c`) are never used: keys come only from the issuer's JWKS.
public struct JWK: Sendable {
    public enum Key: Sendable {
        case rsa(RSAPublicKey)
        case p256(P256PublicKey)
    }

    public let keyID: String?
    /// RFC 7517 §4.2 `use`; a key marked for anything but `sig` never verifies a signature.
    public let use: String?
    /// RFC 7517 §4.4 `alg`; when present, the only algorithm the key may be used with.
    public let algorithm: String?
    public let key: Key

    /// Nil for a key this verifier cannot use: an unknown `kty` or curve, a malformed or weak RSA key
    /// (below 2048 bits), an EC point off the curve, or private material (a JWKS must not publish it;
    /// refusing it keeps it out of memory).
    public init?(_ json: JSON) {
        guard json["d"] == nil, let key = JWK.publicKey(json) else { return nil }
        for member in ["kid", "use", "alg"] where json[member] != nil && json[member]?.stringValue == nil { return nil }
        self.keyID = json["kid"]?.stringValue
        self.use = json["use"]?.stringValue
        self.algorithm = json["alg"]?.stringValue
        self.key = key
    }

    /// RFC 7518 §6.3.1 (RSA: n, e) and §6.2.1 (EC: crv P-256, x, y).
    static func publicKey(_ json: JSON) -> Key? {
        func bytes(_ name: String) -> [UInt8]? { json[name]?.stringValue.flatMap(Base64URL.decode) }
        switch json["kty"]?.stringValue {
        case "RSA":
            guard let n = bytes("n"), let e = bytes("e"), let key = try? RSAPublicKey(modulus: n, exponent: e) else { return nil }
            return .rsa(key)
        case "EC":
            guard json["crv"]?.stringValue == "P-256", let x = bytes("x"), let y = bytes("y"), let key = try? P256PublicKey(x: x, y: y) else { return nil }
            return .p256(key)
        default:
            return nil
        }
    }

    /// Whether this key may verify a signature made with `alg` (RFC 7518 §3.1 names the key type each
    /// algorithm needs).
    func accepts(_ alg: String) -> Bool {
        guard use == nil || use == "sig", algorithm == nil || algorithm == alg else { return false }
        switch key {
        case .rsa: return alg == "RS256"
        case .p256: return alg == "ES256"
        }
    }
}

/// A JWK Set (RFC 7517 §5). Keys this verifier cannot use are skipped (§5: "SHOULD ignore JWKs … that
/// use kty values that are not understood"), so one odd key does not lose the issuer its others.
public struct JWKSet: Sendable {
    /// Documents larger than this are refused.
    public static let maxBytes = 256 * 1024
    public static let maxKeys = 64

    public let keys: [JWK]

    public init(keys: [JWK]) { self.keys = keys }

    /// Nil when `bytes` is not a JWK Set document.
    public init?(json bytes: [UInt8]) {
        guard bytes.count <= JWKSet.maxBytes, let json = JOSEJSON.object(bytes),
              let keys = json["keys"]?.arrayValue, keys.count <= JWKSet.maxKeys else { return nil }
        self.keys = keys.compactMap(JWK.init)
    }

    /// The key that must verify a token with header `alg` and `kid`: the key with that id, or, for a
    /// token without `kid`, the set's only key for `alg`.
    func key(alg: String, kid: String?) -> Result<JWK, JWTFailure> {
        guard let kid else {
            let usable = keys.filter { $0.accepts(alg) }
            return usable.count == 1 ? .success(usable[0]) : .failure(.unknownKey)
        }
        guard let key = keys.first(where: { $0.keyID.map { JOSEJSON.sameBytes($0, kid) } ?? false }) else { return .failure(.unknownKey) }
        return key.accepts(alg) ? .success(key) : .failure(.keyMismatch)
    }
}
