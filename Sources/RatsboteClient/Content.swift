import Foundation
import RatsboteWire

/// A file that travels with a message.
public struct Attachment: Hashable, Sendable {
    /// The sender's file name (reduced to a safe base name when saved).
    public var fileName: String
    public var mediaType: String
    public var data: [UInt8]

    public init(fileName: String, mediaType: String, data: [UInt8]) {
        self.fileName = fileName
        self.mediaType = mediaType
        self.data = data
    }
}

/// A document stored on the relay as a blob: what a recipient needs to fetch, check and
/// decrypt it. It is kept in the local database, which is sealed under the database key.
public struct RemoteDocument: Hashable, Sendable {
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
    /// The relay's blob id (16 bytes).
    public var blobId: [UInt8]

    public init(fileName: String, mediaType: String, size: UInt64, key: [UInt8], header: [UInt8], ciphertextHash: [UInt8], blobId: [UInt8]) {
        self.fileName = fileName
        self.mediaType = mediaType
        self.size = size
        self.key = key
        self.header = header
        self.ciphertextHash = ciphertextHash
        self.blobId = blobId
    }

    func encode(to writer: inout WireWriter) {
        writer.writeString(fileName)
        writer.writeString(mediaType)
        writer.writeUInt64(size)
        writer.writeFixed(key)
        writer.writeFixed(header)
        writer.writeFixed(ciphertextHash)
        writer.writeFixed(blobId)
    }

    init(from reader: inout WireReader) throws {
        fileName = try reader.readString("document.fileName", maximum: 255)
        mediaType = try reader.readString("document.mediaType", maximum: 127)
        size = try reader.readUInt64("document.size")
        key = try reader.readFixed(32, "document.key")
        header = try reader.readFixed(24, "document.header")
        ciphertextHash = try reader.readFixed(32, "document.ciphertextHash")
        blobId = try reader.readFixed(16, "document.blobId")
    }
}

/// A message as this device stores it locally (sealed under the database key): what the user
/// wrote or received, with documents already checked and decrypted. It never leaves the device;
/// on the wire, messages travel as the session layer's `MessagePayload`.
///
/// Layout: u8 format (1), message id (16), thread id (16), u8 has-reply-to + id (16),
/// subject (varint, at most 1 KiB), body (varint, at most 1 MiB), attachments (count at most 16:
/// file name at most 255 bytes, media type at most 127 bytes, data varint), u16 unsupported
/// content kind (0 when the content was understood), then, only when the message has any, the
/// documents stored on the relay (count at most 16, each a ``RemoteDocument``). Older rows end
/// after the content kind and read as having none.
public struct NoteContent: Hashable, Sendable, WireCodable {
    public static let wireName = "NoteContent"
    static let kind: UInt8 = 1
    public static let maximumSubjectBytes = 1024
    public static let maximumBodyBytes = 1 << 20
    public static let maximumAttachments = 16

    public var messageId: [UInt8]
    /// The conversation: the first note's id; replies carry the same thread id.
    public var threadId: [UInt8]
    public var inReplyTo: [UInt8]?
    public var subject: String
    public var body: String
    public var attachments: [Attachment]
    /// The content kind number when a newer client sent a kind this version cannot show; 0 otherwise.
    public var unsupportedKind: UInt16
    /// Documents stored on the relay, fetched with `saveAttachments`.
    public var remoteDocuments: [RemoteDocument] = []

    public init(
        messageId: [UInt8], threadId: [UInt8], inReplyTo: [UInt8]?, subject: String, body: String, attachments: [Attachment],
        unsupportedKind: UInt16 = 0
    ) {
        self.messageId = messageId
        self.threadId = threadId
        self.inReplyTo = inReplyTo
        self.subject = subject
        self.body = body
        self.attachments = attachments
        self.unsupportedKind = unsupportedKind
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeUInt8(Self.kind)
        writer.writeFixed(messageId)
        writer.writeFixed(threadId)
        if let inReplyTo {
            writer.writeUInt8(1)
            writer.writeFixed(inReplyTo)
        } else {
            writer.writeUInt8(0)
        }
        writer.writeString(subject)
        writer.writeString(body)
        writer.writeList(attachments) { w, a in
            w.writeString(a.fileName)
            w.writeString(a.mediaType)
            w.writeVariable(a.data)
        }
        writer.writeUInt16(unsupportedKind)
        if !remoteDocuments.isEmpty {
            writer.writeList(remoteDocuments) { w, d in d.encode(to: &w) }
        }
    }

    public init(from reader: inout WireReader) throws {
        let kind = try reader.readUInt8("kind")
        guard kind == Self.kind else { throw WireError.invalidValue(structure: Self.wireName, field: "kind", value: "\(kind)") }
        messageId = try reader.readFixed(16, "messageId")
        threadId = try reader.readFixed(16, "threadId")
        switch try reader.readUInt8("hasReplyTo") {
        case 0: inReplyTo = nil
        case 1: inReplyTo = try reader.readFixed(16, "inReplyTo")
        case let flag: throw WireError.invalidValue(structure: Self.wireName, field: "hasReplyTo", value: "\(flag)")
        }
        subject = try reader.readString("subject", maximum: Self.maximumSubjectBytes)
        body = try reader.readString("body", maximum: Self.maximumBodyBytes)
        attachments = try reader.readList("attachments", maximum: Self.maximumAttachments) { r in
            Attachment(
                fileName: try r.readString("attachment.fileName", maximum: 255),
                mediaType: try r.readString("attachment.mediaType", maximum: 127),
                data: try r.readVariable("attachment.data", maximum: WireLimits.envelope))
        }
        unsupportedKind = try reader.readUInt16("unsupportedKind")
        if !reader.isAtEnd {
            remoteDocuments = try reader.readList("remoteDocuments", maximum: Self.maximumAttachments) { try RemoteDocument(from: &$0) }
            // encode() omits an empty list, so a present but empty one is not a canonical encoding.
            guard !remoteDocuments.isEmpty else {
                throw WireError.invalidValue(structure: Self.wireName, field: "remoteDocuments", value: "an empty list must be omitted")
            }
        }
    }
}
