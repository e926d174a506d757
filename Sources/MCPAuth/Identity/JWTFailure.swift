/// Why a JSON Web Token was refused. The raw values go into audit rows (never into a 401 body, which
/// says only `invalid_token`).
public enum JWTFailure: String, Error, Sendable {
    case malformed = "malformed JWT"
    case algorithmRefused = "JWT alg not accepted"
    case criticalHeader = "JWT crit header not understood"
    case unknownKey = "JWT key id unknown to the issuer's JWKS"
    case keyMismatch = "JWT alg does not match its key"
    case badSignature = "JWT signature invalid"
    case wrongType = "JWT typ not accepted"
    case wrongIssuer = "JWT issuer mismatch"
    case wrongAudience = "JWT audience mismatch"
    case missingExpiry = "JWT has no exp"
    case expired = "JWT expired"
    case notYetValid = "JWT not yet valid"
    case issuedInFuture = "JWT issued in the future"
}

/// JSON as JOSE reads it: RFC 7515 §5.2 and RFC 7519 §4 let a parser reject an object with duplicate
/// member names, and this one does, so no two parsers can read one token differently.
enum JOSEJSON {
    static let maxDepth = 16

    /// The object in `bytes`, or nil when they are not one JSON object with unique member names.
    static func object(_ bytes: [UInt8]) -> JSON? {
        guard let json = try? JSON.parse(bytes, maxDepth: maxDepth), case .object = json, uniqueMembers(json) else { return nil }
        return json
    }

    static func uniqueMembers(_ json: JSON) -> Bool {
        switch json {
        case .object(let pairs):
            var seen = Set<String>()
            for (key, value) in pairs {
                guard seen.insert(key).inserted, uniqueMembers(value) else { return false }
            }
            return true
        case .array(let items): return items.allSatisfy(uniqueMembers)
        default: return true
        }
    }

    /// Byte-for-byte string equality (Swift's `==` on String treats canonically equivalent Unicode as
    /// equal, which an issuer or audience comparison must not).
    static func sameBytes(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }
}
