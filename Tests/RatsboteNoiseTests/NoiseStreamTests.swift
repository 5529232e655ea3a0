import RatsboteCrypto
import Testing

@testable import RatsboteNoise

/// Tests of the 2-byte Noise message layer and the 4-byte application frame layer.
@Suite struct NoiseStreamTests {
    /// Feeds `bytes` to `decoder` in pieces of varying size and collects every frame.
    func feed(
        _ bytes: [UInt8], to decoder: inout NoiseStreamDecoder, transport: inout NoiseTransport, pieceSizes: [Int]
    ) throws -> [[UInt8]] {
        var frames: [[UInt8]] = []
        var offset = 0
        var turn = 0
        while offset < bytes.count {
            let size = Swift.min(pieceSizes[turn % pieceSizes.count], bytes.count - offset)
            decoder.append(bytes[offset..<(offset + size)])
            offset += size
            turn += 1
            while let frame = try decoder.nextFrame(with: &transport) {
                frames.append(frame)
            }
        }
        return frames
    }

    @Test func handshakeOverStream() throws {
        let clientKey = try fixedKey(0x11)
        let relayKey = try fixedKey(0x22)
        var client = try RatsboteTransport.initiatorHandshake(localStatic: clientKey, relayStatic: relayKey.publicKey)
        var relay = try RatsboteTransport.responderHandshake(localStatic: relayKey)
        var relayDecoder = NoiseStreamDecoder()
        var clientDecoder = NoiseStreamDecoder()

        // CLIENT: message 1 arrives one byte at a time.
        let wire = try NoiseStreamFraming.encode(noiseMessage: try client.writeMessage(payload: RatsboteTransport.helloPayload()))
        #expect(Array(wire[0..<2]) == [0, 97])
        var received: [UInt8]?
        for byte in wire {
            #expect(received == nil)
            relayDecoder.append([byte])
            received = try relayDecoder.nextNoiseMessage()
        }
        _ = try relay.readMessage(try #require(received))

        // RELAY: message 2 and the first frame leave in one write; the frame waits in the buffer.
        var relayTransport = try { () throws -> NoiseTransport in
            let second = try relay.writeMessage(payload: RatsboteTransport.helloPayload())
            clientDecoder.append(try NoiseStreamFraming.encode(noiseMessage: second))
            return try relay.split()
        }()
        var encoder = NoiseStreamEncoder()
        clientDecoder.append(try encoder.encode(frame: Array("welcome".utf8), with: &relayTransport))

        _ = try client.readMessage(try #require(try clientDecoder.nextNoiseMessage()))
        var clientTransport = try client.split()
        #expect(try clientDecoder.nextFrame(with: &clientTransport) == Array("welcome".utf8))
        #expect(try clientDecoder.nextFrame(with: &clientTransport) == nil)
        #expect(clientDecoder.bufferedByteCount == 0)
    }

    @Test(arguments: [0, 1, 65515, 65516, 200_000, RatsboteTransport.defaultMaximumFrame])
    func frameRoundTrip(frameLength: Int) throws {
        var pair = try connectedIKPair()
        var encoder = NoiseStreamEncoder()
        var decoder = NoiseStreamDecoder()
        let frame = patternBytes(frameLength, seed: 3)

        let wire = try encoder.encode(frame: frame, with: &pair.initiator)
        let messageCount = (frameLength + 4 + 65518) / 65519
        #expect(wire.count == frameLength + 4 + messageCount * 18)
        #expect(pair.initiator.sendingNonce == UInt64(messageCount))

        let frames = try feed(wire, to: &decoder, transport: &pair.responder, pieceSizes: [1, 7, 4096, 70_000, 3])
        #expect(frames.count == 1)
        #expect(frames.first == frame)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test func severalFramesInOneRead() throws {
        var pair = try connectedIKPair()
        var encoder = NoiseStreamEncoder()
        var decoder = NoiseStreamDecoder()
        let frames = [patternBytes(10), [], patternBytes(70_000, seed: 1), patternBytes(5, seed: 2)]

        var wire: [UInt8] = []
        for frame in frames {
            wire += try encoder.encode(frame: frame, with: &pair.initiator)
        }
        decoder.append(wire)
        var received: [[UInt8]] = []
        while let frame = try decoder.nextFrame(with: &pair.responder) {
            received.append(frame)
        }
        #expect(received == frames)
    }

    @Test func oversizedFramesRejected() throws {
        var pair = try connectedIKPair()
        var smallEncoder = NoiseStreamEncoder(maximumFrame: 100)
        #expect(throws: NoiseError.tooLarge(field: "application frame", maximum: 100, actual: 101)) {
            try smallEncoder.encode(frame: [UInt8](repeating: 0, count: 101), with: &pair.initiator)
        }
        #expect(pair.initiator.sendingNonce == 0)

        // A decoder with a smaller limit rejects the frame as soon as its length is decrypted.
        var encoder = NoiseStreamEncoder()
        var decoder = NoiseStreamDecoder(maximumFrame: 100)
        let wire = try encoder.encode(frame: [UInt8](repeating: 0, count: 200_000), with: &pair.initiator)
        decoder.append(wire[0..<65537])
        #expect(throws: NoiseError.tooLarge(field: "application frame", maximum: 100, actual: 200_000)) {
            try decoder.nextFrame(with: &pair.responder)
        }
    }

    @Test func flippedByteInStreamLeavesTransportUnchanged() throws {
        var pair = try connectedIKPair()
        var encoder = NoiseStreamEncoder()
        var decoder = NoiseStreamDecoder()
        var wire = try encoder.encode(frame: Array("hello".utf8), with: &pair.initiator)
        wire[4] ^= 0x01

        decoder.append(wire)
        #expect(throws: NoiseError.decryptionFailed) { try decoder.nextFrame(with: &pair.responder) }
        #expect(pair.responder.receivingNonce == 0)
        #expect(decoder.bufferedByteCount == wire.count)
    }

    @Test func malformedMessagesRejected() throws {
        var pair = try connectedIKPair()
        var empty = NoiseStreamDecoder()
        empty.append([0, 0])
        #expect(throws: NoiseError.truncated(field: "Noise message", minimum: 1, actual: 0)) {
            try empty.nextNoiseMessage()
        }

        var short = NoiseStreamDecoder()
        short.append([0, 15] + [UInt8](repeating: 0, count: 15))
        #expect(throws: NoiseError.truncated(field: "transport message", minimum: 16, actual: 15)) {
            try short.nextFrame(with: &pair.responder)
        }

        #expect(throws: NoiseError.tooLarge(field: "Noise message", maximum: 65535, actual: 65536)) {
            try NoiseStreamFraming.encode(noiseMessage: [UInt8](repeating: 0, count: 65536))
        }
    }
}
