import MCPAuth
import Testing

/// SHA-256 at block boundaries, and the multi-buffer hasher (four messages per SIMD lane set, used by the
/// audit verifier) against published vectors and the one-message hasher.
@Suite("SHA-256 multi-buffer")
struct SHA256MultiBufferTests {
    /// FIPS 180-2 Appendix B vectors (the last is one million 'a').
    static let fips: [(message: [UInt8], digest: String)] = [
        (Array("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ([], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (Array("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu".utf8),
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
        ([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000),
         "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
    ]

    /// SHA-256 of n 'a' bytes at the lengths where padding changes shape (55 is the longest message whose
    /// padding fits its last block, 56 the shortest that needs one more), as Python's hashlib gives them.
    static let boundaries: [(length: Int, digest: String)] = [
        (0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (1, "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"),
        (55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
        (56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
        (57, "f13b2d724659eb3bf47f2dd6af1accc87b81f09f59f2b75e5c0bed6589dfe8c6"),
        (63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
        (64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
        (65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"),
        (119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"),
        (120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"),
        (121, "e9615320128cc7a3d6078e9af05603188e5ccbf0d07d8b735d3df5e8e0c1281f"),
        (128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e"),
    ]

    @Test func messagesAtBlockBoundariesHashToTheirKnownDigestsOneByOneAndTogether() {
        let messages = Self.boundaries.map { [UInt8](repeating: UInt8(ascii: "a"), count: $0.length) }
        let together = SHA256.hashEach(messages)
        for (i, vector) in Self.boundaries.enumerated() {
            #expect(Hex.encode(SHA256.hash(messages[i])) == vector.digest, "length \(vector.length)")
            #expect(Hex.encode(together[i]) == vector.digest, "length \(vector.length), multi-buffer")
        }
    }

    @Test func theFIPSVectorsHashedTogetherGiveTheirPublishedDigests() {
        // One long message keeps a lane busy while the others finish and start short ones.
        let digests = SHA256.hashEach(Self.fips.map(\.message) + Self.fips.map(\.message).reversed())
        let expected = Self.fips.map(\.digest) + Self.fips.map(\.digest).reversed()
        #expect(digests.map { Hex.encode($0) } == expected)
    }

    @Test func everyLengthUpTo300AndEveryBatchSizeUpTo9AgreesWithOneMessageHashing() {
        let pattern = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 151 &+ 7) }
        let messages = (0...300).map { Array(pattern.prefix($0)) }
        #expect(SHA256.hashEach(messages) == messages.map { SHA256.hash($0) })
        // Fewer messages than lanes, and counts that leave lanes idle at the end.
        for count in 1...9 {
            let some = (0..<count).map { messages[($0 * 37) % messages.count] }
            #expect(SHA256.hashEach(some) == some.map { SHA256.hash($0) }, "\(count) messages")
        }
        #expect(SHA256.hashEach([]).isEmpty)
    }
}
