import Foundation
import RatsboteCrypto
import RatsboteSession

/// Key pairs derived from a seed and a counter, so that runs and vectors are reproducible.
struct DeterministicKeyPairSource: KeyPairSource {
    let seed: [UInt8]
    var counter: UInt32 = 0

    init(seed: String) {
        self.seed = Array(seed.utf8)
    }

    mutating func nextKeyPair() -> X25519PrivateKey {
        let input = seed + [UInt8(counter >> 24 & 0xFF), UInt8(counter >> 16 & 0xFF), UInt8(counter >> 8 & 0xFF), UInt8(counter & 0xFF)]
        counter += 1
        let scalar = try! BLAKE2b.hash(input, outputByteCount: 32)
        return try! X25519PrivateKey(secret: SecureBytes(copying: scalar, storage: .wiped))
    }
}

/// One device with its identity, a signed prekey and a few one-time prekeys.
struct Device {
    let name: String
    let identity: Ed25519SigningKey
    let signedPrekeyID: UInt32 = 7
    let signedPrekey: X25519PrivateKey
    let oneTimePrekeys: [UInt32: X25519PrivateKey]
    var keySource: DeterministicKeyPairSource

    init(_ name: String) {
        self.name = name
        let seed = try! BLAKE2b.hash(Array("identity \(name)".utf8), outputByteCount: 32)
        identity = try! Ed25519SigningKey(seed: SecureBytes(copying: seed))
        var prekeySource = DeterministicKeyPairSource(seed: "prekeys \(name)")
        signedPrekey = prekeySource.nextKeyPair()
        var oneTime: [UInt32: X25519PrivateKey] = [:]
        for id in UInt32(100)..<UInt32(104) { oneTime[id] = prekeySource.nextKeyPair() }
        oneTimePrekeys = oneTime
        keySource = DeterministicKeyPairSource(seed: "ratchet \(name)")
    }

    /// Builds the bundle the relay would hand out, with or without a one-time prekey.
    func bundle(oneTimePrekeyID: UInt32? = 100) -> PrekeyBundle {
        let signature = PrekeyBundle.signPrekey(signedPrekey.publicKey, id: signedPrekeyID, with: identity)
        return PrekeyBundle(
            identityKey: identity.publicKey, signedPrekeyID: signedPrekeyID, signedPrekey: signedPrekey.publicKey,
            signedPrekeySignature: signature,
            oneTimePrekey: oneTimePrekeyID.map { ($0, oneTimePrekeys[$0]!.publicKey) })
    }

    /// Looks up the private prekeys a PreKey message names.
    func prekeys(for message: PreKeyMessage) throws -> PeerSessions.PrekeyPair {
        guard message.signedPrekeyID == signedPrekeyID else {
            throw SessionError.unknownPrekey(kind: "signed", id: message.signedPrekeyID)
        }
        var oneTime: X25519PrivateKey?
        if let id = message.oneTimePrekeyID {
            guard let key = oneTimePrekeys[id] else { throw SessionError.unknownPrekey(kind: "one-time", id: id) }
            oneTime = key
        }
        return PeerSessions.PrekeyPair(signedPrekey: signedPrekey, oneTimePrekey: oneTime)
    }
}

/// Two devices with an established session: Alice initiated it and Bob decrypted her first message.
struct Conversation {
    var alice = Device("alice")
    var bob = Device("bob")
    var aliceSession: Session
    var bobSession: Session

    init(oneTimePrekeyID: UInt32? = 100) throws {
        aliceSession = try X3DH.initiate(
            localIdentity: alice.identity, bundle: bob.bundle(oneTimePrekeyID: oneTimePrekeyID), using: &alice.keySource)
        let first = try aliceSession.encrypt(Array("hello bob".utf8))
        guard case .preKey(let preKey) = first else { throw SessionError.noSession }
        let pair = try bob.prekeys(for: preKey)
        (bobSession, _) = try X3DH.respond(
            localIdentity: bob.identity, signedPrekey: pair.signedPrekey, oneTimePrekey: pair.oneTimePrekey,
            message: preKey, using: &bob.keySource)
    }

    mutating func aliceSends(_ text: String) throws -> SessionMessage {
        try aliceSession.encrypt(Array(text.utf8))
    }

    mutating func bobSends(_ text: String) throws -> SessionMessage {
        try bobSession.encrypt(Array(text.utf8))
    }

    mutating func bobReceives(_ message: SessionMessage) throws -> String {
        String(decoding: try bobSession.decrypt(message, using: &bob.keySource), as: UTF8.self)
    }

    mutating func aliceReceives(_ message: SessionMessage) throws -> String {
        String(decoding: try aliceSession.decrypt(message, using: &alice.keySource), as: UTF8.self)
    }
}

/// Returns the bytes with one bit flipped at `index`.
func flipping(_ bytes: [UInt8], at index: Int) -> [UInt8] {
    var copy = bytes
    copy[index] ^= 0x01
    return copy
}
