import Foundation
import RatsboteCrypto
import RatsboteWire

/// The first envelope format: content signed by the sender's identity key and sealed to the
/// recipient device's envelope key with `crypto_box_seal`.
///
/// The relay sees only the recipient mailbox and the sealed bytes. Inside the seal are the sender
/// address and identity key, the recipient address, the time and the content, signed together
/// so that the content cannot be moved to another recipient or claimed by another sender.
///
/// - Note: this format has no forward secrecy: whoever later obtains a device's envelope key can
///   open every envelope sealed to it that was recorded. X3DH and the Double Ratchet replace it;
///   protocol/envelope.md marks it as format 0.
struct SignedEnvelope: Hashable, Sendable, WireCodable {
    static let wireName = "SignedEnvelope"
    static let format: UInt8 = 0
    static let signatureContext = Array("ratsbote envelope v0".utf8)

    var sender: DeviceAddress
    var senderIdentityKey: [UInt8]
    var recipient: DeviceAddress
    var sentAt: UInt64
    var content: [UInt8]
    var signature: [UInt8]

    func signedPart() -> [UInt8] {
        var writer = WireWriter(reservingCapacity: content.count + 128)
        writer.writeUInt8(Self.format)
        writer.writeString(sender.userId)
        writer.writeUInt32(sender.deviceId)
        writer.writeFixed(senderIdentityKey)
        writer.writeString(recipient.userId)
        writer.writeUInt32(recipient.deviceId)
        writer.writeUInt64(sentAt)
        writer.writeVariable(content)
        return writer.bytes
    }

    func encode(to writer: inout WireWriter) {
        writer.writeFixed(signedPart())
        writer.writeFixed(signature)
    }

    init(sender: DeviceAddress, senderIdentityKey: [UInt8], recipient: DeviceAddress, sentAt: UInt64, content: [UInt8], signature: [UInt8]) {
        self.sender = sender
        self.senderIdentityKey = senderIdentityKey
        self.recipient = recipient
        self.sentAt = sentAt
        self.content = content
        self.signature = signature
    }

    init(from reader: inout WireReader) throws {
        let format = try reader.readUInt8("format")
        guard format == Self.format else { throw WireError.unsupportedVersion(structure: Self.wireName, version: Int(format)) }
        sender = DeviceAddress(
            userId: try reader.readString("sender.userId", maximum: WireLimits.userId), deviceId: try reader.readUInt32("sender.deviceId"))
        senderIdentityKey = try reader.readFixed(32, "senderIdentityKey")
        recipient = DeviceAddress(
            userId: try reader.readString("recipient.userId", maximum: WireLimits.userId), deviceId: try reader.readUInt32("recipient.deviceId"))
        sentAt = try reader.readUInt64("sentAt")
        content = try reader.readVariable("content", maximum: WireLimits.envelope)
        signature = try reader.readFixed(64, "signature")
    }

    /// Signs `content` and seals it to the recipient device.
    static func seal(
        content: [UInt8], from sender: DeviceAddress, identity: Ed25519SigningKey, to recipient: DeviceAddress,
        recipientEnvelopeKey: X25519PublicKey, sentAt: UInt64
    ) -> [UInt8] {
        var envelope = SignedEnvelope(
            sender: sender, senderIdentityKey: identity.publicKey.rawRepresentation, recipient: recipient, sentAt: sentAt,
            content: content, signature: [])
        envelope.signature = identity.signature(for: signatureContext + envelope.signedPart())
        return SealedBox.seal(envelope.encoded(), to: recipientEnvelopeKey)
    }

    /// Opens a sealed envelope, checks that it was meant for `recipient`, and checks the signature
    /// with the identity key it carries. The caller still checks that key against the directory.
    static func open(_ sealed: [UInt8], with envelopeKey: X25519PrivateKey, as recipient: DeviceAddress) throws -> SignedEnvelope {
        let inner = try SealedBox.open(sealed, with: envelopeKey)
        let envelope = try SignedEnvelope.decode(inner)
        guard envelope.recipient == recipient else {
            throw ClientError.protocolViolation("envelope addressed to \(envelope.recipient), not to this device")
        }
        let key = try Ed25519PublicKey(rawRepresentation: envelope.senderIdentityKey)
        try key.verify(envelope.signature, for: signatureContext + envelope.signedPart())
        return envelope
    }
}
