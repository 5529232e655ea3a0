/// Field limits shared by several structures. protocol/encoding.md lists them.
public enum WireLimits {
    /// User ids are ASCII-safe identifiers chosen by the operator, e.g. "dezernat-2".
    public static let userId = 64
    /// Display names, roles and units (UTF-8 bytes).
    public static let displayText = 256
    /// A free-text query for the directory.
    public static let query = 256
    /// A sealed envelope's bytes. Documents travel inside envelopes up to this size until the
    /// chunked blob transfer carries them separately.
    public static let envelope = 4 * 1024 * 1024
    /// One application frame: an envelope plus its command header.
    public static let frame = envelope + 4096
    /// Envelope ids in one acknowledgement.
    public static let acknowledgementIds = 1024
    /// One-time prekeys in one upload.
    public static let prekeysPerUpload = 200
    /// Entries in one directory answer.
    public static let directoryEntries = 500
    /// Devices per user.
    public static let devicesPerUser = 16
    /// Relay host names in invite codes.
    public static let hostName = 253
    /// Invite tokens.
    public static let inviteToken = 16
    /// The short human-readable reason in an error response.
    public static let errorReason = 512
    /// Blob bytes in one upload or download frame.
    public static let blobChunk = 1024 * 1024
    /// Blob ids: 16 random bytes chosen by the relay.
    public static let blobId = 16
}

/// The cryptographic suite a key, bundle or message uses.
///
/// Suite 1 is X25519 + Ed25519 + XChaCha20-Poly1305 + SHA-256/BLAKE2b. A hybrid post-quantum suite
/// (X25519 + ML-KEM-768) gets a new number; decoders reject numbers they do not know.
public struct Suite: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// X25519, Ed25519, XChaCha20-Poly1305, HKDF-SHA-256.
    public static let classic = Suite(rawValue: 1)

    static func read(_ reader: inout WireReader, _ field: String = "suite") throws -> Suite {
        let raw = try reader.readUInt16(field)
        guard raw == Suite.classic.rawValue else {
            throw WireError.invalidValue(structure: reader.structure, field: field, value: "unknown suite \(raw)")
        }
        return Suite(rawValue: raw)
    }
}

/// A device's mailbox address: the owner's user id and the device number.
///
/// Every address names a device from the start, so several devices per person need no format change.
public struct DeviceAddress: Hashable, Sendable, CustomStringConvertible {
    public var userId: String
    public var deviceId: UInt32

    public init(userId: String, deviceId: UInt32) {
        self.userId = userId
        self.deviceId = deviceId
    }

    public var description: String { "\(userId).\(deviceId)" }

    func encode(to writer: inout WireWriter) {
        writer.writeString(userId)
        writer.writeUInt32(deviceId)
    }

    init(from reader: inout WireReader, _ field: String) throws {
        userId = try reader.readString("\(field).userId", maximum: WireLimits.userId)
        deviceId = try reader.readUInt32("\(field).deviceId")
    }
}

/// A 32-byte key or hash field read with its length checked.
func readKey(_ reader: inout WireReader, _ field: String) throws -> [UInt8] {
    try reader.readFixed(32, field)
}
