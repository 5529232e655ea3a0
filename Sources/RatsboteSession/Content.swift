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

/// A document that travels with a message: what decrypts it and checks it, and where its
/// ciphertext is.
///
/// The ciphertext is the file encrypted with `crypto_secretstream_xchacha20poly1305` under
/// ``key`` in 64 KiB chunks, starting with ``header``. It either follows inline (``blobID`` all
/// zeros, bytes in ``inlineCiphertext``) or sits on the relay as a blob named by ``blobID``.
/// The key is ordinary memory here because the whole decrypted payload is; the client stores
/// payloads only encrypted.
public struct DocumentReference: Sendable, Equatable {
    /// The largest file name in UTF-8 bytes.
    public static let maximumFileNameByteCount = 255
    /// The largest media type in UTF-8 bytes.
    public static let maximumMediaTypeByteCount = 127
    /// The blob id that means "inline".
    public static let inlineBlobID = [UInt8](repeating: 0, count: 16)

    public var fileName: String
    public var mediaType: String
    /// The plaintext size in bytes.
    public var size: UInt64
    /// The secretstream key (32 bytes).
    public var key: [UInt8]
    /// The secretstream header (24 bytes).
    public var header: [UInt8]
    /// BLAKE2b-256 of the whole ciphertext.
    public var ciphertextHash: [UInt8]
    /// The relay blob id, or ``inlineBlobID``.
    public var blobID: [UInt8]
    /// The ciphertext when it travels inline, otherwise empty.
    public var inlineCiphertext: [UInt8]

    public init(
        fileName: String, mediaType: String, size: UInt64, key: [UInt8], header: [UInt8], ciphertextHash: [UInt8],
        blobID: [UInt8] = DocumentReference.inlineBlobID, inlineCiphertext: [UInt8] = []
    ) {
        self.fileName = fileName
        self.mediaType = mediaType
        self.size = size
        self.key = key
        self.header = header
        self.ciphertextHash = ciphertextHash
        self.blobID = blobID
        self.inlineCiphertext = inlineCiphertext
    }

    /// Whether the ciphertext travels inside the message.
    public var isInline: Bool { blobID == Self.inlineBlobID }
}

/// A note or reply that carries documents (kind 5).
public struct DocumentNote: Sendable, Equatable {
    /// The largest number of documents in one message.
    public static let maximumDocuments = 16

    public var threadID: MessageID
    /// The message answered, if this is a reply.
    public var inReplyTo: MessageID?
    public var subject: String
    public var body: String
    public var documents: [DocumentReference]

    public init(threadID: MessageID, inReplyTo: MessageID?, subject: String, body: String, documents: [DocumentReference]) {
        self.threadID = threadID
        self.inReplyTo = inReplyTo
        self.subject = subject
        self.body = body
        self.documents = documents
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
    /// Kind 5: a note or reply with documents.
    case documentNote(DocumentNote)
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
        case .documentNote: return 5
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
        case .documentNote(let note):
            try Self.checkText(note.subject, "documentNote.subject", Content.maximumSubjectByteCount)
            try Self.checkText(note.body, "documentNote.body", Content.maximumBodyByteCount)
            guard note.documents.count <= DocumentNote.maximumDocuments else {
                throw SessionError.malformed(
                    structure: "MessagePayload", field: "documentNote.documents",
                    reason: "\(note.documents.count) documents exceed the maximum of \(DocumentNote.maximumDocuments)")
            }
            body.writeFixed(note.threadID.bytes)
            body.writeFlag(note.inReplyTo != nil)
            if let inReplyTo = note.inReplyTo { body.writeFixed(inReplyTo.bytes) }
            body.writeString(note.subject)
            body.writeString(note.body)
            for document in note.documents {
                try Self.checkText(document.fileName, "document.fileName", DocumentReference.maximumFileNameByteCount)
                try Self.checkText(document.mediaType, "document.mediaType", DocumentReference.maximumMediaTypeByteCount)
                guard document.key.count == 32, document.header.count == 24, document.ciphertextHash.count == 32,
                    document.blobID.count == 16
                else {
                    throw SessionError.malformed(structure: "MessagePayload", field: "document", reason: "a key, header, hash or blob id has the wrong size")
                }
            }
            body.writeList(note.documents) { w, document in
                w.writeString(document.fileName)
                w.writeString(document.mediaType)
                w.writeUInt64(document.size)
                w.writeFixed(document.key)
                w.writeFixed(document.header)
                w.writeFixed(document.ciphertextHash)
                w.writeFixed(document.blobID)
                w.writeVariable(document.inlineCiphertext)
            }
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
        case 5:
            return try decodeSessionStructure(body, structure: "DocumentNote") { reader in
                let thread = try MessageID.read(&reader, "threadID")
                let inReplyTo = try reader.readFlag("hasInReplyTo") ? try MessageID.read(&reader, "inReplyTo") : nil
                let subject = try reader.readString("subject", maximum: Content.maximumSubjectByteCount)
                let text = try reader.readString("body", maximum: Content.maximumBodyByteCount)
                let documents = try reader.readList("documents", maximum: DocumentNote.maximumDocuments) { r in
                    DocumentReference(
                        fileName: try r.readString("document.fileName", maximum: DocumentReference.maximumFileNameByteCount),
                        mediaType: try r.readString("document.mediaType", maximum: DocumentReference.maximumMediaTypeByteCount),
                        size: try r.readUInt64("document.size"), key: try r.readFixed(32, "document.key"),
                        header: try r.readFixed(24, "document.header"), ciphertextHash: try r.readFixed(32, "document.ciphertextHash"),
                        blobID: try r.readFixed(16, "document.blobID"),
                        inlineCiphertext: try r.readVariable("document.inlineCiphertext", maximum: SessionLimits.maximumPlaintextByteCount))
                }
                return .documentNote(DocumentNote(threadID: thread, inReplyTo: inReplyTo, subject: subject, body: text, documents: documents))
            }
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
