import FuzzSupport
import MCPAuth

/// Fuzzes the credential text format (`TokenSecret`): `mcp_<kind>_` + 32 base62 characters + 6 base62
/// characters of CRC32 over what precedes them.
///
/// Input: any bytes, read two ways: as text handed to `kind(of:)` and `find(in:)`, and as the makings of
/// a well-formed secret (a kind, 32 random characters, a position and a replacement character).
/// Properties: whatever parses has a known kind, the exact layout and a valid checksum; `find` reports
/// only such secrets, found in the text; a well-formed secret parses and is found inside other text; and
/// changing any one of its characters makes it invalid.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokens(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    let text = String(decoding: bytes, as: UTF8.self)
    if let kind = TokenSecret.kind(of: text) {
        checkWellFormed(text, kind: kind)
    }
    for secret in TokenSecret.find(in: text) {
        // Bytes, not Characters: a combining mark right after a secret joins its last character.
        invariant(contains(Array(text.utf8), Array(secret.utf8)), "find reported text that is not in the input")
        invariant(TokenSecret.kind(of: secret) != nil, "find reported an invalid secret \(secret)")
    }
    checkMadeSecret(from: bytes)
    return 0
}

func checkWellFormed(_ secret: String, kind: String) {
    invariant(TokenSecret.kinds.contains(kind), "unknown kind \(kind)")
    let prefix = "mcp_\(kind)_"
    let utf8 = Array(secret.utf8)
    invariant(secret.hasPrefix(prefix), "\(secret) does not start with \(prefix)")
    invariant(utf8.count == prefix.utf8.count + TokenSecret.randomLength + TokenSecret.checksumLength, "wrong length: \(secret)")
    invariant(Base62.isBase62(String(decoding: utf8[prefix.utf8.count...], as: UTF8.self)), "not base62: \(secret)")
    let body = utf8.dropLast(TokenSecret.checksumLength)
    let expected = Base62.encode(UInt64(CRC32.checksum(body)), width: TokenSecret.checksumLength)
    invariant(String(decoding: utf8.suffix(TokenSecret.checksumLength), as: UTF8.self) == expected, "bad checksum accepted: \(secret)")
    invariant(!TokenSecret.redacted(secret).contains(String(decoding: utf8[prefix.utf8.count...].prefix(8), as: UTF8.self)),
              "redaction shows the random part")
}

func checkMadeSecret(from bytes: [UInt8]) {
    guard bytes.count >= 3 else { return }
    let kind = TokenSecret.kinds[Int(bytes[0]) % TokenSecret.kinds.count]
    let random = (0..<TokenSecret.randomLength).map { i in
        Base62.alphabet[Int(bytes[(3 + i) % bytes.count]) % Base62.alphabet.count]
    }
    let body = "mcp_\(kind)_" + String(decoding: random, as: UTF8.self)
    let secret = body + Base62.encode(UInt64(CRC32.checksum(Array(body.utf8))), width: TokenSecret.checksumLength)
    invariant(TokenSecret.kind(of: secret) == kind, "well-formed \(secret) rejected")
    invariant(TokenSecret.find(in: "key=\(secret); ") == [secret], "well-formed \(secret) not found in text")
    var mutated = Array(secret.utf8)
    let position = Int(bytes[1]) % mutated.count
    let replacement = Base62.alphabet[Int(bytes[2]) % Base62.alphabet.count]
    guard mutated[position] != replacement else { return }
    mutated[position] = replacement
    let changed = String(decoding: mutated, as: UTF8.self)
    invariant(TokenSecret.kind(of: changed) == nil, "\(changed) (one character changed from \(secret)) accepted")
}

func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard needle.count <= haystack.count else { return false }
    return (0...(haystack.count - needle.count)).contains { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
}
