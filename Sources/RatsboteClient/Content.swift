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

/// The content of a note: what the user wrote. It is encrypted end to end; the relay never sees it.
///
/// Layout: u8 kind (1 = note), message id (16), thread id (16), u8 has-reply-to + id (16),
/// subject (varint, at most 1 KiB), body (varint, at most 1 MiB), attachments (count at most 16:
/// file name at most 255 bytes, media type at most 127 bytes, data varint).
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

    public init(messageId: [UInt8], threadId: [UInt8], inReplyTo: [UInt8]?, subject: String, body: String, attachments: [Attachment]) {
        self.messageId = messageId
        self.threadId = threadId
        self.inReplyTo = inReplyTo
        self.subject = subject
        self.body = body
        self.attachments = attachments
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
    }
}
