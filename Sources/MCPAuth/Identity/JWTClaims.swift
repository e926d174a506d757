/// What a token must say to be accepted: who issued it and for whom.
public struct JWTExpectation: Sendable {
    /// Compared byte for byte with `iss` (RFC 7519 §4.1.1; RFC 9068 §4).
    public let issuer: String
    /// `aud` must contain one of these (RFC 7519 §4.1.3; RFC 8707: the resource's URL).
    public let audiences: [String]
    /// Clock skew allowed around `exp`, `nbf` and `iat`.
    public let leewaySeconds: Int64

    public init(issuer: String, audiences: [String], leewaySeconds: Int64 = 30) {
        self.issuer = issuer; self.audiences = audiences; self.leewaySeconds = leewaySeconds
    }
}

/// The claims set of a JWT (RFC 7519 §4): a JSON object with unique member names.
public struct JWTClaims: Sendable {
    public let json: JSON

    public init?(json bytes: [UInt8]) {
        guard let json = JOSEJSON.object(bytes) else { return nil }
        self.json = json
    }

    public init?(object json: JSON) {
        guard case .object = json, JOSEJSON.uniqueMembers(json) else { return nil }
        self.json = json
    }

    public subscript(name: String) -> JSON? { json[name] }

    /// RFC 7519 §2 NumericDate: seconds since the epoch, possibly fractional (truncated here).
    public func date(_ name: String) -> Int64?? {
        guard let value = json[name] else { return .some(nil) }
        guard let seconds = JWTClaims.numericDate(value) else { return nil }
        return .some(seconds)
    }

    /// The latest NumericDate accepted: the last second of the year 9999. A larger value (an `exp` in
    /// milliseconds or nanoseconds, or a hostile 2^63 − 1) is malformed rather than a date, so that
    /// `exp + leeway` and `exp * 1000` can never overflow.
    public static let latestDate: Int64 = 253_402_300_799

    /// A JSON value as a NumericDate (RFC 7519 §2) in [0, `latestDate`], or nil.
    public static func numericDate(_ value: JSON) -> Int64? {
        let seconds: Int64
        switch value {
        case .int(let i): seconds = i
        case .double(let d) where d.isFinite && abs(d) < 9e15: seconds = Int64(d.rounded(.down))
        default: return nil
        }
        return (0...latestDate).contains(seconds) ? seconds : nil
    }

    /// The first rule the claims break, or nil when they meet `expectation` at `now` (seconds).
    public func violation(of expectation: JWTExpectation, now: Int64) -> JWTFailure? {
        guard case .string(let iss)? = json["iss"] else { return .wrongIssuer }
        guard JOSEJSON.sameBytes(iss, expectation.issuer) else { return .wrongIssuer }
        guard JWTClaims.audience(json["aud"], matchesAnyOf: expectation.audiences) else { return .wrongAudience }
        guard let exp = date("exp"), let nbf = date("nbf"), let iat = date("iat") else { return .malformed }
        guard let exp else { return .missingExpiry }
        let leeway = expectation.leewaySeconds
        if now >= exp + leeway { return .expired }
        if let nbf, now + leeway < nbf { return .notYetValid }
        if let iat, iat > now + leeway { return .issuedInFuture }
        return nil
    }

    /// RFC 7519 §4.1.3: `aud` is one string or an array of strings; it matches when one of them equals
    /// (byte for byte) one of `expected`. Absent or of another type: no match.
    public static func audience(_ aud: JSON?, matchesAnyOf expected: [String]) -> Bool {
        let given: [String]
        switch aud {
        case .string(let s)?: given = [s]
        case .array(let items)?:
            let strings = items.compactMap(\.stringValue)
            guard strings.count == items.count else { return false }
            given = strings
        default: return false
        }
        return given.contains { g in expected.contains { JOSEJSON.sameBytes(g, $0) } }
    }
}
