import Foundation
import RatsboteWire

/// A 16-byte message id, random per message, that replies and receipts refer to.
public struct MessageID: Hashable, Sendable, CustomStringConvertible {
    /// The id's size in bytes.
    public static let byteCount = 16

    /// The id's bytes.
    public let bytes: [UInt8]

    /// Wraps 16 bytes.
    ///
    /// - Throws: ``SessionError/malformed(structure:field:reason:)`` for another length.
    public init(bytes: [UInt8]) throws {
        guard bytes.count == Self.byteCount else {
            throw SessionError.malformed(
                structure: "MessageID", field: "bytes", reason: "length \(bytes.count), expected \(Self.byteCount)")
        }
        self.bytes = bytes
    }

    public var description: String { bytes.map { String(format: "%02x", $0) }.joined() }

    static func read(_ reader: inout WireReader, _ field: String) throws -> MessageID {
        try MessageID(bytes: try reader.readFixed(byteCount, field))
    }
}

/// A note: the main kind of message, with a subject and a thread it belongs to.
public struct Note: Sendable, Equatable {
    /// The subject line (at most ``Content/maximumSubjectByteCount`` UTF-8 bytes).
    public var subject: String
    /// The text (at most ``Content/maximumBodyByteCount`` UTF-8 bytes).
    public var body: String
    /// The conversation thread; a new thread uses the note's own message id.
    public var threadID: MessageID

    /// Creates a note.
    public init(subject: String, body: String, threadID: MessageID) {
        self.subject = subject
        self.body = body
        self.threadID = threadID
    }
}

/// A reply to an earlier message in the same thread.
public struct Reply: Sendable, Equatable {
    /// The id of the message this reply refers to.
    public var inReplyTo: MessageID
    /// The thread of the message replied to.
    public var threadID: MessageID
    /// The text (at most ``Content/maximumBodyByteCount`` UTF-8 bytes).
    public var body: String

    /// Creates a reply.
    public init(inReplyTo: MessageID, threadID: MessageID, body: String) {
        self.inReplyTo = inReplyTo
        self.threadID = threadID
        self.body = body
    }
}

/// The typed content of a decrypted message: a kind number and that kind's body.
///
/// Extension rule: a new kind gets a new number and never changes the layout of an existing one.
/// A client that meets a kind it does not know keeps it as ``unknown(kind:body:)``, byte for
/// byte, and can store, forward or show a placeholder for it instead of failing.
public enum Content: Sendable, Equatable {
    /// Kind 1: a note with subject, body and thread id.
    case note(Note)
    /// Kind 2: a reply to an earlier message.
    case reply(Reply)
    /// Kind 3: the listed messages reached the recipient's device.
    case deliveryReceipt([MessageID])
    /// Kind 4: the recipient opened the listed messages.
    case readReceipt([MessageID])
    /// A kind this build does not know, kept as received.
    case unknown(kind: UInt16, body: [UInt8])

    /// The largest subject in UTF-8 bytes.
    public static let maximumSubjectByteCount = 1024
    /// The largest body in UTF-8 bytes; it leaves room for the other fields below the plaintext limit.
    public static let maximumBodyByteCount = 1_000_000
    /// The maximum number of message ids in one receipt.
    public static let maximumReceiptIDs = 1024

    /// The kind number on the wire.
    public var kind: UInt16 {
        switch self {
        case .note: return 1
        case .reply: return 2
        case .deliveryReceipt: return 3
        case .readReceipt: return 4
        case .unknown(let kind, _): return kind
        }
    }
}

/// One decrypted message: its id, the sender's timestamp, and the content.
public struct MessagePayload: Sendable, Equatable {
    /// The id receipts and replies refer to.
    public var messageID: MessageID
    /// Milliseconds since 1970 on the sender's clock, as the caller passed it in.
    public var sentAt: UInt64
    /// The content.
    public var content: Content

    /// Creates a payload.
    public init(messageID: MessageID, sentAt: UInt64, content: Content) {
        self.messageID = messageID
        self.sentAt = sentAt
        self.content = content
    }

    /// Encodes `messageID ‖ sentAt ‖ kind ‖ body` with the body length-prefixed.
    ///
    /// - Throws: ``SessionError/malformed(structure:field:reason:)`` when a field exceeds its maximum.
    public func encode() throws -> [UInt8] {
        var body = WireWriter(reservingCapacity: 256)
        switch content {
        case .note(let note):
            try Self.checkText(note.subject, "note.subject", Content.maximumSubjectByteCount)
            try Self.checkText(note.body, "note.body", Content.maximumBodyByteCount)
            body.writeString(note.subject)
            body.writeString(note.body)
            body.writeFixed(note.threadID.bytes)
        case .reply(let reply):
            try Self.checkText(reply.body, "reply.body", Content.maximumBodyByteCount)
            body.writeFixed(reply.inReplyTo.bytes)
            body.writeFixed(reply.threadID.bytes)
            body.writeString(reply.body)
        case .deliveryReceipt(let ids), .readReceipt(let ids):
            guard ids.count <= Content.maximumReceiptIDs else {
                throw SessionError.malformed(
                    structure: "MessagePayload", field: "receipt.messageIDs",
                    reason: "\(ids.count) ids exceed the maximum of \(Content.maximumReceiptIDs)")
            }
            body.writeList(ids) { w, id in w.writeFixed(id.bytes) }
        case .unknown(_, let bytes):
            body.writeFixed(bytes)
        }

        var writer = WireWriter(reservingCapacity: body.bytes.count + 40)
        writer.writeFixed(messageID.bytes)
        writer.writeUInt64(sentAt)
        writer.writeUInt16(content.kind)
        writer.writeVariable(body.bytes)
        return writer.bytes
    }

    /// Decodes a payload; unknown kinds become ``Content/unknown(kind:body:)``.
    ///
    /// - Throws: ``SessionError/malformed(structure:field:reason:)`` naming the field.
    public static func decode(_ bytes: [UInt8]) throws -> MessagePayload {
        try decodeSessionStructure(bytes, structure: "MessagePayload") { reader in
            let id = try MessageID.read(&reader, "messageID")
            let sentAt = try reader.readUInt64("sentAt")
            let kind = try reader.readUInt16("kind")
            let body = try reader.readVariable("body", maximum: SessionLimits.maximumPlaintextByteCount)
            let content = try decodeContent(kind: kind, body: body)
            return MessagePayload(messageID: id, sentAt: sentAt, content: content)
        }
    }

    private static func decodeContent(kind: UInt16, body: [UInt8]) throws -> Content {
        switch kind {
        case 1:
            return try decodeSessionStructure(body, structure: "Note") { reader in
                let subject = try reader.readString("subject", maximum: Content.maximumSubjectByteCount)
                let text = try reader.readString("body", maximum: Content.maximumBodyByteCount)
                let thread = try MessageID.read(&reader, "threadID")
                return .note(Note(subject: subject, body: text, threadID: thread))
            }
        case 2:
            return try decodeSessionStructure(body, structure: "Reply") { reader in
                let inReplyTo = try MessageID.read(&reader, "inReplyTo")
                let thread = try MessageID.read(&reader, "threadID")
                let text = try reader.readString("body", maximum: Content.maximumBodyByteCount)
                return .reply(Reply(inReplyTo: inReplyTo, threadID: thread, body: text))
            }
        case 3, 4:
            let ids = try decodeSessionStructure(body, structure: kind == 3 ? "DeliveryReceipt" : "ReadReceipt") { reader in
                try reader.readList("messageIDs", maximum: Content.maximumReceiptIDs) {
                    try MessageID.read(&$0, "messageID")
                }
            }
            return kind == 3 ? .deliveryReceipt(ids) : .readReceipt(ids)
        default:
            return .unknown(kind: kind, body: body)
        }
    }

    private static func checkText(_ text: String, _ field: String, _ maximum: Int) throws {
        let count = text.utf8.count
        guard count <= maximum else {
            throw SessionError.malformed(
                structure: "MessagePayload", field: field, reason: "length \(count) exceeds the maximum of \(maximum)")
        }
    }
}
