import Foundation
import RatsboteCrypto
import RatsboteSession
import Testing

/// Wraps a key source and records every private key it hands out, for the vector files.
struct RecordingKeyPairSource: KeyPairSource {
    var inner: DeterministicKeyPairSource
    var recorded: [String] = []

    mutating func nextKeyPair() -> X25519PrivateKey {
        let key = inner.nextKeyPair()
        recorded.append(key.withUnsafeBytes { Encoding.hex($0) })
        return key
    }
}

/// Generates `protocol/vectors/session-*.json` and compares them with the files in the repository.
///
/// Set `RATSBOTE_REGENERATE_VECTORS=1` to rewrite the files after an intended change to the wire
/// format. Without it any difference fails, so a change to the wire shows up as a change to the vectors.
@Suite("Session vectors")
struct SessionVectorTests {
    static let vectorsFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("protocol/vectors")

    @Test func ratchetConversationVector() throws {
        try check(name: "session-ratchet.json", generated: try Self.ratchetVector())
    }

    @Test func contentAndSafetyNumberVector() throws {
        try check(name: "session-content.json", generated: try Self.contentVector())
    }

    private func check(name: String, generated: [String: Any]) throws {
        let data = try JSONSerialization.data(
            withJSONObject: generated, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        let text = String(decoding: data, as: UTF8.self) + "\n"
        let url = Self.vectorsFolder.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["RATSBOTE_REGENERATE_VECTORS"] == "1" {
            try FileManager.default.createDirectory(at: Self.vectorsFolder, withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        guard let stored = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("vector file \(url.path) is missing; run with RATSBOTE_REGENERATE_VECTORS=1 to create it")
            return
        }
        #expect(stored == text, "\(url.path) differs from the generated vectors; if the wire change is intended, regenerate with RATSBOTE_REGENERATE_VECTORS=1")
    }

    private static func hex(_ bytes: [UInt8]) -> String { Encoding.hex(bytes) }

    private static func device(_ device: Device) -> [String: Any] {
        [
            "identitySeed": device.identity.seed.withUnsafeBytes { Encoding.hex($0) },
            "identityKey": hex(device.identity.publicKey.rawRepresentation),
            "signedPrekeyID": Int(device.signedPrekeyID),
            "signedPrekeyPrivate": device.signedPrekey.withUnsafeBytes { Encoding.hex($0) },
            "signedPrekey": hex(device.signedPrekey.publicKey.rawRepresentation),
            "oneTimePrekeyID": 100,
            "oneTimePrekeyPrivate": device.oneTimePrekeys[100]!.withUnsafeBytes { Encoding.hex($0) },
            "oneTimePrekey": hex(device.oneTimePrekeys[100]!.publicKey.rawRepresentation),
        ]
    }

    /// Builds a conversation with X3DH (one-time prekey), a DH ratchet step each way, a burst, and one late message.
    static func ratchetVector() throws -> [String: Any] {
        let alice = Device("alice")
        let bob = Device("bob")
        var aliceKeys = RecordingKeyPairSource(inner: DeterministicKeyPairSource(seed: "vector alice"))
        var bobKeys = RecordingKeyPairSource(inner: DeterministicKeyPairSource(seed: "vector bob"))
        let bundle = bob.bundle()

        var aliceSession = try X3DH.initiate(localIdentity: alice.identity, bundle: bundle, using: &aliceKeys)
        var messages: [[String: Any]] = []
        func record(_ sender: String, _ text: String, _ message: SessionMessage) {
            messages.append(["sender": sender, "plaintext": text, "encoded": hex(message.encode())])
        }

        let first = try aliceSession.encrypt(Array("Guten Tag, Bob.".utf8))
        record("alice", "Guten Tag, Bob.", first)
        guard case .preKey(let preKey) = first else { throw SessionError.noSession }
        var (bobSession, _) = try X3DH.respond(
            localIdentity: bob.identity, signedPrekey: bob.signedPrekey, oneTimePrekey: bob.oneTimePrekeys[100],
            message: preKey, using: &bobKeys)

        let reply = try bobSession.encrypt(Array("Hallo Alice.".utf8))
        record("bob", "Hallo Alice.", reply)
        _ = try aliceSession.decrypt(reply, using: &aliceKeys)

        var burst: [SessionMessage] = []
        for index in 0..<3 {
            let text = "Nachricht \(index)"
            let message = try aliceSession.encrypt(Array(text.utf8))
            record("alice", text, message)
            burst.append(message)
        }
        _ = try bobSession.decrypt(burst[0], using: &bobKeys)
        _ = try bobSession.decrypt(burst[2], using: &bobKeys)
        let answer = try bobSession.encrypt(Array("Zwei von drei erhalten.".utf8))
        record("bob", "Zwei von drei erhalten.", answer)
        _ = try aliceSession.decrypt(answer, using: &aliceKeys)
        _ = try bobSession.decrypt(burst[1], using: &bobKeys)

        return [
            "description": "X3DH with a one-time prekey, then the Double Ratchet (suite 1). Messages are listed in sending order; the receiver of the 'alice' burst gets 'Nachricht 1' last, after its reply. Key pairs are taken from each party's list in order: Alice's first is the X3DH ephemeral (base) key, every later one a new sending ratchet key.",
            "alice": device(alice),
            "bob": device(bob),
            "aliceKeyPairs": aliceKeys.recorded,
            "bobKeyPairs": bobKeys.recorded,
            "bundle": hex(bundle.encode()),
            "messages": messages,
            "aliceStateAfter": aliceSession.serialized().withUnsafeBytes { Encoding.hex($0) },
            "bobStateAfter": bobSession.serialized().withUnsafeBytes { Encoding.hex($0) },
        ]
    }

    /// Builds content payloads of every kind, and a safety number.
    static func contentVector() throws -> [String: Any] {
        let id = try MessageID(bytes: Array(0..<16))
        let thread = try MessageID(bytes: Array(16..<32))
        let payloads: [(String, Content)] = [
            ("note", .note(Note(subject: "Sitzungsvorlage", body: "Bitte bis Freitag prüfen.", threadID: thread))),
            ("reply", .reply(Reply(inReplyTo: id, threadID: thread, body: "Erledigt."))),
            ("deliveryReceipt", .deliveryReceipt([id, thread])),
            ("readReceipt", .readReceipt([id])),
            ("unknownKind", .unknown(kind: 0x1234, body: [0xDE, 0xAD])),
        ]
        let alice = Device("alice")
        let bob = Device("bob")
        return [
            "description": "MessagePayload encodings (messageID 000102..0f, sentAt 1780000000000) and a safety number.",
            "payloads": try payloads.map { name, content in
                ["kind": name, "encoded": hex(try MessagePayload(messageID: id, sentAt: 1_780_000_000_000, content: content).encode())]
            },
            "safetyNumber": [
                "identityKeyA": hex(alice.identity.publicKey.rawRepresentation),
                "userA": "alice",
                "identityKeyB": hex(bob.identity.publicKey.rawRepresentation),
                "userB": "bob",
                "number": SafetyNumber.compute(
                    localIdentity: alice.identity.publicKey, localUser: "alice",
                    remoteIdentity: bob.identity.publicKey, remoteUser: "bob"),
            ],
        ]
    }
}
