import RatsboteCrypto
import RatsboteWire

/// The public keys a device publishes so that others can start a session with it while it is offline.
///
/// The signed prekey is signed by the identity key over ``signedPrekeyMessage(suite:id:publicKey:)``,
/// so the relay cannot substitute its own prekey. The one-time prekey is optional: the relay hands
/// each one out once, and when they run out X3DH proceeds with three DH outputs instead of four.
public struct PrekeyBundle: Sendable, Equatable {
    /// The algorithms of every key in the bundle.
    public let suite: Suite
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
        suite: Suite = .classic, identityKey: Ed25519PublicKey, signedPrekeyID: UInt32,
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

    /// Builds the bytes an identity key signs to vouch for a signed prekey.
    ///
    /// The context string keeps this signature from being valid for any other structure.
    public static func signedPrekeyMessage(suite: Suite, id: UInt32, publicKey: X25519PublicKey) -> [UInt8] {
        SignedPrekey.signedBytes(suite: suite, id: id, publicKey: publicKey.rawRepresentation)
    }

    /// Signs a signed prekey with the device's identity key.
    public static func signPrekey(
        _ publicKey: X25519PublicKey, id: UInt32, suite: Suite = .classic, with identity: Ed25519SigningKey
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
        var writer = WireWriter(reservingCapacity: 192)
        writer.writeUInt16(suite.rawValue)
        writer.writeFixed(identityKey.rawRepresentation)
        writer.writeUInt32(signedPrekeyID)
        writer.writeFixed(signedPrekey.rawRepresentation)
        writer.writeFixed(signedPrekeySignature)
        if let oneTimePrekeyID, let oneTimePrekey {
            writer.writeFlag(true)
            writer.writeUInt32(oneTimePrekeyID)
            writer.writeFixed(oneTimePrekey.rawRepresentation)
        } else {
            writer.writeFlag(false)
        }
        return writer.bytes
    }

    /// Decodes a bundle; the signature is not checked here.
    ///
    /// - Throws: ``SessionError/malformed(structure:field:reason:)`` naming the field, or
    ///   ``SessionError/unsupportedSuite(_:)``.
    public static func decode(_ bytes: [UInt8]) throws -> PrekeyBundle {
        try decodeSessionStructure(bytes, structure: "PrekeyBundle") { reader in
            let suite = try reader.readSuite()
            let identity = try reader.readEd25519PublicKey("identityKey")
            let signedID = try reader.readUInt32("signedPrekeyID")
            let signed = try reader.readX25519PublicKey("signedPrekey", suite: suite)
            let signature = try reader.readFixed(Ed25519PublicKey.signatureByteCount, "signedPrekeySignature")
            var oneTime: (UInt32, X25519PublicKey)?
            if try reader.readFlag("hasOneTimePrekey") {
                let id = try reader.readUInt32("oneTimePrekeyID")
                oneTime = (id, try reader.readX25519PublicKey("oneTimePrekey", suite: suite))
            }
            return PrekeyBundle(
                suite: suite, identityKey: identity, signedPrekeyID: signedID, signedPrekey: signed,
                signedPrekeySignature: signature, oneTimePrekey: oneTime)
        }
    }

    /// Converts the relay's directory form of a bundle.
    ///
    /// - Throws: ``SessionError/malformed(structure:field:reason:)`` when the bundle has no signed
    ///   prekey, ``SessionError/unsupportedSuite(_:)``, or a key error for a wrong-size key.
    public init(_ wire: DevicePrekeyBundle) throws {
        guard let signed = wire.signedPrekey else {
            throw SessionError.malformed(
                structure: "DevicePrekeyBundle", field: "signedPrekey", reason: "missing; the device must upload one")
        }
        let suite = try SuiteSupport.check(wire.device.suite.rawValue)
        do {
            var oneTime: (UInt32, X25519PublicKey)?
            if let key = wire.oneTimePrekey {
                oneTime = (key.id, try X25519PublicKey(rawRepresentation: key.publicKey))
            }
            self.init(
                suite: suite, identityKey: try Ed25519PublicKey(rawRepresentation: wire.device.identityKey),
                signedPrekeyID: signed.id, signedPrekey: try X25519PublicKey(rawRepresentation: signed.publicKey),
                signedPrekeySignature: signed.signature, oneTimePrekey: oneTime)
        } catch {
            throw SessionError.invalidKey(field: "DevicePrekeyBundle")
        }
    }
}
