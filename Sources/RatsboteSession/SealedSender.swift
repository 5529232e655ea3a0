import RatsboteCrypto
import RatsboteWire

/// The content of a sealed envelope: the claimed sender and the session message.
///
/// The relay stores only the recipient mailbox and the sealed bytes. The sender's address,
/// identity key and certificate are inside, so only the recipient learns them.
///
/// - Note: the claim alone proves nothing, because anyone can seal to an envelope key. It counts
///   only after ``Session/decrypt(sealed:using:)`` opens the message in a session whose remote
///   identity key equals ``senderIdentityKey``; the client must also check that ``certificate``
///   certifies that identity key.
public struct SealedSenderContent: Sendable, Equatable {
    /// The version byte of this layout.
    static let version: UInt8 = 1
    /// The largest certificate, in bytes.
    public static let maximumCertificateByteCount = 8192

    /// The sender device's address.
    public let sender: DeviceAddress
    /// The sender device's Ed25519 identity key.
    public let senderIdentityKey: Ed25519PublicKey
    /// The organisation's certificate for the sender, in its wire encoding.
    public let certificate: [UInt8]
    /// The session message.
    public let message: SessionMessage

    /// Creates the content of an envelope.
    public init(sender: DeviceAddress, senderIdentityKey: Ed25519PublicKey, certificate: [UInt8], message: SessionMessage) {
        self.sender = sender
        self.senderIdentityKey = senderIdentityKey
        self.certificate = certificate
        self.message = message
    }

    /// Encodes the content before sealing.
    public func encode() -> [UInt8] {
        let inner = message.encode()
        var writer = WireWriter(reservingCapacity: inner.count + certificate.count + 128)
        writer.writeUInt8(Self.version)
        writer.writeString(sender.userId)
        writer.writeUInt32(sender.deviceId)
        writer.writeFixed(senderIdentityKey.rawRepresentation)
        writer.writeVariable(certificate)
        writer.writeVariable(inner)
        return writer.bytes
    }

    /// Decodes unsealed content.
    ///
    /// - Throws: ``SessionError/malformed(structure:field:reason:)`` naming the field.
    public static func decode(_ bytes: [UInt8]) throws -> SealedSenderContent {
        try decodeSessionStructure(bytes, structure: "SealedSenderContent") { reader in
            let version = try reader.readUInt8("version")
            guard version == Self.version else {
                throw SessionError.malformed(
                    structure: "SealedSenderContent", field: "version", reason: "unsupported version \(version)")
            }
            let user = try reader.readString("sender.userId", maximum: WireLimits.userId)
            guard !user.isEmpty else {
                throw SessionError.malformed(structure: "SealedSenderContent", field: "sender.userId", reason: "empty")
            }
            let device = try reader.readUInt32("sender.deviceId")
            let identity = try reader.readEd25519PublicKey("senderIdentityKey")
            let certificate = try reader.readVariable("certificate", maximum: maximumCertificateByteCount)
            let inner = try reader.readVariable("message", maximum: SessionLimits.maximumCiphertextByteCount + 256)
            return SealedSenderContent(
                sender: DeviceAddress(userId: user, deviceId: device), senderIdentityKey: identity,
                certificate: certificate, message: try SessionMessage.decode(inner))
        }
    }
}

/// Sealing and opening of envelope contents with `crypto_box_seal` to the recipient's envelope key.
public enum SealedSender {
    /// Seals `content` to the recipient device's X25519 envelope key.
    public static func seal(_ content: SealedSenderContent, to envelopeKey: X25519PublicKey) -> [UInt8] {
        SealedBox.seal(content.encode(), to: envelopeKey)
    }

    /// Opens sealed bytes with the device's envelope key pair.
    ///
    /// - Returns: the unverified content; see ``SealedSenderContent`` for when the sender counts as proven.
    /// - Throws: ``SessionError/authenticationFailure`` when the box does not open,
    ///   ``SessionError/malformed(structure:field:reason:)`` when its content does not decode.
    public static func open(_ sealed: [UInt8], with envelopeKey: X25519PrivateKey) throws -> SealedSenderContent {
        let plaintext: [UInt8]
        do {
            plaintext = try SealedBox.open(sealed, with: envelopeKey)
        } catch {
            throw SessionError.authenticationFailure
        }
        return try SealedSenderContent.decode(plaintext)
    }
}

extension Session {
    /// Decrypts the message of an opened envelope after checking that its claimed sender is this session's peer.
    ///
    /// A successful return proves that the holder of ``remoteIdentityKey`` wrote the message,
    /// because X3DH bound the session to that key and both identity keys are AEAD associated data.
    ///
    /// - Throws: ``SessionError/senderMismatch`` when the claimed identity key is not the
    ///   session's, and every error of ``decrypt(_:using:)``. The session is unchanged after any error.
    public mutating func decrypt(sealed content: SealedSenderContent, using keySource: inout some KeyPairSource) throws -> [UInt8] {
        guard content.senderIdentityKey == remoteIdentityKey else { throw SessionError.senderMismatch }
        return try decrypt(content.message, using: &keySource)
    }
}
