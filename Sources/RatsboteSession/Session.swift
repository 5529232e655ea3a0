import Foundation
import RatsboteCrypto
import RatsboteWire

/// One Double Ratchet session between two devices, as a value.
///
/// A session is a pure state machine: ``encrypt(_:)`` and ``decrypt(_:using:)`` are its inputs,
/// and the caller stores the value (see ``serialized()``) after each call. Decryption
/// authenticates the message before it changes anything, so every thrown error leaves the value
/// exactly as it was.
///
/// Sessions start with ``X3DH/initiate(localIdentity:bundle:using:)`` or
/// ``X3DH/respond(localIdentity:signedPrekey:oneTimePrekey:message:using:)``.
public struct Session: Sendable {
    /// The algorithms of this session.
    public let suite: Suite
    /// This device's Ed25519 identity key.
    public let localIdentityKey: Ed25519PublicKey
    /// The peer device's Ed25519 identity key, authenticated by X3DH.
    public let remoteIdentityKey: Ed25519PublicKey
    /// The initiator's X3DH ephemeral key. Both sides hold the same one, so it names the session.
    public let baseKey: X25519PublicKey
    /// Whether this device started the session with X3DH.
    public let isInitiator: Bool
    /// `Encode(IK_initiator) ‖ Encode(IK_responder)`, the X3DH associated data.
    let associatedData: [UInt8]

    var rootKey: SecureBytes
    var sendingRatchetKey: X25519PrivateKey
    var remoteRatchetKey: X25519PublicKey?
    var sendingChainKey: SecureBytes?
    var receivingChainKey: SecureBytes?
    var sendingNumber: UInt32
    var previousSendingCount: UInt32
    var receivingNumber: UInt32
    var skipped: [SkippedKeyID: SkippedKey]
    /// The sequence number for the next stored skipped key, which lets the oldest be evicted first.
    var skippedSequence: UInt64
    /// Receiving ratchet keys of earlier chains, newest last, to tell duplicates from forgeries.
    var earlierReceivingKeys: [X25519PublicKey]
    /// The X3DH fields the initiator repeats until the first reply arrives.
    var pendingPreKey: PendingPreKey?

    /// The X3DH fields of a PreKey message that the initiator still has to send.
    struct PendingPreKey: Sendable, Equatable {
        let signedPrekeyID: UInt32
        let oneTimePrekeyID: UInt32?
    }

    /// Identifies a skipped message key by its chain's ratchet key and message number.
    struct SkippedKeyID: Hashable, Sendable {
        let ratchetKey: [UInt8]
        let messageNumber: UInt32
    }

    /// A skipped message key and when it was stored.
    struct SkippedKey: Sendable {
        let messageKey: SecureBytes
        let sequence: UInt64
    }

    /// Whether the session still sends PreKey messages because no reply has arrived yet.
    public var isAwaitingFirstReply: Bool { pendingPreKey != nil }

    /// The number of skipped message keys held for late messages.
    public var skippedMessageKeyCount: Int { skipped.count }

    // MARK: - Encrypt

    /// Encrypts `plaintext` with the next message key of the sending chain.
    ///
    /// - Returns: a PreKey message until the peer has replied, a ratchet message afterwards.
    /// - Throws: ``SessionError/plaintextTooLarge(count:maximum:)``, or ``SessionError/noSession``
    ///   when the session has no sending chain (a responder session that never decrypted).
    public mutating func encrypt(_ plaintext: some ContiguousBytes) throws -> SessionMessage {
        let count = plaintext.withUnsafeBytes { $0.count }
        guard count <= SessionLimits.maximumPlaintextByteCount else {
            throw SessionError.plaintextTooLarge(count: count, maximum: SessionLimits.maximumPlaintextByteCount)
        }
        guard let chainKey = sendingChainKey else { throw SessionError.noSession }
        guard sendingNumber < UInt32.max else {
            throw SessionError.malformed(
                structure: "Session", field: "sendingNumber", reason: "sending chain exhausted; start a new session")
        }

        let (messageKey, nextChainKey) = KeyDerivation.chainStep(chainKey: chainKey)
        let header = MessageHeader(
            suite: suite, ratchetKey: sendingRatchetKey.publicKey, previousChainLength: previousSendingCount,
            messageNumber: sendingNumber)
        let ciphertext = try Self.seal(plaintext, messageKey: messageKey, header: header, associatedData: associatedData)

        sendingChainKey = nextChainKey
        sendingNumber += 1

        let message = RatchetMessage(header: header, ciphertext: ciphertext)
        guard let pendingPreKey else { return .ratchet(message) }
        return .preKey(
            PreKeyMessage(
                suite: suite, identityKey: isInitiator ? localIdentityKey : remoteIdentityKey, baseKey: baseKey,
                signedPrekeyID: pendingPreKey.signedPrekeyID, oneTimePrekeyID: pendingPreKey.oneTimePrekeyID,
                message: message))
    }

    // MARK: - Decrypt

    /// Decrypts a message with fresh ratchet keys from the system's CSPRNG.
    ///
    /// - Throws: see ``decrypt(_:using:)``.
    public mutating func decrypt(_ message: SessionMessage) throws -> [UInt8] {
        var source = SystemKeyPairSource()
        return try decrypt(message, using: &source)
    }

    /// Decrypts a message, taking any new ratchet key pair from `keySource`.
    ///
    /// - Parameters:
    ///   - message: a ratchet message, or a PreKey message of this same session (same base key).
    ///   - keySource: supplies the new sending ratchet key when the message starts a new chain.
    /// - Returns: the plaintext, an ordinary array that the caller wipes when done.
    /// - Throws: ``SessionError/duplicate(messageNumber:)`` for a message already received,
    ///   ``SessionError/authenticationFailure`` for a forged, corrupted or foreign message,
    ///   ``SessionError/tooManySkipped(requested:maximum:)``, ``SessionError/invalidKey(field:)``,
    ///   ``SessionError/unsupportedSuite(_:)``. The session is unchanged after any error.
    public mutating func decrypt(_ message: SessionMessage, using keySource: inout some KeyPairSource) throws -> [UInt8] {
        if case .preKey(let preKey) = message {
            guard preKey.baseKey == baseKey, preKey.identityKey == (isInitiator ? localIdentityKey : remoteIdentityKey) else {
                throw SessionError.authenticationFailure
            }
        }
        let ratchet = message.ratchetMessage
        let header = ratchet.header
        guard header.suite == suite else { throw SessionError.unsupportedSuite(header.suite.rawValue) }
        guard header.messageNumber < UInt32.max else {
            // The receiving counter is set to messageNumber + 1, which must not overflow.
            throw SessionError.malformed(
                structure: "MessageHeader", field: "messageNumber", reason: "value 4294967295 is reserved")
        }

        let plaintext: [UInt8]
        let skippedID = SkippedKeyID(ratchetKey: header.ratchetKey.rawRepresentation, messageNumber: header.messageNumber)
        if !skipped.isEmpty, let entry = skipped[skippedID] {
            plaintext = try Self.open(ratchet, messageKey: entry.messageKey, associatedData: associatedData)
            skipped[skippedID] = nil
        } else if header.ratchetKey == remoteRatchetKey, let chainKey = receivingChainKey {
            plaintext = try decryptInCurrentChain(ratchet, chainKey: chainKey)
        } else if earlierReceivingKeys.contains(header.ratchetKey) {
            throw SessionError.duplicate(messageNumber: header.messageNumber)
        } else {
            plaintext = try decryptWithRatchetStep(ratchet, keySource: &keySource)
        }

        // Any authenticated message from the peer proves it has built the session.
        pendingPreKey = nil
        return plaintext
    }

    /// Decrypts a message of the current receiving chain, skipping keys up to its number.
    private mutating func decryptInCurrentChain(_ message: RatchetMessage, chainKey: SecureBytes) throws -> [UInt8] {
        let number = message.header.messageNumber
        guard number >= receivingNumber else { throw SessionError.duplicate(messageNumber: number) }

        let advance = try Self.advance(
            chainKey: chainKey, from: receivingNumber, to: number, ratchetKey: message.header.ratchetKey)
        let plaintext = try Self.open(message, messageKey: advance.messageKey, associatedData: associatedData)

        storeSkipped(advance.skipped)
        receivingChainKey = advance.nextChainKey
        receivingNumber = number + 1
        return plaintext
    }

    /// Performs a DH ratchet step for a message with a new ratchet key, committing only after it opens.
    private mutating func decryptWithRatchetStep(
        _ message: RatchetMessage, keySource: inout some KeyPairSource
    ) throws -> [UInt8] {
        let header = message.header

        // Keys left in the current receiving chain, so that its late messages still open. The
        // sender sent numbers 0..<previousChainLength there; the key `advance` derives for
        // `previousChainLength` itself belongs to no message and is dropped.
        var oldChainSkipped: [(SkippedKeyID, SecureBytes)] = []
        if let oldRemote = remoteRatchetKey, let oldChain = receivingChainKey,
            header.previousChainLength > receivingNumber
        {
            oldChainSkipped = try Self.advance(
                chainKey: oldChain, from: receivingNumber, to: header.previousChainLength, ratchetKey: oldRemote
            ).skipped
        }

        let receivingSecret: SecureBytes
        do {
            receivingSecret = try sendingRatchetKey.sharedSecret(with: header.ratchetKey, storage: .wiped)
        } catch {
            throw SessionError.fromKey(error, field: "MessageHeader.ratchetKey")
        }
        let (receivingRoot, newReceivingChain) = try KeyDerivation.rootStep(rootKey: rootKey, dhOutput: receivingSecret)
        let advance = try Self.advance(
            chainKey: newReceivingChain, from: 0, to: header.messageNumber, ratchetKey: header.ratchetKey)
        let plaintext = try Self.open(message, messageKey: advance.messageKey, associatedData: associatedData)

        // The message is authentic, so the new sending chain can be created and everything committed.
        let newSendingKey = keySource.nextKeyPair()
        let sendingSecret: SecureBytes
        do {
            sendingSecret = try newSendingKey.sharedSecret(with: header.ratchetKey, storage: .wiped)
        } catch {
            throw SessionError.fromKey(error, field: "MessageHeader.ratchetKey")
        }
        let (newRoot, newSendingChain) = try KeyDerivation.rootStep(rootKey: receivingRoot, dhOutput: sendingSecret)

        storeSkipped(oldChainSkipped)
        storeSkipped(advance.skipped)
        if let oldRemote = remoteRatchetKey, receivingChainKey != nil {
            earlierReceivingKeys.append(oldRemote)
            if earlierReceivingKeys.count > SessionLimits.rememberedReceivingChains {
                earlierReceivingKeys.removeFirst(earlierReceivingKeys.count - SessionLimits.rememberedReceivingChains)
            }
        }
        remoteRatchetKey = header.ratchetKey
        receivingChainKey = advance.nextChainKey
        receivingNumber = header.messageNumber + 1
        previousSendingCount = sendingNumber
        sendingNumber = 0
        sendingChainKey = newSendingChain
        sendingRatchetKey = newSendingKey
        rootKey = newRoot
        return plaintext
    }

    /// The result of running a receiving chain forward without committing it.
    private struct ChainAdvance {
        /// Keys for the numbers passed over, to store only once the message authenticates.
        var skipped: [(SkippedKeyID, SecureBytes)]
        /// The key of the target message.
        var messageKey: SecureBytes
        /// The chain key after the target message.
        var nextChainKey: SecureBytes
    }

    /// Runs a chain from number `start` to `target`, collecting the keys in between.
    ///
    /// - Throws: ``SessionError/tooManySkipped(requested:maximum:)`` when more than
    ///   ``SessionLimits/maximumSkippedPerChain`` keys would be skipped.
    private static func advance(
        chainKey: SecureBytes, from start: UInt32, to target: UInt32, ratchetKey: X25519PublicKey
    ) throws -> ChainAdvance {
        let gap = Int(target) - Int(start)
        guard gap <= SessionLimits.maximumSkippedPerChain else {
            throw SessionError.tooManySkipped(requested: gap, maximum: SessionLimits.maximumSkippedPerChain)
        }
        var skipped: [(SkippedKeyID, SecureBytes)] = []
        if gap > 0 { skipped.reserveCapacity(gap) }
        var current = chainKey
        var number = start
        while number < target {
            let step = KeyDerivation.chainStep(chainKey: current)
            skipped.append((SkippedKeyID(ratchetKey: ratchetKey.rawRepresentation, messageNumber: number), step.messageKey))
            current = step.nextChainKey
            number += 1
        }
        let final = KeyDerivation.chainStep(chainKey: current)
        return ChainAdvance(skipped: skipped, messageKey: final.messageKey, nextChainKey: final.nextChainKey)
    }

    /// Stores skipped keys and evicts the oldest beyond ``SessionLimits/maximumSkippedTotal``.
    private mutating func storeSkipped(_ keys: [(SkippedKeyID, SecureBytes)]) {
        guard !keys.isEmpty else { return }
        for (id, key) in keys {
            skipped[id] = SkippedKey(messageKey: key, sequence: skippedSequence)
            skippedSequence += 1
        }
        let excess = skipped.count - SessionLimits.maximumSkippedTotal
        guard excess > 0 else { return }
        let oldest = skipped.sorted { $0.value.sequence < $1.value.sequence }.prefix(excess)
        for (id, _) in oldest { skipped[id] = nil }
    }

    // MARK: - AEAD

    /// Encrypts under the key and nonce derived from `messageKey`, authenticating AD ‖ header.
    static func seal(
        _ plaintext: some ContiguousBytes, messageKey: SecureBytes, header: MessageHeader, associatedData: [UInt8]
    ) throws -> [UInt8] {
        try KeyDerivation.withMessageKeyAndNonce(messageKey: messageKey) { key, nonce in
            try withAuthenticatedData(associatedData, header) { ad in
                try XChaCha20Poly1305.seal(plaintext, using: key, nonce: nonce, authenticating: ad)
            }
        }
    }

    /// Decrypts a ratchet message with `messageKey`.
    ///
    /// - Throws: ``SessionError/authenticationFailure``.
    static func open(_ message: RatchetMessage, messageKey: SecureBytes, associatedData: [UInt8]) throws -> [UInt8] {
        try KeyDerivation.withMessageKeyAndNonce(messageKey: messageKey) { key, nonce in
            try withAuthenticatedData(associatedData, message.header) { ad in
                do {
                    return try XChaCha20Poly1305.open(message.ciphertext, using: key, nonce: nonce, authenticating: ad)
                } catch {
                    throw SessionError.authenticationFailure
                }
            }
        }
    }

    /// Calls `body` with the AEAD associated data `AD ‖ encoded header`, built on the stack
    /// because it is needed only for the one AEAD call.
    private static func withAuthenticatedData<Result>(
        _ associatedData: [UInt8], _ header: MessageHeader, _ body: (UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> Result {
        let prefixCount = associatedData.count
        return try withUnsafeTemporaryAllocation(
            byteCount: prefixCount + MessageHeader.maximumEncodedByteCount, alignment: 1
        ) { buffer in
            associatedData.withUnsafeBytes { buffer.copyMemory(from: $0) }
            let headerCount = header.encode(into: UnsafeMutableRawBufferPointer(rebasing: buffer[prefixCount...]))
            return try body(UnsafeRawBufferPointer(rebasing: buffer[0..<prefixCount + headerCount]))
        }
    }
}
