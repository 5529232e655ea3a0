import RatsboteCrypto
import RatsboteWire

/// The X3DH key agreement that starts a session, following Signal's X3DH specification with
/// Ed25519 identity keys converted to X25519 for the DH steps.
public enum X3DH {
    /// Starts a session with the owner of `bundle`.
    ///
    /// The signature on the signed prekey is checked before any DH is computed. The returned
    /// session sends PreKey messages until the first reply arrives.
    ///
    /// - Parameters:
    ///   - localIdentity: this device's identity key.
    ///   - bundle: the peer's prekey bundle, as fetched from the relay.
    ///   - keySource: supplies the X3DH ephemeral key and the first ratchet key.
    /// - Throws: ``SessionError/invalidSignedPrekeySignature``, ``SessionError/invalidKey(field:)``
    ///   for a key that is not a valid point or has low order.
    public static func initiate(
        localIdentity: Ed25519SigningKey, bundle: PrekeyBundle, using keySource: inout some KeyPairSource
    ) throws -> Session {
        try bundle.verifySignature()

        let localDH = try convert { try localIdentity.x25519PrivateKey() }
        let remoteDH = try convert(field: "PrekeyBundle.identityKey") { try bundle.identityKey.x25519PublicKey() }
        let ephemeral = keySource.nextKeyPair()

        var outputs = [
            try agree(localDH, bundle.signedPrekey, field: "PrekeyBundle.signedPrekey"),
            try agree(ephemeral, remoteDH, field: "PrekeyBundle.identityKey"),
            try agree(ephemeral, bundle.signedPrekey, field: "PrekeyBundle.signedPrekey"),
        ]
        if let oneTime = bundle.oneTimePrekey {
            outputs.append(try agree(ephemeral, oneTime, field: "PrekeyBundle.oneTimePrekey"))
        }
        let sharedSecret = try KeyDerivation.x3dhSecret(dhOutputs: outputs)

        let ratchetKey = keySource.nextKeyPair()
        let firstSecret = try agree(ratchetKey, bundle.signedPrekey, field: "PrekeyBundle.signedPrekey")
        let (rootKey, sendingChain) = try KeyDerivation.rootStep(rootKey: sharedSecret, dhOutput: firstSecret)

        return Session(
            suite: bundle.suite, localIdentityKey: localIdentity.publicKey, remoteIdentityKey: bundle.identityKey,
            baseKey: ephemeral.publicKey, isInitiator: true,
            associatedData: localIdentity.publicKey.rawRepresentation + bundle.identityKey.rawRepresentation,
            rootKey: rootKey, sendingRatchetKey: ratchetKey, remoteRatchetKey: bundle.signedPrekey,
            sendingChainKey: sendingChain, receivingChainKey: nil, sendingNumber: 0, previousSendingCount: 0,
            receivingNumber: 0, skipped: [:], skippedSequence: 0, earlierReceivingKeys: [],
            pendingPreKey: Session.PendingPreKey(
                signedPrekeyID: bundle.signedPrekeyID, oneTimePrekeyID: bundle.oneTimePrekeyID))
    }

    /// Starts a session with the system's CSPRNG as key source.
    public static func initiate(localIdentity: Ed25519SigningKey, bundle: PrekeyBundle) throws -> Session {
        var source = SystemKeyPairSource()
        return try initiate(localIdentity: localIdentity, bundle: bundle, using: &source)
    }

    /// Builds the responder's session from a PreKey message and decrypts its ratchet message.
    ///
    /// The session exists only if the first message authenticates, so a forged PreKey message
    /// creates nothing. The caller looks up the prekeys by the ids in `message` and deletes the
    /// one-time prekey after this call succeeds.
    ///
    /// - Parameters:
    ///   - localIdentity: this device's identity key.
    ///   - signedPrekey: the private key of the signed prekey named by `message.signedPrekeyID`.
    ///   - oneTimePrekey: the private key named by `message.oneTimePrekeyID`, or `nil` if it names none.
    ///   - message: the received PreKey message.
    ///   - keySource: supplies the responder's first sending ratchet key.
    /// - Returns: the session and the first plaintext.
    /// - Throws: ``SessionError/unknownPrekey(kind:id:)`` when the message names a one-time prekey
    ///   and none is given, ``SessionError/authenticationFailure``, ``SessionError/invalidKey(field:)``.
    public static func respond(
        localIdentity: Ed25519SigningKey, signedPrekey: X25519PrivateKey, oneTimePrekey: X25519PrivateKey?,
        message: PreKeyMessage, using keySource: inout some KeyPairSource
    ) throws -> (session: Session, plaintext: [UInt8]) {
        if let id = message.oneTimePrekeyID, oneTimePrekey == nil {
            throw SessionError.unknownPrekey(kind: "one-time", id: id)
        }
        if message.oneTimePrekeyID == nil, oneTimePrekey != nil {
            throw SessionError.malformed(
                structure: "PreKeyMessage", field: "oneTimePrekeyID",
                reason: "a one-time prekey was supplied but the message names none")
        }

        let localDH = try convert { try localIdentity.x25519PrivateKey() }
        let remoteDH = try convert(field: "PreKeyMessage.identityKey") { try message.identityKey.x25519PublicKey() }

        var outputs = [
            try agree(signedPrekey, remoteDH, field: "PreKeyMessage.identityKey"),
            try agree(localDH, message.baseKey, field: "PreKeyMessage.baseKey"),
            try agree(signedPrekey, message.baseKey, field: "PreKeyMessage.baseKey"),
        ]
        if let oneTimePrekey {
            outputs.append(try agree(oneTimePrekey, message.baseKey, field: "PreKeyMessage.baseKey"))
        }
        let sharedSecret = try KeyDerivation.x3dhSecret(dhOutputs: outputs)

        var session = Session(
            suite: message.suite, localIdentityKey: localIdentity.publicKey, remoteIdentityKey: message.identityKey,
            baseKey: message.baseKey, isInitiator: false,
            associatedData: message.identityKey.rawRepresentation + localIdentity.publicKey.rawRepresentation,
            rootKey: sharedSecret, sendingRatchetKey: signedPrekey, remoteRatchetKey: nil,
            sendingChainKey: nil, receivingChainKey: nil, sendingNumber: 0, previousSendingCount: 0,
            receivingNumber: 0, skipped: [:], skippedSequence: 0, earlierReceivingKeys: [], pendingPreKey: nil)
        let plaintext = try session.decrypt(.preKey(message), using: &keySource)
        return (session, plaintext)
    }

    /// Responds with the system's CSPRNG as key source.
    public static func respond(
        localIdentity: Ed25519SigningKey, signedPrekey: X25519PrivateKey, oneTimePrekey: X25519PrivateKey?,
        message: PreKeyMessage
    ) throws -> (session: Session, plaintext: [UInt8]) {
        var source = SystemKeyPairSource()
        return try respond(
            localIdentity: localIdentity, signedPrekey: signedPrekey, oneTimePrekey: oneTimePrekey, message: message,
            using: &source)
    }

    private static func agree(_ privateKey: X25519PrivateKey, _ publicKey: X25519PublicKey, field: String) throws -> SecureBytes {
        do {
            return try privateKey.sharedSecret(with: publicKey, storage: .wiped)
        } catch {
            throw SessionError.invalidKey(field: field)
        }
    }

    private static func convert<T>(field: String = "local identity key", _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw SessionError.invalidKey(field: field)
        }
    }
}
