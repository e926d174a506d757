/// A JWS in the compact serialization (RFC 7515 §7.1): BASE64URL(header) "." BASE64URL(payload) "."
/// BASE64URL(signature). Parsing checks only the shape; `JWTVerifier` decides whether to trust it.
public struct JWSCompact: Sendable {
    /// Tokens longer than this are refused before any decoding.
    public static let maxLength = 16 * 1024

    public let header: JSON
    public let payload: [UInt8]
    /// RFC 7515 §5.2 step 8: the ASCII of the first two encoded parts and the dot between them.
    public let signingInput: [UInt8]
    public let signature: [UInt8]
    public let algorithm: String
    public let keyID: String?
    public let type: String?

    public init(_ token: String) throws(JWTFailure) {
        guard token.utf8.count <= JWSCompact.maxLength else { throw .malformed }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
              let headerBytes = Base64URL.decode(String(parts[0])),
              let payload = Base64URL.decode(String(parts[1])),
              let signature = Base64URL.decode(String(parts[2])),
              let header = JOSEJSON.object(headerBytes),
              case .string(let alg)? = header["alg"] else { throw .malformed }
        // RFC 7515 §4.1.11: a `crit` header names extensions that must be understood; none are here.
        guard header["crit"] == nil else { throw .criticalHeader }
        let kid = header["kid"], typ = header["typ"]
        guard kid == nil || kid?.stringValue != nil, typ == nil || typ?.stringValue != nil else { throw .malformed }
        self.header = header
        self.payload = payload
        self.signingInput = Array(parts[0].utf8) + [UInt8(ascii: ".")] + Array(parts[1].utf8)
        self.signature = signature
        self.algorithm = alg
        self.keyID = kid?.stringValue
        self.type = typ?.stringValue
    }
}
