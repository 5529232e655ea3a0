import Foundation
import RatsboteCrypto

/// A one-time invite: where the relay is, which key it must present, which organisation root to
/// trust, and the secret token that enrolls one device.
///
/// Text form: `RB1-` followed by base64url (no padding) of the binary encoding, so it survives
/// e-mail, chat and copy-paste. The binary layout starts with a version byte.
public struct InviteCode: Hashable, Sendable, WireCodable {
    public static let wireName = "InviteCode"
    public static let version: UInt8 = 1
    /// The prefix of the text form.
    public static let textPrefix = "RB1-"

    public var host: String
    public var port: UInt16
    /// The relay's Noise static key (X25519), pinned for the handshake.
    public var relayKey: [UInt8]
    /// BLAKE2b-256 of the organisation's root signing key.
    public var rootFingerprint: [UInt8]
    /// The secret that enrolls exactly one device.
    public var token: [UInt8]
    /// Unix seconds after which the relay rejects the token.
    public var expiresAt: UInt64

    public init(host: String, port: UInt16, relayKey: [UInt8], rootFingerprint: [UInt8], token: [UInt8], expiresAt: UInt64) {
        self.host = host
        self.port = port
        self.relayKey = relayKey
        self.rootFingerprint = rootFingerprint
        self.token = token
        self.expiresAt = expiresAt
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeUInt8(Self.version)
        writer.writeString(host)
        writer.writeUInt16(port)
        writer.writeFixed(relayKey)
        writer.writeFixed(rootFingerprint)
        writer.writeFixed(token)
        writer.writeUInt64(expiresAt)
    }

    public init(from reader: inout WireReader) throws {
        let version = try reader.readUInt8("version")
        guard version == Self.version else { throw WireError.unsupportedVersion(structure: Self.wireName, version: Int(version)) }
        host = try reader.readString("host", maximum: WireLimits.hostName)
        port = try reader.readUInt16("port")
        relayKey = try readKey(&reader, "relayKey")
        rootFingerprint = try readKey(&reader, "rootFingerprint")
        token = try reader.readFixed(WireLimits.inviteToken, "token")
        expiresAt = try reader.readUInt64("expiresAt")
    }

    /// The text form handed to a participant.
    public var text: String { Self.textPrefix + Encoding.base64URL(encoded()) }

    /// Parses the text form; surrounding whitespace is ignored.
    ///
    /// - Throws: ``WireError/invalidValue(structure:field:value:)`` when the prefix or the
    ///   base64url is wrong, or a decoding error naming the field.
    public init(text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix(Self.textPrefix) else {
            throw WireError.invalidValue(structure: Self.wireName, field: "prefix", value: "expected \(Self.textPrefix)")
        }
        let body = trimmed.dropFirst(Self.textPrefix.count)
        let bytes: [UInt8]
        do {
            bytes = try Encoding.bytes(fromBase64URL: body)
        } catch {
            throw WireError.invalidValue(structure: Self.wireName, field: "text", value: "not base64url")
        }
        self = try Self.decode(bytes)
    }
}
