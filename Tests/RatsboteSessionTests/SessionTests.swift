import RatsboteCrypto
import RatsboteSession
import RatsboteWire
import Testing

@Suite("X3DH")
struct X3DHTests {
    @Test func firstContactWithOneTimePrekey() throws {
        var alice = Device("alice")
        var bob = Device("bob")

        // ALICE: starts a session from Bob's bundle and sends a PreKey message.
        var aliceSession = try X3DH.initiate(localIdentity: alice.identity, bundle: bob.bundle(), using: &alice.keySource)
        let first = try aliceSession.encrypt(Array("hello bob".utf8))
        guard case .preKey(let preKey) = first else {
            Issue.record("first message is \(first), expected a PreKey message")
            return
        }
        #expect(preKey.oneTimePrekeyID == 100)
        #expect(preKey.signedPrekeyID == 7)

        // BOB: builds the session from the message and its prekeys.
        let pair = try bob.prekeys(for: preKey)
        var (bobSession, plaintext) = try X3DH.respond(
            localIdentity: bob.identity, signedPrekey: pair.signedPrekey, oneTimePrekey: pair.oneTimePrekey,
            message: preKey, using: &bob.keySource)
        #expect(plaintext == Array("hello bob".utf8))
        #expect(bobSession.baseKey == aliceSession.baseKey)
        #expect(bobSession.remoteIdentityKey == alice.identity.publicKey)

        // BOB: replies; ALICE: receives and stops sending PreKey messages.
        let reply = try bobSession.encrypt(Array("hello alice".utf8))
        guard case .ratchet = reply else {
            Issue.record("reply is \(reply), expected a ratchet message")
            return
        }
        #expect(try aliceSession.decrypt(reply, using: &alice.keySource) == Array("hello alice".utf8))
        #expect(!aliceSession.isAwaitingFirstReply)
        guard case .ratchet = try aliceSession.encrypt([1, 2, 3]) else {
            Issue.record("message after the reply is still a PreKey message")
            return
        }
    }

    @Test func firstContactWithoutOneTimePrekey() throws {
        var conversation = try Conversation(oneTimePrekeyID: nil)
        let reply = try conversation.bobSends("no one-time prekey left")
        #expect(try conversation.aliceReceives(reply) == "no one-time prekey left")
        #expect(try conversation.bobReceives(try conversation.aliceSends("fine")) == "fine")
    }

    @Test func preKeyMessagesRepeatUntilReply() throws {
        var conversation = try Conversation()
        let second = try conversation.aliceSends("second")
        guard case .preKey(let preKey) = second else {
            Issue.record("second message before any reply is \(second), expected a PreKey message")
            return
        }
        #expect(preKey.baseKey == conversation.aliceSession.baseKey)
        #expect(try conversation.bobReceives(second) == "second")
    }

    @Test func badSignedPrekeySignatureRejected() throws {
        var alice = Device("alice")
        let bob = Device("bob")
        let good = bob.bundle()
        let forged = PrekeyBundle(
            identityKey: good.identityKey, signedPrekeyID: good.signedPrekeyID, signedPrekey: good.signedPrekey,
            signedPrekeySignature: flipping(good.signedPrekeySignature, at: 10),
            oneTimePrekey: (100, good.oneTimePrekey!))
        #expect(throws: SessionError.invalidSignedPrekeySignature) {
            try X3DH.initiate(localIdentity: alice.identity, bundle: forged, using: &alice.keySource)
        }

        // A signature by another identity key is rejected as well.
        let mallory = Device("mallory")
        let substituted = PrekeyBundle(
            identityKey: good.identityKey, signedPrekeyID: 7, signedPrekey: mallory.signedPrekey.publicKey,
            signedPrekeySignature: PrekeyBundle.signPrekey(mallory.signedPrekey.publicKey, id: 7, with: mallory.identity))
        #expect(throws: SessionError.invalidSignedPrekeySignature) {
            try X3DH.initiate(localIdentity: alice.identity, bundle: substituted, using: &alice.keySource)
        }
    }

    @Test func missingOneTimePrekeyReported() throws {
        var alice = Device("alice")
        var bob = Device("bob")
        var session = try X3DH.initiate(localIdentity: alice.identity, bundle: bob.bundle(), using: &alice.keySource)
        guard case .preKey(let preKey) = try session.encrypt([1]) else { return }
        #expect(throws: SessionError.unknownPrekey(kind: "one-time", id: 100)) {
            try X3DH.respond(
                localIdentity: bob.identity, signedPrekey: bob.signedPrekey, oneTimePrekey: nil, message: preKey,
                using: &bob.keySource)
        }
    }

    @Test func wrongOneTimePrekeyFailsAuthentication() throws {
        var alice = Device("alice")
        var bob = Device("bob")
        var session = try X3DH.initiate(localIdentity: alice.identity, bundle: bob.bundle(), using: &alice.keySource)
        guard case .preKey(let preKey) = try session.encrypt([1]) else { return }
        #expect(throws: SessionError.authenticationFailure) {
            try X3DH.respond(
                localIdentity: bob.identity, signedPrekey: bob.signedPrekey, oneTimePrekey: bob.oneTimePrekeys[101],
                message: preKey, using: &bob.keySource)
        }
    }

    @Test func bundleRoundTripAndWireConversion() throws {
        let bob = Device("bob")
        for bundle in [bob.bundle(), bob.bundle(oneTimePrekeyID: nil)] {
            #expect(try PrekeyBundle.decode(bundle.encode()) == bundle)
        }
        let bundle = bob.bundle()
        let wire = DevicePrekeyBundle(
            address: DeviceAddress(userId: "bob", deviceId: 1),
            device: DeviceKeys(deviceId: 1, identityKey: bundle.identityKey.rawRepresentation, envelopeKey: [UInt8](repeating: 9, count: 32)),
            signedPrekey: SignedPrekey(id: 7, publicKey: bundle.signedPrekey.rawRepresentation, signature: bundle.signedPrekeySignature),
            oneTimePrekey: OneTimePrekey(id: 100, publicKey: bundle.oneTimePrekey!.rawRepresentation))
        #expect(try PrekeyBundle(wire) == bundle)
    }
}

@Suite("Double Ratchet")
struct DoubleRatchetTests {
    @Test func longConversationBothDirections() throws {
        var conversation = try Conversation()
        for round in 0..<40 {
            // Bursts of different lengths so that DH ratchet steps happen at varied message numbers.
            for index in 0..<(round % 4 + 1) {
                let text = "alice \(round).\(index)"
                #expect(try conversation.bobReceives(try conversation.aliceSends(text)) == text)
            }
            for index in 0..<(round % 3 + 1) {
                let text = "bob \(round).\(index)"
                #expect(try conversation.aliceReceives(try conversation.bobSends(text)) == text)
            }
        }
        #expect(conversation.aliceSession.skippedMessageKeyCount == 0)
        #expect(conversation.bobSession.skippedMessageKeyCount == 0)
    }

    @Test func outOfOrderMessagesOpen() throws {
        var conversation = try Conversation()
        let messages = try (0..<10).map { try conversation.aliceSends("message \($0)") }
        for index in [3, 0, 9, 1, 2, 8, 4, 7, 6, 5] {
            #expect(try conversation.bobReceives(messages[index]) == "message \(index)")
        }
        #expect(conversation.bobSession.skippedMessageKeyCount == 0)
    }

    @Test func lateMessagesFromPreviousChainOpen() throws {
        var conversation = try Conversation()
        #expect(try conversation.aliceReceives(try conversation.bobSends("reply")) == "reply")
        let early = try (0..<4).map { try conversation.aliceSends("early \($0)") }
        #expect(try conversation.bobReceives(early[0]) == "early 0")

        // A DH ratchet step on both sides moves Bob past Alice's chain of the early messages.
        #expect(try conversation.aliceReceives(try conversation.bobSends("turn")) == "turn")
        #expect(try conversation.bobReceives(try conversation.aliceSends("new chain")) == "new chain")
        #expect(conversation.bobSession.skippedMessageKeyCount == 3)

        for index in [3, 1, 2] {
            #expect(try conversation.bobReceives(early[index]) == "early \(index)")
        }
        #expect(conversation.bobSession.skippedMessageKeyCount == 0)
    }

    @Test func duplicateReportedAsDuplicate() throws {
        var conversation = try Conversation()
        #expect(try conversation.aliceReceives(try conversation.bobSends("reply")) == "reply")
        let first = try conversation.aliceSends("first")
        let second = try conversation.aliceSends("second")
        _ = try conversation.bobReceives(second)
        _ = try conversation.bobReceives(first)

        // In the current chain, from a skipped key already used, and from an earlier chain.
        #expect(throws: SessionError.duplicate(messageNumber: 1)) { try conversation.bobReceives(second) }
        #expect(throws: SessionError.duplicate(messageNumber: 0)) { try conversation.bobReceives(first) }
        _ = try conversation.aliceReceives(try conversation.bobSends("turn"))
        _ = try conversation.bobReceives(try conversation.aliceSends("next chain"))
        #expect(throws: SessionError.duplicate(messageNumber: 1)) { try conversation.bobReceives(second) }
    }

    /// Flips every bit position of `message` (one at a time) and checks that none changes Bob's state.
    private func expectForgeriesRejected(_ message: SessionMessage, conversation: inout Conversation) throws {
        let encoded = message.encode()
        let before = conversation.bobSession.serialized()
        var decrypted = 0
        for index in 1..<encoded.count {
            guard let forged = try? SessionMessage.decode(flipping(encoded, at: index)) else { continue }
            decrypted += 1
            #expect(throws: SessionError.self, "forgery at byte \(index) opened") { try conversation.bobReceives(forged) }
            #expect(conversation.bobSession.serialized() == before, "state changed after a forgery at byte \(index)")
        }
        #expect(decrypted > 0, "every forgery failed to decode, so no decryption was tested")
    }

    @Test func forgedMessagesLeaveStateUnchanged() throws {
        var conversation = try Conversation()
        _ = try conversation.aliceReceives(try conversation.bobSends("reply"))
        let messages = try (0..<4).map { try conversation.aliceSends("m\($0)") }

        // DH-step path: the first message of Alice's new chain.
        try expectForgeriesRejected(messages[0], conversation: &conversation)
        #expect(try conversation.bobReceives(messages[0]) == "m0")

        // Current-chain path with a skipped key in between.
        try expectForgeriesRejected(messages[2], conversation: &conversation)
        #expect(try conversation.bobReceives(messages[2]) == "m2")

        // Skipped-key path.
        try expectForgeriesRejected(messages[1], conversation: &conversation)
        #expect(try conversation.bobReceives(messages[1]) == "m1")

        // A header with a fresh ratchet key and a copied ciphertext must not commit a DH step.
        let before = conversation.bobSession.serialized()
        var mallory = DeterministicKeyPairSource(seed: "mallory")
        let header = messages[3].ratchetMessage.header
        let fake = RatchetMessage(
            header: MessageHeader(
                suite: header.suite, ratchetKey: mallory.nextKeyPair().publicKey, previousChainLength: 5,
                messageNumber: 3),
            ciphertext: messages[3].ratchetMessage.ciphertext)
        #expect(throws: SessionError.authenticationFailure) { try conversation.bobReceives(.ratchet(fake)) }
        #expect(conversation.bobSession.serialized() == before)
        #expect(try conversation.bobReceives(messages[3]) == "m3")
    }

    @Test func skipBoundPerChainEnforced() throws {
        var conversation = try Conversation()
        _ = try conversation.aliceReceives(try conversation.bobSends("reply"))
        let messages = try (0...SessionLimits.maximumSkippedPerChain + 1).map { try conversation.aliceSends("m\($0)") }
        let before = conversation.bobSession.serialized()

        let tooFar = messages[SessionLimits.maximumSkippedPerChain + 1]
        #expect(throws: SessionError.tooManySkipped(requested: 1001, maximum: 1000)) {
            try conversation.bobReceives(tooFar)
        }
        #expect(conversation.bobSession.serialized() == before)

        #expect(try conversation.bobReceives(messages[SessionLimits.maximumSkippedPerChain]) == "m1000")
        #expect(conversation.bobSession.skippedMessageKeyCount == 1000)
    }

    @Test func skipBoundInTotalEvictsOldest() throws {
        var conversation = try Conversation()
        var firstOfChain: [SessionMessage] = []
        for chain in 0..<3 {
            _ = try conversation.aliceReceives(try conversation.bobSends("turn \(chain)"))
            let messages = try (0...SessionLimits.maximumSkippedPerChain).map { try conversation.aliceSends("c\(chain) m\($0)") }
            firstOfChain.append(messages[0])
            _ = try conversation.bobReceives(messages[SessionLimits.maximumSkippedPerChain])
        }
        #expect(conversation.bobSession.skippedMessageKeyCount == SessionLimits.maximumSkippedTotal)
        // The first chain's keys were evicted; the last chain's are still there.
        #expect(throws: SessionError.duplicate(messageNumber: 0)) { try conversation.bobReceives(firstOfChain[0]) }
        #expect(try conversation.bobReceives(firstOfChain[2]) == "c2 m0")
    }

    @Test func serializationRoundTripMidConversation() throws {
        var conversation = try Conversation()
        _ = try conversation.aliceReceives(try conversation.bobSends("reply"))
        let delayed = try (0..<3).map { try conversation.aliceSends("delayed \($0)") }
        _ = try conversation.bobReceives(try conversation.aliceSends("latest"))

        let aliceBytes = conversation.aliceSession.serialized()
        let bobBytes = conversation.bobSession.serialized()
        conversation.aliceSession = try Session(serialized: aliceBytes)
        conversation.bobSession = try Session(serialized: bobBytes)
        #expect(conversation.aliceSession.serialized() == aliceBytes)
        #expect(conversation.bobSession.serialized() == bobBytes)

        #expect(try conversation.bobReceives(delayed[1]) == "delayed 1")
        #expect(try conversation.aliceReceives(try conversation.bobSends("after restore")) == "after restore")
        #expect(try conversation.bobReceives(try conversation.aliceSends("both ways")) == "both ways")
    }

    @Test func unsupportedStateVersionRejected() throws {
        let conversation = try Conversation()
        var bytes = conversation.bobSession.serialized().withUnsafeBytes { Array($0) }
        bytes[0] = 2
        #expect(throws: SessionError.unsupportedStateVersion(found: 2, supported: 1)) {
            try Session(serialized: SecureBytes(copying: bytes, storage: .wiped))
        }
        bytes[0] = 1
        bytes.append(0)
        #expect(throws: SessionError.malformed(structure: "SessionState", field: "(end)", reason: "1 unexpected bytes after the end")) {
            try Session(serialized: SecureBytes(copying: bytes, storage: .wiped))
        }
    }

    @Test func oversizedPlaintextRejected() throws {
        var conversation = try Conversation()
        let big = [UInt8](repeating: 0, count: SessionLimits.maximumPlaintextByteCount + 1)
        #expect(throws: SessionError.plaintextTooLarge(count: big.count, maximum: SessionLimits.maximumPlaintextByteCount)) {
            try conversation.aliceSession.encrypt(big)
        }
    }
}

@Suite("Peer sessions")
struct PeerSessionsTests {
    @Test func simultaneousInitiationConverges() throws {
        var alice = Device("alice")
        var bob = Device("bob")
        var alicePeers = PeerSessions()
        var bobPeers = PeerSessions()

        // ALICE and BOB: each starts a session from the other's bundle before hearing from the other.
        alicePeers.add(initiated: try X3DH.initiate(localIdentity: alice.identity, bundle: bob.bundle(), using: &alice.keySource))
        bobPeers.add(initiated: try X3DH.initiate(localIdentity: bob.identity, bundle: alice.bundle(), using: &bob.keySource))
        let fromAlice = try alicePeers.encrypt(Array("hi from alice".utf8))
        let fromBob = try bobPeers.encrypt(Array("hi from bob".utf8))

        // Both PreKey messages cross in flight and both open.
        let atBob = try bobPeers.decrypt(fromAlice, localIdentity: bob.identity, prekeys: bob.prekeys, using: &bob.keySource)
        let atAlice = try alicePeers.decrypt(fromBob, localIdentity: alice.identity, prekeys: alice.prekeys, using: &alice.keySource)
        #expect(atBob.plaintext == Array("hi from alice".utf8))
        #expect(atAlice.plaintext == Array("hi from bob".utf8))
        #expect(atBob.consumedOneTimePrekeyID == 100)

        // Both keep the same session: the one with the smaller base key.
        let aliceActive = try #require(alicePeers.active)
        let bobActive = try #require(bobPeers.active)
        #expect(aliceActive.baseKey == bobActive.baseKey)
        #expect(alicePeers.retired.count == 1)
        #expect(bobPeers.retired.count == 1)

        // And it works in both directions afterwards.
        for round in 0..<3 {
            let a = try alicePeers.encrypt(Array("a\(round)".utf8))
            #expect(try bobPeers.decrypt(a, localIdentity: bob.identity, prekeys: bob.prekeys, using: &bob.keySource).plaintext == Array("a\(round)".utf8))
            let b = try bobPeers.encrypt(Array("b\(round)".utf8))
            #expect(try alicePeers.decrypt(b, localIdentity: alice.identity, prekeys: alice.prekeys, using: &alice.keySource).plaintext == Array("b\(round)".utf8))
        }
        #expect(alicePeers.active?.isAwaitingFirstReply == false)
    }

    @Test func replayedPreKeyMessageIsDuplicate() throws {
        var alice = Device("alice")
        var bob = Device("bob")
        var alicePeers = PeerSessions()
        var bobPeers = PeerSessions()
        alicePeers.add(initiated: try X3DH.initiate(localIdentity: alice.identity, bundle: bob.bundle(), using: &alice.keySource))
        let first = try alicePeers.encrypt(Array("once".utf8))
        _ = try bobPeers.decrypt(first, localIdentity: bob.identity, prekeys: bob.prekeys, using: &bob.keySource)
        #expect(throws: SessionError.duplicate(messageNumber: 0)) {
            try bobPeers.decrypt(first, localIdentity: bob.identity, prekeys: bob.prekeys, using: &bob.keySource)
        }
        #expect(bobPeers.retired.isEmpty)
    }

    @Test func peerThatStartsOverBecomesActive() throws {
        var alice = Device("alice")
        var bob = Device("bob")
        var alicePeers = PeerSessions()
        var bobPeers = PeerSessions()
        alicePeers.add(initiated: try X3DH.initiate(localIdentity: alice.identity, bundle: bob.bundle(), using: &alice.keySource))
        _ = try bobPeers.decrypt(try alicePeers.encrypt([1]), localIdentity: bob.identity, prekeys: bob.prekeys, using: &bob.keySource)
        _ = try alicePeers.decrypt(try bobPeers.encrypt([2]), localIdentity: alice.identity, prekeys: alice.prekeys, using: &alice.keySource)

        // BOB: loses his state and starts a new session with Alice.
        var freshBob = PeerSessions()
        freshBob.add(initiated: try X3DH.initiate(localIdentity: bob.identity, bundle: alice.bundle(oneTimePrekeyID: 101), using: &bob.keySource))
        let restart = try freshBob.encrypt([3])
        _ = try alicePeers.decrypt(restart, localIdentity: alice.identity, prekeys: alice.prekeys, using: &alice.keySource)
        #expect(alicePeers.active?.baseKey == freshBob.active?.baseKey)
        let answer = try alicePeers.encrypt([4])
        #expect(try freshBob.decrypt(answer, localIdentity: bob.identity, prekeys: bob.prekeys, using: &bob.keySource).plaintext == [4])
    }

    @Test func noSessionForRatchetMessage() throws {
        var conversation = try Conversation()
        let message = try conversation.bobSends("x")
        var empty = PeerSessions()
        let alice = conversation.alice
        #expect(throws: SessionError.noSession) {
            try empty.decrypt(message, localIdentity: alice.identity, prekeys: alice.prekeys, using: &conversation.alice.keySource)
        }
    }
}

@Suite("Sealed sender")
struct SealedSenderTests {
    @Test func sealedEnvelopeOpensAndBindsSender() throws {
        var conversation = try Conversation()
        let envelopeKey = X25519PrivateKey.generate()
        let sender = DeviceAddress(userId: "alice", deviceId: 1)
        let content = SealedSenderContent(
            sender: sender, senderIdentityKey: conversation.alice.identity.publicKey, certificate: [0xCE, 0x27],
            message: try conversation.aliceSends("sealed"))
        let sealed = SealedSender.seal(content, to: envelopeKey.publicKey)

        let opened = try SealedSender.open(sealed, with: envelopeKey)
        #expect(opened == content)
        #expect(try conversation.bobSession.decrypt(sealed: opened, using: &conversation.bob.keySource) == Array("sealed".utf8))
    }

    @Test func sealedEnvelopeWithOtherIdentityRejected() throws {
        var conversation = try Conversation()
        let mallory = Device("mallory")
        let content = SealedSenderContent(
            sender: DeviceAddress(userId: "mallory", deviceId: 1), senderIdentityKey: mallory.identity.publicKey,
            certificate: [], message: try conversation.aliceSends("claimed by mallory"))
        let before = conversation.bobSession.serialized()
        #expect(throws: SessionError.senderMismatch) {
            try conversation.bobSession.decrypt(sealed: content, using: &conversation.bob.keySource)
        }
        #expect(conversation.bobSession.serialized() == before)
    }

    @Test func sealedEnvelopeForOtherKeyFails() throws {
        var conversation = try Conversation()
        let content = SealedSenderContent(
            sender: DeviceAddress(userId: "alice", deviceId: 1), senderIdentityKey: conversation.alice.identity.publicKey,
            certificate: [], message: try conversation.aliceSends("x"))
        let sealed = SealedSender.seal(content, to: X25519PrivateKey.generate().publicKey)
        #expect(throws: SessionError.authenticationFailure) { try SealedSender.open(sealed, with: X25519PrivateKey.generate()) }
    }
}

@Suite("Safety number")
struct SafetyNumberTests {
    @Test func sameOnBothSides() throws {
        let alice = Device("alice")
        let bob = Device("bob")
        let atAlice = SafetyNumber.compute(
            localIdentity: alice.identity.publicKey, localUser: "alice", remoteIdentity: bob.identity.publicKey, remoteUser: "bob")
        let atBob = SafetyNumber.compute(
            localIdentity: bob.identity.publicKey, localUser: "bob", remoteIdentity: alice.identity.publicKey, remoteUser: "alice")
        #expect(atAlice == atBob)
        let groups = atAlice.split(separator: " ")
        #expect(groups.count == 12)
        for group in groups {
            #expect(group.count == 5, "group \(group) is not five digits long")
            let allDigits = group.allSatisfy { $0.isNumber }
            #expect(allDigits, "group \(group) contains a non-digit")
        }
    }

    @Test func differsForOtherKey() throws {
        let alice = Device("alice")
        let bob = Device("bob")
        let mallory = Device("mallory")
        let genuine = SafetyNumber.compute(
            localIdentity: alice.identity.publicKey, localUser: "alice", remoteIdentity: bob.identity.publicKey, remoteUser: "bob")
        let swapped = SafetyNumber.compute(
            localIdentity: alice.identity.publicKey, localUser: "alice", remoteIdentity: mallory.identity.publicKey, remoteUser: "bob")
        #expect(genuine != swapped)
    }
}

@Suite("Decoding")
struct DecodingTests {
    @Test func truncatedMessageRejected() throws {
        var conversation = try Conversation()
        for message in [try conversation.aliceSends("prekey"), try conversation.bobSends("ratchet")] {
            let encoded = message.encode()
            #expect(try SessionMessage.decode(encoded) == message)
            for length in 0..<encoded.count {
                #expect(throws: SessionError.self, "prefix of \(length) bytes decoded") {
                    try SessionMessage.decode(Array(encoded[0..<length]))
                }
            }
        }
    }

    @Test func trailingBytesRejected() throws {
        var conversation = try Conversation()
        let encoded = try conversation.bobSends("x").encode()
        #expect(throws: SessionError.malformed(structure: "SessionMessage", field: "(end)", reason: "1 unexpected bytes after the end")) {
            try SessionMessage.decode(encoded + [0])
        }
        let bundle = conversation.bob.bundle().encode()
        #expect(throws: SessionError.malformed(structure: "PrekeyBundle", field: "(end)", reason: "2 unexpected bytes after the end")) {
            try PrekeyBundle.decode(bundle + [0, 0])
        }
        #expect(throws: SessionError.malformed(structure: "PrekeyBundle", field: "hasOneTimePrekey", reason: "input ends early")) {
            try PrekeyBundle.decode(Array(bundle[0..<(2 + 32 + 4 + 32 + 64)]))
        }
    }

    @Test func nonMinimalVarintRejected() throws {
        var conversation = try Conversation()
        let message = try conversation.bobSends("")
        // type, suite, key, pn, n, then a one-byte varint length 16: rewrite it as a two-byte varint.
        var encoded = message.encode()
        let lengthOffset = 1 + 2 + 32 + 4 + 4
        #expect(encoded[lengthOffset] == 16)
        encoded.replaceSubrange(lengthOffset...lengthOffset, with: [0x40, 16])
        #expect(throws: SessionError.malformed(structure: "SessionMessage", field: "ciphertext", reason: "varint is not in minimal form")) {
            try SessionMessage.decode(encoded)
        }
    }

    @Test func unknownTypeAndSuiteRejected() throws {
        var conversation = try Conversation()
        var encoded = try conversation.bobSends("x").encode()
        encoded[0] = 9
        #expect(throws: SessionError.malformed(structure: "SessionMessage", field: "type", reason: "unknown message type 9, expected 1 (ratchet) or 2 (PreKey)")) {
            try SessionMessage.decode(encoded)
        }
        encoded[0] = 1
        encoded[2] = 2
        #expect(throws: SessionError.unsupportedSuite(2)) { try SessionMessage.decode(encoded) }
    }

    @Test func contentKindsRoundTrip() throws {
        let id = try MessageID(bytes: [UInt8](repeating: 1, count: 16))
        let thread = try MessageID(bytes: [UInt8](repeating: 2, count: 16))
        let contents: [Content] = [
            .note(Note(subject: "Sitzung Bauausschuss", body: "Die Vorlage liegt bei.", threadID: thread)),
            .reply(Reply(inReplyTo: id, threadID: thread, body: "Danke.")),
            .deliveryReceipt([id, thread]),
            .readReceipt([id]),
            .unknown(kind: 77, body: [1, 2, 3]),
        ]
        for content in contents {
            let payload = MessagePayload(messageID: id, sentAt: 1_780_000_000_000, content: content)
            #expect(try MessagePayload.decode(try payload.encode()) == payload)
        }
    }

    @Test func unknownKindPreservedByteForByte() throws {
        let id = try MessageID(bytes: [UInt8](repeating: 3, count: 16))
        let payload = MessagePayload(messageID: id, sentAt: 5, content: .unknown(kind: 300, body: [9, 8, 7, 6]))
        let encoded = try payload.encode()
        let decoded = try MessagePayload.decode(encoded)
        #expect(decoded.content == .unknown(kind: 300, body: [9, 8, 7, 6]))
        #expect(try decoded.encode() == encoded)
    }

    @Test func noteWithTrailingBytesRejected() throws {
        let id = try MessageID(bytes: [UInt8](repeating: 3, count: 16))
        let payload = MessagePayload(messageID: id, sentAt: 5, content: .note(Note(subject: "s", body: "b", threadID: id)))
        var encoded = try payload.encode()
        // Grow the body's length by one and append a byte inside it.
        let lengthOffset = 16 + 8 + 2
        encoded[lengthOffset] += 1
        encoded.append(0)
        #expect(throws: SessionError.malformed(structure: "Note", field: "(end)", reason: "1 unexpected bytes after the end")) {
            try MessagePayload.decode(encoded)
        }
    }
}
