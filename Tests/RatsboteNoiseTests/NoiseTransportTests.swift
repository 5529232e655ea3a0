import RatsboteCrypto
import Testing

@testable import RatsboteNoise

/// Transport messages: size limits, failed decryption, rekeying and nonce exhaustion.
@Suite struct NoiseTransportTests {
    @Test(arguments: [0, 1, 1000, NoiseTransport.maximumPayloadLength])
    func roundTripBothDirections(payloadLength: Int) throws {
        var pair = try connectedIKPair()
        let payload = patternBytes(payloadLength)

        let toRelay = try pair.initiator.encrypt(payload)
        #expect(toRelay.count == payloadLength + 16)
        #expect(try pair.responder.decrypt(toRelay) == payload)
        #expect(try pair.initiator.decrypt(try pair.responder.encrypt(payload)) == payload)
    }

    @Test func flippedByteLeavesStateUnchanged() throws {
        var pair = try connectedIKPair()
        _ = try pair.responder.decrypt(try pair.initiator.encrypt([1, 2, 3]))
        let message = try pair.initiator.encrypt(Array("second".utf8))

        for index in [0, 5, message.count - 1] {
            #expect(throws: NoiseError.decryptionFailed) { try pair.responder.decrypt(flipping(message, at: index)) }
            #expect(pair.responder.receivingNonce == 1)
        }
        #expect(try pair.responder.decrypt(message) == Array("second".utf8))
        #expect(pair.responder.receivingNonce == 2)
    }

    @Test func sizeLimitsEnforced() throws {
        var pair = try connectedIKPair()

        #expect(throws: NoiseError.tooLarge(field: "transport payload", maximum: 65519, actual: 65520)) {
            try pair.initiator.encrypt([UInt8](repeating: 0, count: 65520))
        }
        #expect(throws: NoiseError.tooLarge(field: "transport message", maximum: 65535, actual: 65536)) {
            try pair.responder.decrypt([UInt8](repeating: 0, count: 65536))
        }
        #expect(throws: NoiseError.truncated(field: "transport message", minimum: 16, actual: 15)) {
            try pair.responder.decrypt([UInt8](repeating: 0, count: 15))
        }
        #expect(pair.initiator.sendingNonce == 0)
        #expect(pair.responder.receivingNonce == 0)
    }

    @Test func nonceExhaustionStopsBothDirections() throws {
        var pair = try connectedIKPair()
        let last = UInt64.max - 1
        pair.initiator.setNonces(sending: last, receiving: last)
        pair.responder.setNonces(sending: last, receiving: last)

        // Nonce 2^64-2 is the last one a message may use.
        #expect(try pair.responder.decrypt(try pair.initiator.encrypt([42])) == [42])
        #expect(pair.initiator.sendingNonce == UInt64.max)

        #expect(throws: NoiseError.nonceExhausted) { try pair.initiator.encrypt([43]) }
        #expect(throws: NoiseError.nonceExhausted) {
            try pair.responder.decrypt([UInt8](repeating: 0, count: 17))
        }
    }

    @Test func rekeyKeepsPeersInStep() throws {
        var rekeying = try connectedIKPair(rekeyInterval: 3)
        var plain = try connectedIKPair()

        for index in 0..<10 {
            let payload = patternBytes(20, seed: UInt8(index))
            let rekeyed = try rekeying.initiator.encrypt(payload)
            let unchanged = try plain.initiator.encrypt(payload)
            #expect(try rekeying.responder.decrypt(rekeyed) == payload, "message \(index) to the relay")
            #expect(try rekeying.initiator.decrypt(try rekeying.responder.encrypt(payload)) == payload, "message \(index) to the client")

            // The first rekey happens after message 2, so only later messages use other keys.
            if index < 3 {
                #expect(rekeyed == unchanged, "message \(index) before the first rekey")
            } else {
                #expect(rekeyed != unchanged, "message \(index) after a rekey")
            }
        }
        #expect(rekeying.initiator.sendingNonce == 10)
    }

    @Test func rekeyIntervalMismatchDetected() throws {
        var pair = try connectedIKPair(rekeyInterval: 3)
        var other = try connectedIKPair(rekeyInterval: 4)

        for _ in 0..<3 {
            _ = try other.responder.decrypt(try pair.initiator.encrypt([1]))
        }
        #expect(throws: NoiseError.decryptionFailed) { try other.responder.decrypt(try pair.initiator.encrypt([1])) }
    }

    @Test func failedDecryptionAtRekeyPointDoesNotRekey() throws {
        var pair = try connectedIKPair(rekeyInterval: 3)
        for _ in 0..<2 {
            _ = try pair.responder.decrypt(try pair.initiator.encrypt([0]))
        }
        let third = try pair.initiator.encrypt([3])

        #expect(throws: NoiseError.decryptionFailed) { try pair.responder.decrypt(flipping(third, at: 0)) }
        #expect(try pair.responder.decrypt(third) == [3])
        #expect(try pair.responder.decrypt(try pair.initiator.encrypt([4])) == [4])
    }

    @Test func cipherStateRekeyMatchesDefinition() throws {
        let key = try SymmetricKey(copying: patternBytes(32, seed: 9))
        var state = NoiseCipherState(key: key)
        state.setNonce(5)
        try state.rekey()
        #expect(state.nonce == 5)

        // REKEY(k): encrypt 32 zero bytes at nonce 2^64-1 and keep the first 32 bytes.
        let reservedNonce: [UInt8] = [0, 0, 0, 0] + [UInt8](repeating: 0xff, count: 8)
        let derived = try ChaCha20Poly1305.seal([UInt8](repeating: 0, count: 32), using: key, nonce: reservedNonce)
        var reference = NoiseCipherState(key: try SymmetricKey(copying: Array(derived[0..<32])))
        reference.setNonce(5)

        #expect(try state.encryptWithAd([7], plaintext: [1, 2, 3]) == reference.encryptWithAd([7], plaintext: [1, 2, 3]))
    }

    @Test func cipherStateWithoutKeyPassesThrough() throws {
        var state = NoiseCipherState()
        #expect(!state.hasKey)
        #expect(try state.encryptWithAd([1], plaintext: [9, 8]) == [9, 8])
        #expect(try state.decryptWithAd([1], ciphertext: [9, 8]) == [9, 8])
        #expect(state.nonce == 0)
        #expect(throws: NoiseError.invalidState(operation: "rekey", reason: "the cipher state has no key yet")) {
            try state.rekey()
        }
    }

    @Test func cipherStateNonceLayout() throws {
        // Noise nonce n becomes 4 zero bytes then n little-endian: check against the AEAD directly.
        let key = try SymmetricKey(copying: patternBytes(32, seed: 1))
        var state = NoiseCipherState(key: key)
        state.setNonce(0x0102_0304_0506_0708)
        let expected = try ChaCha20Poly1305.seal(
            [5, 6], using: key, nonce: [0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1], authenticating: [0xaa])
        #expect(try state.encryptWithAd([0xaa], plaintext: [5, 6]) == expected)
    }
}
