import RatsboteCrypto
import RatsboteWire

/// The cleartext header of a Double Ratchet message; it is authenticated as associated data.
public struct MessageHeader: Sendable, Equatable {
    /// The algorithms of the ratchet key and the ciphertext.
    public let suite: Suite
    /// The sender's current ratchet public key.
    public let ratchetKey: X25519PublicKey
    /// The number of messages in the sender's previous sending chain (`PN`).
    public let previousChainLength: UInt32
    /// The message number in the current sending chain (`N`).
    public let messageNumber: UInt32

    /// Creates a header.
    public init(suite: Suite, ratchetKey: X25519PublicKey, previousChainLength: UInt32, messageNumber: UInt32) {
        self.suite = suite
        self.ratchetKey = ratchetKey
        self.previousChainLength = previousChainLength
        self.messageNumber = messageNumber
    }

    /// The size of an encoded suite-1 header: suite, ratchet key and two counters.
    static let maximumEncodedByteCount = 2 + 32 + 4 + 4

    func encode(into writer: inout WireWriter) {
        writer.writeUInt16(suite.rawValue)
        writer.writeFixed(ratchetKey.rawRepresentation)
        writer.writeUInt32(previousChainLength)
        writer.writeUInt32(messageNumber)
    }

    /// Writes the same bytes as the `WireWriter` form of `encode(into:)` into raw memory of at least
    /// ``maximumEncodedByteCount`` bytes, without allocating, and returns how many it wrote.
    func encode(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let key = ratchetKey.rawRepresentation
        precondition(buffer.count >= 2 + key.count + 8, "header buffer too small for the ratchet key")
        buffer.storeBytes(of: suite.rawValue.bigEndian, toByteOffset: 0, as: UInt16.self)
        key.withUnsafeBytes { buffer.baseAddress!.advanced(by: 2).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        buffer.storeBytes(of: previousChainLength.bigEndian, toByteOffset: 2 + key.count, as: UInt32.self)
        buffer.storeBytes(of: messageNumber.bigEndian, toByteOffset: 2 + key.count + 4, as: UInt32.self)
        return 2 + key.count + 8
    }

    static func decode(from reader: inout WireReader) throws -> MessageHeader {
        let suite = try reader.readSuite()
        let key = try reader.readX25519PublicKey("ratchetKey", suite: suite)
        let previous = try reader.readUInt32("previousChainLength")
        let number = try reader.readUInt32("messageNumber")
        return MessageHeader(suite: suite, ratchetKey: key, previousChainLength: previous, messageNumber: number)
    }
}

/// A Double Ratchet message: header and XChaCha20-Poly1305 ciphertext with its tag.
public struct RatchetMessage: Sendable, Equatable {
    /// The authenticated cleartext header.
    public let header: MessageHeader
    /// The ciphertext followed by the 16-byte tag.
    public let ciphertext: [UInt8]

    /// Creates a message from its parts.
    public init(header: MessageHeader, ciphertext: [UInt8]) {
        self.header = header
        self.ciphertext = ciphertext
    }

    func encode(into writer: inout WireWriter) {
        header.encode(into: &writer)
        writer.writeVariable(ciphertext)
    }

    static func decode(from reader: inout WireReader) throws -> RatchetMessage {
        let header = try MessageHeader.decode(from: &reader)
        let ciphertext = try reader.readVariable("ciphertext", maximum: SessionLimits.maximumCiphertextByteCount)
        guard ciphertext.count >= XChaCha20Poly1305.tagByteCount else {
            throw SessionError.malformed(
                structure: reader.structure, field: "ciphertext",
                reason: "length \(ciphertext.count) is shorter than the 16-byte tag")
        }
        return RatchetMessage(header: header, ciphertext: ciphertext)
    }
}

/// The first messages of a session: the X3DH fields the responder needs, then a ratchet message.
///
/// The initiator sends every message as a PreKey message until it has received a reply, so the
/// responder can build the session from whichever of them arrives first.
public struct PreKeyMessage: Sendable, Equatable {
    /// The suite of X3DH and of the inner message.
    public let suite: Suite
    /// The initiator's Ed25519 identity key.
    public let identityKey: Ed25519PublicKey
    /// The initiator's X3DH ephemeral public key; it also identifies the session on both sides.
    public let baseKey: X25519PublicKey
    /// The id of the responder's signed prekey that was used.
    public let signedPrekeyID: UInt32
    /// The id of the responder's one-time prekey that was used, if any.
    public let oneTimePrekeyID: UInt32?
    /// The first ratchet message.
    public let message: RatchetMessage

    /// Creates a PreKey message from its parts.
    public init(
        suite: Suite, identityKey: Ed25519PublicKey, baseKey: X25519PublicKey, signedPrekeyID: UInt32,
        oneTimePrekeyID: UInt32?, message: RatchetMessage
    ) {
        self.suite = suite
        self.identityKey = identityKey
        self.baseKey = baseKey
        self.signedPrekeyID = signedPrekeyID
        self.oneTimePrekeyID = oneTimePrekeyID
        self.message = message
    }
}

/// A message of the session layer as it travels inside a sealed envelope.
public enum SessionMessage: Sendable, Equatable {
    /// A message in an established session (type byte 1).
    case ratchet(RatchetMessage)
    /// A message that also carries the X3DH fields (type byte 2).
    case preKey(PreKeyMessage)

    /// The type byte of a ratchet message.
    static let ratchetType: UInt8 = 1
    /// The type byte of a PreKey message.
    static let preKeyType: UInt8 = 2

    /// The ratchet message, whether or not it is wrapped in a PreKey message.
    public var ratchetMessage: RatchetMessage {
        switch self {
        case .ratchet(let message): return message
        case .preKey(let message): return message.message
        }
    }

    /// Encodes the message in the layout of `protocol/session.md`.
    public func encode() -> [UInt8] {
        var writer = WireWriter(reservingCapacity: ratchetMessage.ciphertext.count + 160)
        switch self {
        case .ratchet(let message):
            writer.writeUInt8(Self.ratchetType)
            message.encode(into: &writer)
        case .preKey(let message):
            writer.writeUInt8(Self.preKeyType)
            writer.writeUInt16(message.suite.rawValue)
            writer.writeFixed(message.identityKey.rawRepresentation)
            writer.writeFixed(message.baseKey.rawRepresentation)
            writer.writeUInt32(message.signedPrekeyID)
            writer.writeFlag(message.oneTimePrekeyID != nil)
            if let id = message.oneTimePrekeyID { writer.writeUInt32(id) }
            message.message.encode(into: &writer)
        }
        return writer.bytes
    }

    /// Decodes a message.
    ///
    /// - Throws: ``SessionError/malformed(structure:field:reason:)`` naming the field (truncated,
    ///   trailing bytes, non-minimal varint, over-long or wrong-size field, unknown type), or
    ///   ``SessionError/unsupportedSuite(_:)``.
    public static func decode(_ bytes: [UInt8]) throws -> SessionMessage {
        try decodeSessionStructure(bytes, structure: "SessionMessage") { reader in
            let type = try reader.readUInt8("type")
            switch type {
            case ratchetType:
                return .ratchet(try RatchetMessage.decode(from: &reader))
            case preKeyType:
                let suite = try reader.readSuite()
                let identity = try reader.readEd25519PublicKey("identityKey")
                let base = try reader.readX25519PublicKey("baseKey", suite: suite)
                let signedID = try reader.readUInt32("signedPrekeyID")
                let oneTimeID: UInt32? = try reader.readFlag("hasOneTimePrekey") ? try reader.readUInt32("oneTimePrekeyID") : nil
                let inner = try RatchetMessage.decode(from: &reader)
                guard inner.header.suite == suite else {
                    throw SessionError.malformed(
                        structure: "SessionMessage", field: "suite",
                        reason: "PreKey suite \(suite.rawValue) differs from header suite \(inner.header.suite.rawValue)")
                }
                return .preKey(
                    PreKeyMessage(
                        suite: suite, identityKey: identity, baseKey: base, signedPrekeyID: signedID,
                        oneTimePrekeyID: oneTimeID, message: inner))
            default:
                throw SessionError.malformed(
                    structure: "SessionMessage", field: "type",
                    reason: "unknown message type \(type), expected 1 (ratchet) or 2 (PreKey)")
            }
        }
    }
}
