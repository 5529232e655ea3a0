import RatsboteCrypto
import Testing

@testable import RatsboteNoise

/// HMAC-BLAKE2b against an independent implementation. HKDF and `MixHash` are covered by the
/// handshake vectors, which fail on any difference in them.
@Suite struct NoiseHashTests {
    /// Expected values from Python 3.11 `hmac.new(key, message, hashlib.blake2b)`, which uses
    /// BLAKE2b-512 with a 128-byte block, the same parameters Noise fixes.
    @Test func hmacMatchesPythonHMAC() throws {
        let key = patternBytes(64, seed: 7)
        let tag = try key.withUnsafeBytes { keyBytes in
            try Array("ratsbote".utf8).withUnsafeBytes { try NoiseHash.hmac(key: keyBytes, [$0]) }
        }
        let expected = try hexBytes(
            "c4eecddc9cf8a41a6e26260028e25f7126f17da4b7178966f9678235cfbe9a4e"
                + "d2781f202bab96f27a461f420ce4abb938163cf822be4239a471358b2bb4a60e")
        #expect(tag == SecureBytes(copying: expected))
    }

    @Test func hmacOfEmptyMessageWithShortKey() throws {
        let key: [UInt8] = Array(0..<32)
        let tag = try key.withUnsafeBytes { try NoiseHash.hmac(key: $0, []) }
        let expected = try hexBytes(
            "178056d90badbce5e533b4b4359a64b51cd95e3ed81262b62137f5de78de7523"
                + "012b4f82839911b387702bda131597fb0a8f38304806f162184ab1c229f515db")
        #expect(tag == SecureBytes(copying: expected))
    }

    @Test func hmacRejectsKeyLongerThanHashLength() throws {
        let key = [UInt8](repeating: 1, count: 65)
        #expect(throws: NoiseError.tooLarge(field: "HMAC key", maximum: 64, actual: 65)) {
            try key.withUnsafeBytes { try NoiseHash.hmac(key: $0, []) }
        }
    }

    @Test func longProtocolNameIsHashed() throws {
        // Names longer than HASHLEN start `h` with their hash instead of zero padding.
        let name = Array(String(repeating: "x", count: 65).utf8)
        let state = try NoiseSymmetricState(protocolName: name)
        let expected = try name.withUnsafeBytes { try NoiseHash.hash([$0]) }
        #expect(state.handshakeHash == expected)
    }
}
