/// Relay commands for document blobs: the ciphertext of a document, uploaded once in chunks and
/// downloaded by each recipient device. protocol/documents.md has the field tables.
///
/// A blob id is 16 random bytes chosen by the relay. It is a capability: any enrolled device with
/// the id may read the status, download or release the blob, and only session messages carry it.
public enum BlobRequest: Hashable, Sendable {
    /// Reserves a blob of `size` ciphertext bytes that `recipientCount` releases delete.
    /// `timeToLive` is seconds until expiry; 0 means the relay's default.
    case create(size: UInt64, recipientCount: UInt32, timeToLive: UInt32)
    /// Appends `bytes` at `offset`, which must equal the bytes the relay holds.
    case upload(id: [UInt8], offset: UInt64, bytes: [UInt8])
    /// Asks how many bytes the relay holds, for resuming an upload.
    case status(id: [UInt8])
    /// Reads up to `length` bytes (at most ``WireLimits/blobChunk``) from `offset` of a complete blob.
    case download(id: [UInt8], offset: UInt64, length: UInt32)
    /// Counts one recipient as done; the relay deletes the blob after `recipientCount` releases.
    case release(id: [UInt8])

    static let opcodes: ClosedRange<UInt16> = 0x20...0x24

    var opcode: UInt16 {
        switch self {
        case .create: return 0x20
        case .upload: return 0x21
        case .status: return 0x22
        case .download: return 0x23
        case .release: return 0x24
        }
    }

    func encodeBody(to writer: inout WireWriter) {
        switch self {
        case .create(let size, let recipientCount, let timeToLive):
            writer.writeUInt64(size)
            writer.writeUInt32(recipientCount)
            writer.writeUInt32(timeToLive)
        case .upload(let id, let offset, let bytes):
            writer.writeFixed(id)
            writer.writeUInt64(offset)
            writer.writeVariable(bytes)
        case .status(let id), .release(let id):
            writer.writeFixed(id)
        case .download(let id, let offset, let length):
            writer.writeFixed(id)
            writer.writeUInt64(offset)
            writer.writeUInt32(length)
        }
    }

    static func decodeBody(opcode: UInt16, from reader: inout WireReader) throws -> BlobRequest {
        switch opcode {
        case 0x20:
            return .create(
                size: try reader.readUInt64("size"), recipientCount: try reader.readUInt32("recipientCount"),
                timeToLive: try reader.readUInt32("timeToLive"))
        case 0x21:
            return .upload(
                id: try reader.readFixed(WireLimits.blobId, "blobId"), offset: try reader.readUInt64("offset"),
                bytes: try reader.readVariable("bytes", maximum: WireLimits.blobChunk))
        case 0x22: return .status(id: try reader.readFixed(WireLimits.blobId, "blobId"))
        case 0x23:
            let id = try reader.readFixed(WireLimits.blobId, "blobId")
            let offset = try reader.readUInt64("offset")
            let length = try reader.readUInt32("length")
            guard length <= WireLimits.blobChunk else {
                throw WireError.invalidValue(structure: reader.structure, field: "length", value: "\(length) exceeds \(WireLimits.blobChunk)")
            }
            return .download(id: id, offset: offset, length: length)
        case 0x24: return .release(id: try reader.readFixed(WireLimits.blobId, "blobId"))
        default: throw WireError.invalidValue(structure: reader.structure, field: "opcode", value: "\(opcode)")
        }
    }
}

/// The relay's successful responses to blob commands.
public enum BlobResponse: Hashable, Sendable {
    /// Response to `create`: the new blob id and its expiry (Unix seconds).
    case created(id: [UInt8], expiresAt: UInt64)
    /// Response to `upload` and `status`: the blob's size, the bytes the relay received, and
    /// whether the upload is complete and synced to disk.
    case status(size: UInt64, received: UInt64, isComplete: Bool)
    /// Response to `download`: bytes from `offset`; fewer than asked only at the end of the blob.
    case chunk(offset: UInt64, bytes: [UInt8])

    static let tags: ClosedRange<UInt8> = 0x20...0x22

    var tag: UInt8 {
        switch self {
        case .created: return 0x20
        case .status: return 0x21
        case .chunk: return 0x22
        }
    }

    func encodeBody(to writer: inout WireWriter) {
        switch self {
        case .created(let id, let expiresAt):
            writer.writeFixed(id)
            writer.writeUInt64(expiresAt)
        case .status(let size, let received, let isComplete):
            writer.writeUInt64(size)
            writer.writeUInt64(received)
            writer.writeUInt8(isComplete ? 1 : 0)
        case .chunk(let offset, let bytes):
            writer.writeUInt64(offset)
            writer.writeVariable(bytes)
        }
    }

    static func decodeBody(tag: UInt8, from reader: inout WireReader) throws -> BlobResponse {
        switch tag {
        case 0x20:
            return .created(id: try reader.readFixed(WireLimits.blobId, "blobId"), expiresAt: try reader.readUInt64("expiresAt"))
        case 0x21:
            let size = try reader.readUInt64("size")
            let received = try reader.readUInt64("received")
            let complete = try reader.readUInt8("isComplete")
            guard complete <= 1 else {
                throw WireError.invalidValue(structure: reader.structure, field: "isComplete", value: "\(complete)")
            }
            return .status(size: size, received: received, isComplete: complete == 1)
        case 0x22:
            return .chunk(offset: try reader.readUInt64("offset"), bytes: try reader.readVariable("bytes", maximum: WireLimits.blobChunk))
        default: throw WireError.invalidValue(structure: reader.structure, field: "responseTag", value: "\(tag)")
        }
    }
}
