// The Double Ratchet cases: 1 KiB messages between two RatsboteSession sessions, beside the
// libsodium calls that the same messages cost when made directly in C (`csb_ratchet_*`).
//
// One operation is one message: one `Session.encrypt` by the sender and one `Session.decrypt` by
// the receiver, on message values (the wire encoding is not part of it). The sessions and the C
// keys persist from batch to batch, so every batch continues the same conversation.

import CSodiumBench
import RatsboteCrypto
import RatsboteSession

extension CaseRegistry {
    /// Registers the one-way and the alternating ratchet case.
    mutating func addRatchetCases() {
        let size = 1024
        // The C side makes the same libsodium calls with nothing around them, so the Swift side
        // may cost up to 1.2 times as much for its state machine, checks and secure memory.
        let target = 1.2

        add("ratchet one-way.1KiB", unit: .operationsPerSecond, target: target) {
            let caseName = "ratchet one-way.1KiB"
            let conversation = try RatchetConversation(caseName: caseName, messageByteCount: size)
            let floor = try CRatchet(caseName: caseName, messageByteCount: size)
            return PairedWorkloads(
                swift: .timed { n in try conversation.sendOneWay(n) },
                c: floor.timed(csb_ratchet_one_way),
                note: "1 message = encrypt + decrypt; rate target 150000/s")
        }
        add("ratchet alternating.1KiB", unit: .operationsPerSecond, target: target) {
            let caseName = "ratchet alternating.1KiB"
            let conversation = try RatchetConversation(caseName: caseName, messageByteCount: size)
            let floor = try CRatchet(caseName: caseName, messageByteCount: size)
            return PairedWorkloads(
                swift: .timed { n in try conversation.sendAlternating(n) },
                c: floor.timed(csb_ratchet_alternating),
                note: "1 message = encrypt + decrypt with a DH ratchet step; rate target 10000/s")
        }
    }
}

/// Alice and Bob with an established session: X3DH, Alice's first message and Bob's reply, so
/// that Alice sends ratchet messages rather than PreKey messages from then on.
private final class RatchetConversation {
    let caseName: String
    let message: [UInt8]
    var alice: Session
    var bob: Session
    var aliceKeys = SystemKeyPairSource()
    var bobKeys = SystemKeyPairSource()
    /// Whether Alice sends the next alternating message.
    var aliceSendsNext = true

    init(caseName: String, messageByteCount: Int) throws {
        self.caseName = caseName
        message = Random.bytes(count: messageByteCount)

        let aliceIdentity = Ed25519SigningKey.generate()
        let bobIdentity = Ed25519SigningKey.generate()
        let signedPrekey = X25519PrivateKey.generate()
        let signedPrekeyID: UInt32 = 1
        let bundle = PrekeyBundle(
            identityKey: bobIdentity.publicKey, signedPrekeyID: signedPrekeyID, signedPrekey: signedPrekey.publicKey,
            signedPrekeySignature: PrekeyBundle.signPrekey(signedPrekey.publicKey, id: signedPrekeyID, with: bobIdentity))

        alice = try X3DH.initiate(localIdentity: aliceIdentity, bundle: bundle)
        guard case .preKey(let first) = try alice.encrypt(message) else {
            throw BenchmarkFailure(caseName: caseName, reason: "the first message of a session is not a PreKey message")
        }
        let responded = try X3DH.respond(
            localIdentity: bobIdentity, signedPrekey: signedPrekey, oneTimePrekey: nil, message: first)
        bob = responded.session
        try check(responded.plaintext)
        try check(try alice.decrypt(try bob.encrypt(message), using: &aliceKeys))
        guard !alice.isAwaitingFirstReply else {
            throw BenchmarkFailure(caseName: caseName, reason: "Alice still sends PreKey messages after Bob's reply")
        }
    }

    /// Sends `count` messages from Alice to Bob in Alice's current sending chain.
    func sendOneWay(_ count: Int) throws {
        for _ in 0..<count {
            let sent = try alice.encrypt(message)
            try check(try bob.decrypt(sent, using: &bobKeys))
        }
    }

    /// Sends `count` messages, the sender alternating, so that each receiver makes a DH ratchet step.
    func sendAlternating(_ count: Int) throws {
        for _ in 0..<count {
            if aliceSendsNext {
                let sent = try alice.encrypt(message)
                try check(try bob.decrypt(sent, using: &bobKeys))
            } else {
                let sent = try bob.encrypt(message)
                try check(try alice.decrypt(sent, using: &aliceKeys))
            }
            aliceSendsNext.toggle()
        }
    }

    /// Checks the size of a decrypted message. Its bytes need no comparison because the AEAD tag
    /// has already authenticated them.
    private func check(_ plaintext: [UInt8]) throws {
        guard plaintext.count == message.count else {
            throw BenchmarkFailure(
                caseName: caseName, reason: "decrypted \(plaintext.count) bytes, expected \(message.count)")
        }
    }
}

/// Owns the C side's two-party ratchet state and turns its run functions into workloads.
private final class CRatchet {
    private let pointer: OpaquePointer
    let caseName: String

    init(caseName: String, messageByteCount: Int) throws {
        guard let pointer = csb_ratchet_create(messageByteCount) else {
            throw BenchmarkFailure(caseName: caseName, reason: "csb_ratchet_create failed (libsodium or memory)")
        }
        self.pointer = pointer
        self.caseName = caseName
    }

    deinit {
        csb_ratchet_destroy(pointer)
    }

    /// Makes a workload that the harness times around one call of `function`.
    func timed(_ function: @escaping (OpaquePointer?, UInt64) -> Int64) -> Workload {
        .timed { iterations in
            guard function(self.pointer, UInt64(iterations)) >= 0 else {
                throw BenchmarkFailure(caseName: self.caseName, reason: "the C side reported a libsodium error")
            }
        }
    }
}
