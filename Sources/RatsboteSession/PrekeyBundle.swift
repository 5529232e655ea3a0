import RatsboteCrypto

/// What a device publishes so that others can start a session with it while it is offline.
///
/// The signed prekey is signed by the identity key over ``signedPrekeyMessage(suite:id:publicKey:)``,
/// so the relay cannot substitute its own prekey. The one-time prekey is optional: the relay hands
/// each one out once, and when they run out X3DH proceeds with three DH outputs instead of four.
public struct PrekeyBundle: Sendable, Equatable {
    /// The algorithms of every key in the bundle.
    public let suite: CipherSuite
    /// The device's long-term Ed25519 identity key.
    public let identityKey: Ed25519PublicKey
    /// The id the device uses to find the signed prekey's private key.
    public let signedPrekeyID: UInt32
    /// The medium-term X25519 signed prekey.
    public let signedPrekey: X25519PublicKey
    /// The Ed25519 signature of the signed prekey (64 bytes).
    public let signedPrekeySignature: [UInt8]
    /// The id of the one-time prekey, when one is included.
    public let oneTimePrekeyID: UInt32?
    /// The one-time X25519 prekey, when one is included.
    public let oneTimePrekey: X25519PublicKey?

    /// Creates a bundle from its parts; the signature is checked when a session starts.
    public init(
        suite: CipherSuite = .current, identityKey: Ed25519PublicKey, signedPrekeyID: UInt32,
        signedPrekey: X25519PublicKey, signedPrekeySignature: [UInt8],
        oneTimePrekey: (id: UInt32, key: X25519PublicKey)? = nil
    ) {
        self.suite = suite
        self.identityKey = identityKey
        self.signedPrekeyID = signedPrekeyID
        self.signedPrekey = signedPrekey
        self.signedPrekeySignature = signedPrekeySignature
        self.oneTimePrekeyID = oneTimePrekey?.id
        self.oneTimePrekey = oneTimePrekey?.key
    }

    /// The bytes an identity key signs to vouch for a signed prekey.
    ///
    /// The context string keeps this signature from being valid for any other structure.
    public static func signedPrekeyMessage(suite: CipherSuite, id: UInt32, publicKey: X25519PublicKey) -> [UInt8] {
        var writer = SessionWriter(capacity: 64)
        writer.raw(Array("Ratsbote signed prekey v1".utf8))
        writer.u16(suite.rawValue)
        writer.u32(id)
        writer.opaque(publicKey.rawRepresentation)
        return writer.bytes
    }

    /// Signs a signed prekey with the device's identity key.
    public static func signPrekey(
        _ publicKey: X25519PublicKey, id: UInt32, suite: CipherSuite = .current, with identity: Ed25519SigningKey
    ) -> [UInt8] {
        identity.signature(for: signedPrekeyMessage(suite: suite, id: id, publicKey: publicKey))
    }

    /// Checks the signed prekey signature.
    ///
    /// - Throws: ``SessionError/invalidSignedPrekeySignature``.
    public func verifySignature() throws {
        let message = Self.signedPrekeyMessage(suite: suite, id: signedPrekeyID, publicKey: signedPrekey)
        guard identityKey.isValidSignature(signedPrekeySignature, for: message) else {
            throw SessionError.invalidSignedPrekeySignature
        }
    }

    /// Encodes the bundle in the layout of `protocol/session.md`.
    public func encode() -> [UInt8] {
        var writer = SessionWriter(capacity: 192)
        writer.u16(suite.rawValue)
        writer.opaque(identityKey.rawRepresentation)
        writer.u32(signedPrekeyID)
        writer.opaque(signedPrekey.rawRepresentation)
        writer.opaque(signedPrekeySignature)
        if let oneTimePrekeyID, let oneTimePrekey {
            writer.u8(1)
            writer.u32(oneTimePrekeyID)
            writer.opaque(oneTimePrekey.rawRepresentation)
        } else {
            writer.u8(0)
        }
        return writer.bytes
    }

    /// Decodes a bundle; the signature is not checked here.
    ///
    /// - Throws: ``SessionError/malformed(structure:field:reason:)`` naming the field, or
    ///   ``SessionError/unsupportedSuite(_:)``.
    public static func decode(_ bytes: [UInt8]) throws -> PrekeyBundle {
        var reader = SessionReader(bytes, structure: "PrekeyBundle")
        let suite = try CipherSuite.decode(try reader.u16("suite"))
        let identity = try Ed25519PublicKey(
            rawRepresentation: try reader.fixedOpaque("identityKey", count: Ed25519PublicKey.byteCount))
        let signedID = try reader.u32("signedPrekeyID")
        let signed = try X25519PublicKey(
            rawRepresentation: try reader.fixedOpaque("signedPrekey", count: suite.publicKeyByteCount))
        let signature = try reader.fixedOpaque("signedPrekeySignature", count: Ed25519PublicKey.signatureByteCount)
        var oneTime: (UInt32, X25519PublicKey)?
        if try reader.bool("hasOneTimePrekey") {
            let id = try reader.u32("oneTimePrekeyID")
            let key = try X25519PublicKey(
                rawRepresentation: try reader.fixedOpaque("oneTimePrekey", count: suite.publicKeyByteCount))
            oneTime = (id, key)
        }
        try reader.finish()
        return PrekeyBundle(
            suite: suite, identityKey: identity, signedPrekeyID: signedID, signedPrekey: signed,
            signedPrekeySignature: signature, oneTimePrekey: oneTime)
    }
}
