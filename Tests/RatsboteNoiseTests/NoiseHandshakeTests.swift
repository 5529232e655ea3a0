import RatsboteCrypto
import Testing

@testable import RatsboteNoise

/// Handshake behaviour beyond the vectors: altered, truncated and oversized messages, wrong keys,
/// call order, and the Ratsbote hello.
@Suite struct NoiseHandshakeTests {
    let clientKey: X25519PrivateKey
    let relayKey: X25519PrivateKey

    init() throws {
        clientKey = try fixedKey(0x11)
        relayKey = try fixedKey(0x22)
    }

    func ikPair() throws -> (client: NoiseHandshake, relay: NoiseHandshake) {
        (
            try RatsboteTransport.initiatorHandshake(localStatic: clientKey, relayStatic: relayKey.publicKey),
            try RatsboteTransport.responderHandshake(localStatic: relayKey)
        )
    }

    func xxPair() throws -> (initiator: NoiseHandshake, responder: NoiseHandshake) {
        (
            try NoiseHandshake(pattern: .XX, role: .initiator, prologue: RatsboteTransport.prologue, localStatic: clientKey),
            try NoiseHandshake(pattern: .XX, role: .responder, prologue: RatsboteTransport.prologue, localStatic: relayKey)
        )
    }

    /// Checks that two finished handshakes produce transports that talk to each other.
    func expectWorkingTransports(_ a: inout NoiseHandshake, _ b: inout NoiseHandshake) throws {
        var first = try a.split()
        var second = try b.split()
        #expect(first.handshakeHash == second.handshakeHash)
        #expect(try second.decrypt(try first.encrypt(Array("ping".utf8))) == Array("ping".utf8))
        #expect(try first.decrypt(try second.encrypt(Array("pong".utf8))) == Array("pong".utf8))
    }

    @Test func ikHandshakeCompletes() throws {
        var (client, relay) = try ikPair()

        // CLIENT -> RELAY: e, es, s, ss + hello.
        let first = try client.writeMessage(payload: RatsboteTransport.helloPayload())
        #expect(first.count == 32 + 48 + 1 + 16)
        #expect(try RatsboteTransport.checkHello(try relay.readMessage(first)) == 1)
        #expect(relay.remoteStaticKey == clientKey.publicKey)

        // RELAY -> CLIENT: e, ee, se + hello reply.
        let second = try relay.writeMessage(payload: RatsboteTransport.helloPayload())
        #expect(second.count == 32 + 1 + 16)
        #expect(try RatsboteTransport.checkHello(try client.readMessage(second)) == 1)
        #expect(client.isComplete)
        #expect(relay.isComplete)
        try expectWorkingTransports(&client, &relay)
    }

    @Test(arguments: [0, 31, 32, 79, 80, 96])
    func ikFirstMessageFlippedByte(at index: Int) throws {
        var (client, relay) = try ikPair()
        let first = try client.writeMessage(payload: RatsboteTransport.helloPayload())

        #expect(throws: NoiseError.decryptionFailed) { try relay.readMessage(flipping(first, at: index)) }
        #expect(relay.remoteStaticKey == nil)

        // The relay is unchanged, so the correct message still completes the handshake.
        _ = try relay.readMessage(first)
        _ = try client.readMessage(try relay.writeMessage(payload: RatsboteTransport.helloPayload()))
        try expectWorkingTransports(&client, &relay)
    }

    @Test(arguments: [0, 31, 32, 48])
    func ikSecondMessageFlippedByte(at index: Int) throws {
        var (client, relay) = try ikPair()
        _ = try relay.readMessage(try client.writeMessage(payload: RatsboteTransport.helloPayload()))
        let second = try relay.writeMessage(payload: RatsboteTransport.helloPayload())

        #expect(throws: NoiseError.decryptionFailed) { try client.readMessage(flipping(second, at: index)) }
        #expect(!client.isComplete)

        _ = try client.readMessage(second)
        try expectWorkingTransports(&client, &relay)
    }

    @Test func xxFlippedBytesInEachMessage() throws {
        var (initiator, responder) = try xxPair()

        // Message 1 (e) is not encrypted: the responder cannot notice the change, but the
        // altered ephemeral key enters its handshake hash, so the initiator rejects message 2.
        let first = try initiator.writeMessage(payload: [])
        var altered = responder
        _ = try altered.readMessage(flipping(first, at: 5))
        let secondFromAltered = try altered.writeMessage(payload: [])
        #expect(throws: NoiseError.decryptionFailed) { try initiator.readMessage(secondFromAltered) }

        _ = try responder.readMessage(first)
        let second = try responder.writeMessage(payload: Array("responder".utf8))
        for index in [0, 40, second.count - 1] {
            #expect(throws: NoiseError.decryptionFailed) { try initiator.readMessage(flipping(second, at: index)) }
        }
        #expect(try initiator.readMessage(second) == Array("responder".utf8))
        #expect(initiator.remoteStaticKey == relayKey.publicKey)

        let third = try initiator.writeMessage(payload: Array("initiator".utf8))
        for index in [0, 47, third.count - 1] {
            #expect(throws: NoiseError.decryptionFailed) { try responder.readMessage(flipping(third, at: index)) }
        }
        #expect(responder.remoteStaticKey == nil)
        #expect(try responder.readMessage(third) == Array("initiator".utf8))
        #expect(responder.remoteStaticKey == clientKey.publicKey)
        try expectWorkingTransports(&initiator, &responder)
    }

    @Test func ikWrongRemoteStaticKeyFails() throws {
        let otherRelay = try fixedKey(0x33)
        var client = try RatsboteTransport.initiatorHandshake(localStatic: clientKey, relayStatic: otherRelay.publicKey)
        var relay = try RatsboteTransport.responderHandshake(localStatic: relayKey)

        let first = try client.writeMessage(payload: RatsboteTransport.helloPayload())
        #expect(throws: NoiseError.decryptionFailed) { try relay.readMessage(first) }
    }

    @Test func ikOtherPrologueFails() throws {
        var client = try NoiseHandshake(
            pattern: .IK, role: .initiator, prologue: Array("ratsbote transport v2".utf8), localStatic: clientKey,
            remoteStatic: relayKey.publicKey)
        var relay = try RatsboteTransport.responderHandshake(localStatic: relayKey)

        let first = try client.writeMessage(payload: RatsboteTransport.helloPayload())
        #expect(throws: NoiseError.decryptionFailed) { try relay.readMessage(first) }
    }

    @Test func ikTruncatedMessagesFail() throws {
        var (client, relay) = try ikPair()
        let first = try client.writeMessage(payload: RatsboteTransport.helloPayload())

        #expect(throws: NoiseError.truncated(field: "ephemeral key", minimum: 32, actual: 0)) {
            try relay.readMessage([])
        }
        #expect(throws: NoiseError.truncated(field: "ephemeral key", minimum: 32, actual: 31)) {
            try relay.readMessage(Array(first[..<31]))
        }
        #expect(throws: NoiseError.truncated(field: "static key", minimum: 80, actual: 79)) {
            try relay.readMessage(Array(first[..<79]))
        }
        #expect(throws: NoiseError.truncated(field: "handshake payload", minimum: 16, actual: 15)) {
            try relay.readMessage(Array(first[..<95]))
        }
        // One byte short of the full message: the tag no longer matches.
        #expect(throws: NoiseError.decryptionFailed) { try relay.readMessage(Array(first.dropLast())) }

        _ = try relay.readMessage(first)
        let second = try relay.writeMessage(payload: [])
        #expect(throws: NoiseError.truncated(field: "handshake payload", minimum: 16, actual: 15)) {
            try client.readMessage(Array(second[..<47]))
        }
        _ = try client.readMessage(second)
        #expect(client.isComplete)
    }

    @Test func oversizedMessagesRejected() throws {
        var (client, relay) = try ikPair()

        let payloadLimit = 65535 - 32 - 48 - 16
        #expect(throws: NoiseError.tooLarge(field: "handshake message", maximum: 65535, actual: 65536)) {
            try client.writeMessage(payload: [UInt8](repeating: 7, count: payloadLimit + 1))
        }
        #expect(throws: NoiseError.tooLarge(field: "handshake message", maximum: 65535, actual: 65536)) {
            try relay.readMessage([UInt8](repeating: 7, count: 65536))
        }

        let largest = try client.writeMessage(payload: [UInt8](repeating: 7, count: payloadLimit))
        #expect(largest.count == 65535)
        #expect(try relay.readMessage(largest).count == payloadLimit)
    }

    @Test func callsOutOfOrderRejected() throws {
        var (client, relay) = try ikPair()

        #expect(throws: NoiseError.invalidState(operation: "writeMessage", reason: "the peer's handshake message must be read first")) {
            try relay.writeMessage(payload: [])
        }
        #expect(throws: NoiseError.invalidState(operation: "readMessage", reason: "this side must write the next handshake message")) {
            try client.readMessage([UInt8](repeating: 0, count: 96))
        }
        #expect(throws: NoiseError.invalidState(operation: "split", reason: "the handshake has 2 message(s) left")) {
            try client.split()
        }

        _ = try relay.readMessage(try client.writeMessage(payload: []))
        _ = try client.readMessage(try relay.writeMessage(payload: []))
        #expect(throws: NoiseError.invalidState(operation: "writeMessage", reason: "the handshake is complete, so call split() for the transport")) {
            try client.writeMessage(payload: [])
        }
        _ = try client.split()
        #expect(throws: NoiseError.invalidState(operation: "split", reason: "the transport keys were already handed out")) {
            try client.split()
        }
    }

    @Test func configurationChecked() throws {
        #expect(throws: NoiseError.self) {
            try NoiseHandshake(pattern: .IK, role: .initiator, prologue: [], localStatic: clientKey)
        }
        #expect(throws: NoiseError.self) {
            try NoiseHandshake(
                pattern: .IK, role: .responder, prologue: [], localStatic: relayKey, remoteStatic: clientKey.publicKey)
        }
        #expect(throws: NoiseError.self) {
            try NoiseHandshake(
                pattern: .XX, role: .initiator, prologue: [], localStatic: clientKey, remoteStatic: relayKey.publicKey)
        }
    }

    @Test func lowOrderEphemeralKeyRejected() throws {
        var (client, relay) = try ikPair()
        var first = try client.writeMessage(payload: RatsboteTransport.helloPayload())
        // The all-zero point has order 1, so DH(s, re) is all zeros.
        for index in 0..<32 { first[index] = 0 }

        #expect(throws: NoiseError.weakPublicKey(field: "remote ephemeral key")) { try relay.readMessage(first) }
    }

    @Test func helloVersionChecked() throws {
        #expect(try RatsboteTransport.checkHello([1]) == 1)
        #expect(throws: NoiseError.unsupportedVersion(received: 2, supported: [1])) {
            try RatsboteTransport.checkHello([2])
        }
        #expect(throws: NoiseError.invalidHello(field: "payload", expected: 1, actual: 0)) {
            try RatsboteTransport.checkHello([])
        }
        #expect(throws: NoiseError.invalidHello(field: "payload", expected: 1, actual: 2)) {
            try RatsboteTransport.checkHello([1, 0])
        }
    }

    @Test func ratsboteConstants() {
        #expect(RatsboteTransport.protocolName == NoisePattern.IK.protocolName)
        #expect(RatsboteTransport.prologue == Array("ratsbote transport v1".utf8))
        #expect(RatsboteTransport.maximumNoiseMessage == 65535)
    }
}
