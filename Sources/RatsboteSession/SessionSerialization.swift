import RatsboteCrypto
import RatsboteWire

// MARK: - Serialization

extension Session {
    /// The version byte of the serialized state this build writes and reads.
    public static let stateVersion: UInt8 = 1

    /// Encodes the whole session, secrets included, for the client's encrypted store.
    ///
    /// The skipped keys are written oldest first, so equal sessions give equal bytes.
    ///
    /// - Returns: wiped secure memory; the caller encrypts it before it reaches a disk.
    public func serialized() -> SecureBytes {
        var writer = WireWriter(reservingCapacity: 512 + skipped.count * 80)
        writer.writeUInt8(Self.stateVersion)
        writer.writeUInt16(suite.rawValue)
        writer.writeFixed(localIdentityKey.rawRepresentation)
        writer.writeFixed(remoteIdentityKey.rawRepresentation)
        writer.writeFixed(baseKey.rawRepresentation)
        writer.writeFlag(isInitiator)
        writer.writeSecret(rootKey)
        sendingRatchetKey.withUnsafeBytes { writer.writeFixed($0) }
        writer.writeFlag(remoteRatchetKey != nil)
        if let remoteRatchetKey { writer.writeFixed(remoteRatchetKey.rawRepresentation) }
        writer.writeFlag(sendingChainKey != nil)
        if let sendingChainKey { writer.writeSecret(sendingChainKey) }
        writer.writeFlag(receivingChainKey != nil)
        if let receivingChainKey { writer.writeSecret(receivingChainKey) }
        writer.writeUInt32(sendingNumber)
        writer.writeUInt32(previousSendingCount)
        writer.writeUInt32(receivingNumber)
        writer.writeUInt64(skippedSequence)
        writer.writeList(earlierReceivingKeys) { w, key in w.writeFixed(key.rawRepresentation) }
        let ordered = skipped.sorted { $0.value.sequence < $1.value.sequence }
        writer.writeList(ordered) { w, entry in
            w.writeFixed(entry.key.ratchetKey)
            w.writeUInt32(entry.key.messageNumber)
            w.writeUInt64(entry.value.sequence)
            w.writeSecret(entry.value.messageKey)
        }
        writer.writeFlag(pendingPreKey != nil)
        if let pendingPreKey {
            writer.writeUInt32(pendingPreKey.signedPrekeyID)
            writer.writeFlag(pendingPreKey.oneTimePrekeyID != nil)
            if let id = pendingPreKey.oneTimePrekeyID { writer.writeUInt32(id) }
        }

        var bytes = writer.bytes
        defer { wipe(&bytes) }
        return SecureBytes(copying: bytes, storage: .wiped)
    }

    /// Restores a session from ``serialized()``.
    ///
    /// - Throws: ``SessionError/unsupportedStateVersion(found:supported:)``,
    ///   ``SessionError/malformed(structure:field:reason:)``, ``SessionError/unsupportedSuite(_:)``.
    public init(serialized: SecureBytes) throws {
        var bytes = serialized.withUnsafeBytes { Array($0) }
        defer { wipe(&bytes) }
        self = try decodeSessionStructure(bytes, structure: "SessionState") { reader in
            let version = try reader.readUInt8("version")
            guard version == Self.stateVersion else {
                throw SessionError.unsupportedStateVersion(found: version, supported: Self.stateVersion)
            }
            let suite = try reader.readSuite()
            let local = try reader.readEd25519PublicKey("localIdentityKey")
            let remote = try reader.readEd25519PublicKey("remoteIdentityKey")
            let base = try reader.readX25519PublicKey("baseKey", suite: suite)
            let initiator = try reader.readFlag("isInitiator")
            let root = try reader.readSecret("rootKey", count: 32)
            let sendingKey = try X25519PrivateKey(secret: try reader.readSecret("sendingRatchetKey", count: 32))
            let remoteRatchet = try reader.readFlag("hasRemoteRatchetKey")
                ? try reader.readX25519PublicKey("remoteRatchetKey", suite: suite) : nil
            let sendingChain = try reader.readFlag("hasSendingChainKey")
                ? try reader.readSecret("sendingChainKey", count: 32) : nil
            let receivingChain = try reader.readFlag("hasReceivingChainKey")
                ? try reader.readSecret("receivingChainKey", count: 32) : nil
            let sendingNumber = try reader.readUInt32("sendingNumber")
            let previousSending = try reader.readUInt32("previousSendingCount")
            let receivingNumber = try reader.readUInt32("receivingNumber")
            let sequence = try reader.readUInt64("skippedSequence")
            let earlier = try reader.readList("earlierReceivingKeys", maximum: SessionLimits.rememberedReceivingChains) {
                try $0.readX25519PublicKey("earlierReceivingKey", suite: suite)
            }
            let entries = try reader.readList("skippedKeys", maximum: SessionLimits.maximumSkippedTotal) {
                reader -> (SkippedKeyID, SkippedKey) in
                let key = try reader.readFixed(SuiteSupport.publicKeyByteCount(suite), "skippedKey.ratchetKey")
                let number = try reader.readUInt32("skippedKey.messageNumber")
                let entrySequence = try reader.readUInt64("skippedKey.sequence")
                let messageKey = try reader.readSecret("skippedKey.messageKey", count: 32)
                return (SkippedKeyID(ratchetKey: key, messageNumber: number), SkippedKey(messageKey: messageKey, sequence: entrySequence))
            }
            var skipped: [SkippedKeyID: SkippedKey] = [:]
            var previousSequence: UInt64?
            for (id, key) in entries {
                // serialized() writes the keys by strictly increasing sequence below the next
                // sequence number; anything else would give one state several encodings.
                guard previousSequence.map({ key.sequence > $0 }) ?? true, key.sequence < sequence else {
                    throw SessionError.malformed(
                        structure: "SessionState", field: "skippedKeys", reason: "sequence \(key.sequence) is out of order")
                }
                previousSequence = key.sequence
                guard skipped.updateValue(key, forKey: id) == nil else {
                    throw SessionError.malformed(
                        structure: "SessionState", field: "skippedKeys", reason: "message \(id.messageNumber) is listed twice")
                }
            }
            var pending: PendingPreKey?
            if try reader.readFlag("hasPendingPreKey") {
                let signedID = try reader.readUInt32("pendingPreKey.signedPrekeyID")
                let oneTimeID = try reader.readFlag("pendingPreKey.hasOneTimePrekey")
                    ? try reader.readUInt32("pendingPreKey.oneTimePrekeyID") : nil
                pending = PendingPreKey(signedPrekeyID: signedID, oneTimePrekeyID: oneTimeID)
            }
            let (first, second) = initiator ? (local, remote) : (remote, local)
            return Session(
                suite: suite, localIdentityKey: local, remoteIdentityKey: remote, baseKey: base, isInitiator: initiator,
                associatedData: first.rawRepresentation + second.rawRepresentation, rootKey: root,
                sendingRatchetKey: sendingKey, remoteRatchetKey: remoteRatchet, sendingChainKey: sendingChain,
                receivingChainKey: receivingChain, sendingNumber: sendingNumber, previousSendingCount: previousSending,
                receivingNumber: receivingNumber, skipped: skipped, skippedSequence: sequence,
                earlierReceivingKeys: earlier, pendingPreKey: pending)
        }
    }
}
