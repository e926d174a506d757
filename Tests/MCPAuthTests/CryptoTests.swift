import Foundation
import MCPAuth
import Testing

/// Published test vectors and a Python cross-check for the hand-written
/// primitives in `MCPAuth/Crypto`.
@Suite("Cryptographic primitives")
struct CryptoTests {}

// MARK: - Helpers

private func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

private func hex(_ data: [UInt8]) -> String { Hex.encode(data) }

/// SplitMix64: a small seeded generator so a failing cross-check can be replayed from its seed.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

// MARK: - SHA-256

extension CryptoTests {
    @Suite("SHA-256")
    struct SHA256Vectors {
        @Test("SHA-256 matches the FIPS 180-2 vectors", arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
             "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
        ])
        func matchesFIPSVectors(message: String, digest: String) {
            #expect(hex(SHA256.hash(message)) == digest)
            #expect(hex(SHA256.hash(bytes(message))) == digest)
        }

        @Test("SHA-256 of one million 'a' characters matches FIPS 180-2")
        func millionAs() {
            let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
            #expect(hex(SHA256.hash(message)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        }

        @Test("Hashing one million 'a' characters in 1000-byte updates matches the one-shot digest")
        func millionAsIncrementally() {
            let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
            var hasher = SHA256.Hasher()
            for _ in 0..<1000 { hasher.update(chunk) }
            #expect(hex(hasher.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        }

        @Test("Incremental hashing in odd-sized pieces equals one-shot hashing")
        func incrementalEqualsOneShot() {
            var generator = SplitMix64(state: 42)
            let message = (0..<2000).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let expected = SHA256.hash(message)
            for pieceSizes in [[1], [3, 7], [13, 63, 64, 65], [55, 56, 57], [127, 1, 129], [1999]] {
                var hasher = SHA256.Hasher()
                var offset = 0
                var index = 0
                while offset < message.count {
                    let size = min(pieceSizes[index % pieceSizes.count], message.count - offset)
                    hasher.update(message[offset..<(offset + size)])
                    offset += size
                    index += 1
                }
                #expect(hasher.finalize() == expected, "pieces \(pieceSizes)")
            }
        }

        @Test("Empty updates change nothing")
        func emptyUpdates() {
            var hasher = SHA256.Hasher()
            hasher.update([UInt8]())
            hasher.update(bytes("ab"))
            hasher.update([UInt8]())
            hasher.update(bytes("c"))
            #expect(hex(hasher.finalize()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        }

        @Test("A non-contiguous collection hashes the same as an array")
        func nonContiguousCollection() {
            let lazyBytes = (0..<5000).lazy.map { UInt8(truncatingIfNeeded: $0 &* 31) }
            #expect(SHA256.hash(lazyBytes) == SHA256.hash(Array(lazyBytes)))
        }

        @Test("A hasher starts over after finalize")
        func finalizeResets() {
            var hasher = SHA256.Hasher()
            hasher.update(bytes("something else"))
            _ = hasher.finalize()
            hasher.update(bytes("abc"))
            #expect(hex(hasher.finalize()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        }

        @Test("The digest size is 32 bytes")
        func digestSize() {
            #expect(SHA256.digestSize == 32)
            #expect(SHA256.hash("").count == SHA256.digestSize)
        }
    }
}

// MARK: - HMAC-SHA256

extension CryptoTests {
    struct HMACVector: Sendable, CustomTestStringConvertible {
        let name: String
        let key: [UInt8]
        let message: [UInt8]
        let mac: String
        var testDescription: String { name }
    }

    @Suite("HMAC-SHA256")
    struct HMACVectors {
        /// RFC 4231 §4.2–§4.8 (case 5, truncation, is tested separately).
        static let vectors: [HMACVector] = [
            HMACVector(name: "RFC 4231 test case 1",
                       key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8),
                       mac: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            HMACVector(name: "RFC 4231 test case 2",
                       key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8),
                       mac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            HMACVector(name: "RFC 4231 test case 3",
                       key: [UInt8](repeating: 0xaa, count: 20), message: [UInt8](repeating: 0xdd, count: 50),
                       mac: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
            HMACVector(name: "RFC 4231 test case 4",
                       key: Array(1...25), message: [UInt8](repeating: 0xcd, count: 50),
                       mac: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
            HMACVector(name: "RFC 4231 test case 6",
                       key: [UInt8](repeating: 0xaa, count: 131),
                       message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
                       mac: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            HMACVector(name: "RFC 4231 test case 7",
                       key: [UInt8](repeating: 0xaa, count: 131),
                       message: Array(("This is a test using a larger than block-size key and a larger than block-size data. "
                           + "The key needs to be hashed before being used by the HMAC algorithm.").utf8),
                       mac: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
        ]

        @Test("HMAC-SHA256 matches the RFC 4231 vectors", arguments: vectors)
        func matchesRFC4231(vector: HMACVector) {
            #expect(hex(HMAC.sha256(key: vector.key, message: vector.message)) == vector.mac)
        }

        @Test("HMAC-SHA256 truncated to 128 bits matches RFC 4231 test case 5")
        func truncatedCase5() {
            let mac = HMAC.sha256(key: [UInt8](repeating: 0x0c, count: 20), message: bytes("Test With Truncation"))
            #expect(hex(Array(mac.prefix(16))) == "a3b6167473100ee06e0c796c2955552b")
        }

        @Test("A key of exactly one block is used as is, and one byte more is hashed first")
        func blockSizedKeys() {
            let block = [UInt8](repeating: 0x42, count: 64)
            let longer = block + [0x42]
            // RFC 2104: a 65-byte key is replaced by its 32-byte hash.
            #expect(HMAC.sha256(key: longer, message: bytes("m")) == HMAC.sha256(key: SHA256.hash(longer), message: bytes("m")))
            #expect(HMAC.sha256(key: block, message: bytes("m")) != HMAC.sha256(key: SHA256.hash(block), message: bytes("m")))
        }
    }
}

// MARK: - PBKDF2-HMAC-SHA256

extension CryptoTests {
    struct PBKDF2Vector: Sendable, CustomTestStringConvertible {
        let password: [UInt8]
        let salt: [UInt8]
        let iterations: Int
        let derivedKey: String
        var testDescription: String {
            "P=\(String(decoding: password, as: UTF8.self).debugDescription) c=\(iterations) dkLen=\(derivedKey.count / 2)"
        }
    }

    @Suite("PBKDF2-HMAC-SHA256")
    struct PBKDF2Vectors {
        /// The RFC 6070 inputs with SHA-256 outputs, plus RFC 7914 §11.
        static let vectors: [PBKDF2Vector] = [
            PBKDF2Vector(password: Array("password".utf8), salt: Array("salt".utf8), iterations: 1,
                         derivedKey: "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"),
            PBKDF2Vector(password: Array("password".utf8), salt: Array("salt".utf8), iterations: 2,
                         derivedKey: "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"),
            PBKDF2Vector(password: Array("password".utf8), salt: Array("salt".utf8), iterations: 4096,
                         derivedKey: "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"),
            PBKDF2Vector(password: Array("passwordPASSWORDpassword".utf8),
                         salt: Array("saltSALTsaltSALTsaltSALTsaltSALTsalt".utf8), iterations: 4096,
                         derivedKey: "348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1c635518c7dac47e9"),
            PBKDF2Vector(password: Array("pass\0word".utf8), salt: Array("sa\0lt".utf8), iterations: 4096,
                         derivedKey: "89b69d0516f829893c696226650a8687"),
            PBKDF2Vector(password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1,
                         derivedKey: "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
                             + "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"),
        ]

        @Test("PBKDF2-HMAC-SHA256 matches the published vectors", arguments: vectors)
        func matchesPublishedVectors(vector: PBKDF2Vector) {
            let derived = PBKDF2.sha256(password: vector.password, salt: vector.salt,
                                        iterations: vector.iterations, keyLength: vector.derivedKey.count / 2)
            #expect(hex(derived) == vector.derivedKey)
        }

        @Test("A shorter derived key is a prefix of a longer one")
        func prefixProperty() {
            let long = PBKDF2.sha256(password: bytes("pw"), salt: bytes("salt"), iterations: 3, keyLength: 100)
            let short = PBKDF2.sha256(password: bytes("pw"), salt: bytes("salt"), iterations: 3, keyLength: 33)
            #expect(long.count == 100)
            #expect(Array(long.prefix(33)) == short)
        }

        @Test("A zero-length derived key is empty")
        func zeroLength() {
            #expect(PBKDF2.sha256(password: bytes("pw"), salt: bytes("salt"), iterations: 1, keyLength: 0).isEmpty)
        }
    }
}

// MARK: - Base64URL

extension CryptoTests {
    @Suite("Base64URL")
    struct Base64URLTests {
        @Test("Base64URL matches the RFC 4648 §10 vectors without padding", arguments: [
            ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"),
            ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy"),
        ])
        func rfc4648Vectors(plain: String, encoded: String) {
            #expect(Base64URL.encode(bytes(plain)) == encoded)
            #expect(Base64URL.decode(encoded) == bytes(plain))
        }

        @Test("Base64URL uses '-' and '_' where base64 uses '+' and '/'")
        func urlSafeAlphabet() {
            #expect(Base64URL.encode([0xfb, 0xff]) == "-_8")
            #expect(Base64URL.encode([0xf8, 0x3e, 0xff]) == "-D7_")
            #expect(Base64URL.decode("-D7_") == [0xf8, 0x3e, 0xff])
        }

        @Test("The S256 challenge of the RFC 7636 Appendix B verifier matches")
        func pkceVector() {
            let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
            #expect(Base64URL.encode(SHA256.hash(verifier)) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
            #expect(Base64URL.decode(verifier) == [
                116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186,
                22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
            ])
        }

        @Test("Every byte string up to 70 bytes round-trips")
        func roundTrips() {
            var generator = SplitMix64(state: 7)
            for length in 0...70 {
                let data = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
                let encoded = Base64URL.encode(data)
                #expect(encoded.count == (length * 4 + 2) / 3)
                #expect(Base64URL.decode(encoded) == data)
            }
        }

        @Test("Decoding rejects padding, foreign characters, impossible lengths and non-canonical bits", arguments: [
            "Zg==", "Zm8=", "Zm9v=", "Zm9v+", "Zm9v/", "Zm9 v", "Zm9v\n", "Z", "Zm9vY", "Zh", "Zm9", "é", "Zm9vYmF=",
        ])
        func rejectsInvalid(input: String) {
            #expect(Base64URL.decode(input) == nil)
        }
    }
}

// MARK: - CRC-32

extension CryptoTests {
    @Suite("CRC-32")
    struct CRC32Tests {
        @Test("CRC-32 of \"123456789\" is the 0xCBF43926 check value")
        func checkValue() {
            #expect(CRC32.checksum(bytes("123456789")) == 0xcbf4_3926)
        }

        @Test("CRC-32 of nothing is zero")
        func empty() {
            #expect(CRC32.checksum([UInt8]()) == 0)
        }

        @Test("CRC-32 of a non-contiguous collection equals that of an array")
        func nonContiguous() {
            let lazyBytes = bytes("123456789").lazy.map { $0 }.filter { _ in true }
            #expect(CRC32.checksum(lazyBytes) == 0xcbf4_3926)
        }
    }
}

// MARK: - Hex

extension CryptoTests {
    @Suite("Hex")
    struct HexTests {
        @Test("Hex encodes lowercase and decodes either case")
        func encodeDecode() {
            #expect(Hex.encode([0x00, 0x01, 0xab, 0xff]) == "0001abff")
            #expect(Hex.encode([UInt8]()) == "")
            #expect(Hex.decode("0001abff") == [0x00, 0x01, 0xab, 0xff])
            #expect(Hex.decode("0001ABFF") == [0x00, 0x01, 0xab, 0xff])
            #expect(Hex.decode("") == [])
        }

        @Test("Hex decoding rejects odd lengths and non-hex characters", arguments: ["0", "abc", "0g", "0x00", " 00", "zz", "é0"])
        func rejectsInvalid(input: String) {
            #expect(Hex.decode(input) == nil)
        }

        @Test("All byte values round-trip through hex")
        func roundTrip() {
            let all = (0...255).map { UInt8($0) }
            #expect(Hex.decode(Hex.encode(all)) == all)
        }
    }
}

// MARK: - Base62

extension CryptoTests {
    @Suite("Base62")
    struct Base62Tests {
        @Test("Base62 encodes fixed-width, left-padded with zeros")
        func encodesWithPadding() {
            #expect(Base62.encode(0, width: 4) == "0000")
            #expect(Base62.encode(0, width: 0) == "0")
            #expect(Base62.encode(61, width: 1) == "z")
            #expect(Base62.encode(62, width: 3) == "010")
            #expect(Base62.encode(1_234_567_890, width: 8) == "001LY7VK")
            #expect(Base62.encode(UInt64.max, width: 11) == "LygHa16AHYF")
        }

        @Test("A value wider than the requested width is emitted in full")
        func widthIsAMinimum() {
            #expect(Base62.encode(UInt64.max, width: 2) == "LygHa16AHYF")
        }

        @Test("Base62 values round-trip, including leading zeros")
        func roundTrips() {
            var generator = SplitMix64(state: 62)
            for value in [0, 1, 61, 62, 3843, 3844, UInt64.max - 1, UInt64.max] + (0..<200).map({ _ in generator.next() }) {
                #expect(Base62.decode(Base62.encode(value, width: 11)) == value)
                #expect(Base62.decode(Base62.encode(value, width: 16)) == value)
            }
            #expect(Base62.decode("0000z") == 61)
            #expect(Base62.decode("x10z".dropFirst()) == 62 * 62 + 61)
        }

        @Test("Base62 decoding rejects invalid characters, empty input and overflow", arguments: [
            "", "ab-c", "a b", "é", "abc=", "LygHa16AHYG", "zzzzzzzzzzzz", "100000000000",
        ])
        func rejectsInvalid(input: String) {
            #expect(Base62.decode(input) == nil)
        }

        @Test("isBase62 accepts exactly non-empty alphanumeric strings")
        func isBase62() {
            #expect(Base62.isBase62("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
            #expect(Base62.isBase62("prefix_abc".split(separator: "_")[1]))
            #expect(!Base62.isBase62(""))
            #expect(!Base62.isBase62("abc_def"))
            #expect(!Base62.isBase62("abc\0"))
            #expect(!Base62.isBase62("ａbc"))
        }

        @Test("The alphabet is the 62 ASCII alphanumerics in ascending order")
        func alphabet() {
            #expect(String(decoding: Base62.alphabet, as: UTF8.self)
                == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        }

        @Test("random(count:) has the requested length and uses only the alphabet")
        func randomStrings() {
            #expect(Base62.random(count: 0) == "")
            for count in [1, 22, 43, 1000] {
                let token = Base62.random(count: count)
                #expect(token.utf8.count == count)
                #expect(Base62.isBase62(token))
            }
            #expect(Base62.random(count: 32) != Base62.random(count: 32))
        }

        @Test("random(count:) shows no modulo bias")
        func randomIsUniform() {
            // 200,000 draws: each character expects ~3226 (σ ≈ 56). Without
            // rejection sampling, '0'…'7' would expect ~3906, far outside ±400.
            var counts = [Int](repeating: 0, count: 128)
            for character in Base62.random(count: 200_000).utf8 { counts[Int(character)] += 1 }
            for character in Base62.alphabet {
                #expect(abs(counts[Int(character)] - 200_000 / 62) < 400, "\(UnicodeScalar(character))")
            }
        }
    }
}

// MARK: - SecureRandom and ConstantTime

extension CryptoTests {
    @Suite("SecureRandom")
    struct SecureRandomTests {
        @Test("SecureRandom returns the requested number of bytes, different each call")
        func differentEachCall() {
            #expect(SecureRandom.bytes(0).isEmpty)
            #expect(SecureRandom.bytes(1_000_000).count == 1_000_000)
            let first = SecureRandom.bytes(32)
            let second = SecureRandom.bytes(32)
            #expect(first.count == 32)
            #expect(first != second)
        }
    }

    @Suite("ConstantTime")
    struct ConstantTimeTests {
        @Test("ConstantTime.equals follows the truth table")
        func truthTable() {
            let digest = SHA256.hash("abc")
            var lastDiffers = digest
            lastDiffers[31] ^= 0x01
            var firstDiffers = digest
            firstDiffers[0] ^= 0x80
            #expect(ConstantTime.equals(digest, digest))
            #expect(ConstantTime.equals(digest, Array(digest)))
            #expect(!ConstantTime.equals(digest, lastDiffers))
            #expect(!ConstantTime.equals(digest, firstDiffers))
            #expect(!ConstantTime.equals(digest, digest.prefix(31)))
            #expect(!ConstantTime.equals(digest + [0], digest))
            #expect(ConstantTime.equals([UInt8](), [UInt8]()))
            #expect(!ConstantTime.equals([UInt8](), [0]))
            #expect(ConstantTime.equals(bytes("token"), "token".utf8))
        }
    }
}

// MARK: - Cross-check against Python

/// Whether `python3` can be found on `PATH` (the cross-check is skipped, visibly, otherwise).
private let pythonAvailable: Bool = (ProcessInfo.processInfo.environment["PATH"] ?? "")
    .split(separator: ":")
    .contains { FileManager.default.isExecutableFile(atPath: "\($0)/python3") }

extension CryptoTests {
    /// One input line for the Python oracle and the results it must agree with.
    private struct CrossCheckCase {
        let key: [UInt8]
        let data: [UInt8]
        let iterations: Int
        let keyLength: Int

        var line: String { "\(Hex.encode(key)) \(Hex.encode(data)) \(iterations) \(keyLength)" }

        /// SHA-256, HMAC, PBKDF2 and base64url in hex/text, and CRC-32 in decimal, matching the script's output order.
        var swiftResults: String {
            [
                Hex.encode(SHA256.hash(data)),
                Hex.encode(HMAC.sha256(key: key, message: data)),
                Hex.encode(PBKDF2.sha256(password: key, salt: data, iterations: iterations, keyLength: keyLength)),
                String(CRC32.checksum(data)),
                Base64URL.encode(data),
            ].joined(separator: " ")
        }
    }

    private static let pythonOracle = """
        import sys, hashlib, hmac, zlib, base64
        for line in sys.stdin.read().splitlines():
            k, d, c, n = line.split(" ")
            key, data = bytes.fromhex(k), bytes.fromhex(d)
            print(" ".join([
                hashlib.sha256(data).hexdigest(),
                hmac.new(key, data, "sha256").hexdigest(),
                hashlib.pbkdf2_hmac("sha256", key, data, int(c), int(n)).hex(),
                str(zlib.crc32(data)),
                base64.urlsafe_b64encode(data).decode().rstrip("="),
            ]))
        """

    @Test("SHA-256, HMAC, PBKDF2, CRC-32 and Base64URL agree with Python on random inputs",
          .enabled(if: pythonAvailable, "python3 is not on PATH"))
    func agreesWithPython() throws {
        let seed = SecureRandom.bytes(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        var generator = SplitMix64(state: seed)
        func randomBytes(_ count: Int) -> [UInt8] {
            (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        }
        // Block-boundary lengths first, then random ones.
        let lengths = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128] + (0..<50).map { _ in Int.random(in: 0...300, using: &generator) }
        let cases = lengths.map { length in
            CrossCheckCase(key: randomBytes(Int.random(in: 0...150, using: &generator)),
                           data: randomBytes(length),
                           iterations: Int.random(in: 1...5, using: &generator),
                           keyLength: Int.random(in: 1...80, using: &generator))
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.pythonOracle]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(cases.map(\.line).joined(separator: "\n").utf8))
        try input.fileHandleForWriting.close()
        let reply = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)

        let pythonLines = String(decoding: reply, as: UTF8.self).split(separator: "\n").map(String.init)
        try #require(pythonLines.count == cases.count)
        for (testCase, expected) in zip(cases, pythonLines) {
            #expect(testCase.swiftResults == expected, "seed \(seed), input \(testCase.line)")
        }
    }
}
