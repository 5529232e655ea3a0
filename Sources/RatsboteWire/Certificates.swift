import RatsboteCrypto

/// Field limits of the certificate structures. protocol/certificates.md lists them.
public enum CertificateLimits {
    /// The largest encoded participant certificate carried in a directory entry or sealed sender.
    public static let participantCertificateBytes = 2048
    /// Serial numbers in one revocation list.
    public static let revokedSerials = 65_536
    /// Members of one group.
    public static let groupMembers = 2000
    /// Groups in one trust material response.
    public static let groups = 1000
}

/// The kind of an organisation group.
public enum GroupKind: UInt8, Sendable, Hashable, CaseIterable {
    /// A faction, department or company: where people belong.
    case unit = 1
    /// A committee or other body that people are appointed to.
    case committee = 2
}

/// A structure that ends in an Ed25519 signature over a context string and all its other fields.
///
/// The context string makes a signature on one structure useless as a signature on another,
/// even where two field layouts would encode to the same bytes. Conforming types supply the
/// fields; the signed bytes and the encoding (fields, then the 64-byte signature) come from here.
public protocol SignedStructure: WireCodable {
    /// The ASCII context string in front of the signed fields.
    static var context: String { get }
    /// The 64-byte signature over ``signedBytes``.
    var signature: [UInt8] { get set }
    /// Writes every field except the signature.
    func writeFields(_ writer: inout WireWriter)
}

extension SignedStructure {
    /// The bytes the signing key signs: the context string, then every field but the signature.
    public var signedBytes: [UInt8] {
        var writer = WireWriter(reservingCapacity: 256)
        writer.writeFixed(Array(Self.context.utf8))
        writeFields(&writer)
        return writer.bytes
    }

    public func encode(to writer: inout WireWriter) {
        writeFields(&writer)
        writer.writeFixed(signature)
    }
}

/// A structure the organisation's issuing key signs, naming that key in its ``issuerKey`` field.
public protocol IssuerSignedStructure: SignedStructure {
    /// The Ed25519 public key of the issuing key that signed.
    var issuerKey: [UInt8] { get set }
}

extension IssuerSignedStructure {
    /// Returns a copy signed by `issuingKey`, with ``issuerKey`` set to its public key.
    public func signed(by issuingKey: Ed25519SigningKey) -> Self {
        var copy = self
        copy.issuerKey = issuingKey.publicKey.rawRepresentation
        copy.signature = issuingKey.signature(for: copy.signedBytes)
        return copy
    }
}

private func readVersion(_ reader: inout WireReader, _ structure: String, _ expected: UInt8) throws {
    let version = try reader.readUInt8("version")
    guard version == expected else { throw WireError.unsupportedVersion(structure: structure, version: Int(version)) }
}

// MARK: - Issuer certificate

/// The root key's statement that an issuing key may sign participant certificates, revocation
/// lists and groups until `validUntil`.
///
/// The root key signs only this, so it can stay on an offline machine while the relay keeps the
/// issuing key.
public struct IssuerCertificate: Hashable, Sendable, SignedStructure {
    public static let wireName = "IssuerCertificate"
    public static let version: UInt8 = 1
    public static let context = "Ratsbote issuer certificate v1"

    public var suite: Suite
    public var serial: UInt64
    /// The Ed25519 issuing key.
    public var issuerKey: [UInt8]
    /// Unix seconds.
    public var validFrom: UInt64
    /// Unix seconds.
    public var validUntil: UInt64
    /// The root key's Ed25519 signature over ``signedBytes``.
    public var signature: [UInt8]

    public init(suite: Suite = .classic, serial: UInt64, issuerKey: [UInt8], validFrom: UInt64, validUntil: UInt64, signature: [UInt8] = []) {
        self.suite = suite
        self.serial = serial
        self.issuerKey = issuerKey
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.signature = signature
    }

    public func writeFields(_ writer: inout WireWriter) {
        writer.writeUInt8(Self.version)
        writer.writeUInt16(suite.rawValue)
        writer.writeUInt64(serial)
        writer.writeFixed(issuerKey)
        writer.writeUInt64(validFrom)
        writer.writeUInt64(validUntil)
    }


    /// Returns a copy signed by `rootKey`.
    public func signed(by rootKey: Ed25519SigningKey) -> IssuerCertificate {
        var copy = self
        copy.signature = rootKey.signature(for: signedBytes)
        return copy
    }

    public init(from reader: inout WireReader) throws {
        try readVersion(&reader, Self.wireName, Self.version)
        suite = try Suite.read(&reader)
        serial = try reader.readUInt64("serial")
        issuerKey = try readKey(&reader, "issuerKey")
        validFrom = try reader.readUInt64("validFrom")
        validUntil = try reader.readUInt64("validUntil")
        signature = try reader.readFixed(64, "signature")
    }
}

// MARK: - Participant certificate

/// The organisation's statement that one device's keys belong to a named person with a role and
/// unit for a term of office.
public struct ParticipantCertificate: Hashable, Sendable, IssuerSignedStructure {
    public static let wireName = "ParticipantCertificate"
    public static let version: UInt8 = 1
    public static let context = "Ratsbote participant certificate v1"

    public var suite: Suite
    /// Unique per issuing database; the revocation list names certificates by it.
    public var serial: UInt64
    public var userId: String
    public var deviceId: UInt32
    public var displayName: String
    /// For example Ratsmitglied, Sachbearbeitung, Geschäftsführung.
    public var role: String
    /// Faction, department or company.
    public var unit: String
    /// Start of the term of office, Unix seconds.
    public var validFrom: UInt64
    /// End of the term of office, Unix seconds.
    public var validUntil: UInt64
    /// Ed25519 identity key of the device.
    public var identityKey: [UInt8]
    /// X25519 key that envelopes to the device are sealed to.
    public var envelopeKey: [UInt8]
    /// The issuing key that signed this certificate.
    public var issuerKey: [UInt8]
    public var signature: [UInt8]

    public init(
        suite: Suite = .classic, serial: UInt64, userId: String, deviceId: UInt32, displayName: String, role: String, unit: String,
        validFrom: UInt64, validUntil: UInt64, identityKey: [UInt8], envelopeKey: [UInt8], issuerKey: [UInt8], signature: [UInt8] = []
    ) {
        self.suite = suite
        self.serial = serial
        self.userId = userId
        self.deviceId = deviceId
        self.displayName = displayName
        self.role = role
        self.unit = unit
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.identityKey = identityKey
        self.envelopeKey = envelopeKey
        self.issuerKey = issuerKey
        self.signature = signature
    }

    /// The device this certificate is for.
    public var address: DeviceAddress { DeviceAddress(userId: userId, deviceId: deviceId) }

    public func writeFields(_ writer: inout WireWriter) {
        writer.writeUInt8(Self.version)
        writer.writeUInt16(suite.rawValue)
        writer.writeUInt64(serial)
        writer.writeString(userId)
        writer.writeUInt32(deviceId)
        writer.writeString(displayName)
        writer.writeString(role)
        writer.writeString(unit)
        writer.writeUInt64(validFrom)
        writer.writeUInt64(validUntil)
        writer.writeFixed(identityKey)
        writer.writeFixed(envelopeKey)
        writer.writeFixed(issuerKey)
    }


    public init(from reader: inout WireReader) throws {
        try readVersion(&reader, Self.wireName, Self.version)
        suite = try Suite.read(&reader)
        serial = try reader.readUInt64("serial")
        userId = try reader.readString("userId", maximum: WireLimits.userId)
        deviceId = try reader.readUInt32("deviceId")
        displayName = try reader.readString("displayName", maximum: WireLimits.displayText)
        role = try reader.readString("role", maximum: WireLimits.displayText)
        unit = try reader.readString("unit", maximum: WireLimits.displayText)
        validFrom = try reader.readUInt64("validFrom")
        validUntil = try reader.readUInt64("validUntil")
        identityKey = try readKey(&reader, "identityKey")
        envelopeKey = try readKey(&reader, "envelopeKey")
        issuerKey = try readKey(&reader, "issuerKey")
        signature = try reader.readFixed(64, "signature")
    }
}

// MARK: - Revocation list

/// The serial numbers of every participant certificate the organisation revoked, signed by the
/// issuing key.
///
/// The list only grows, so a client keeps the newest one it has seen (by ``issuedAt``) and
/// ignores an older one that a relay might replay.
public struct RevocationList: Hashable, Sendable, IssuerSignedStructure {
    public static let wireName = "RevocationList"
    public static let version: UInt8 = 1
    public static let context = "Ratsbote revocation list v1"

    public var suite: Suite
    /// Unix seconds.
    public var issuedAt: UInt64
    /// Ascending, without repeats.
    public var serials: [UInt64]
    public var issuerKey: [UInt8]
    public var signature: [UInt8]

    public init(suite: Suite = .classic, issuedAt: UInt64, serials: [UInt64], issuerKey: [UInt8] = [], signature: [UInt8] = []) {
        self.suite = suite
        self.issuedAt = issuedAt
        self.serials = serials
        self.issuerKey = issuerKey
        self.signature = signature
    }

    /// Whether the list names `serial`.
    public func contains(_ serial: UInt64) -> Bool {
        var low = 0
        var high = serials.count
        while low < high {
            let middle = (low + high) / 2
            if serials[middle] == serial { return true }
            if serials[middle] < serial { low = middle + 1 } else { high = middle }
        }
        return false
    }

    public func writeFields(_ writer: inout WireWriter) {
        writer.writeUInt8(Self.version)
        writer.writeUInt16(suite.rawValue)
        writer.writeUInt64(issuedAt)
        writer.writeList(serials) { w, serial in w.writeUInt64(serial) }
        writer.writeFixed(issuerKey)
    }


    public init(from reader: inout WireReader) throws {
        try readVersion(&reader, Self.wireName, Self.version)
        suite = try Suite.read(&reader)
        issuedAt = try reader.readUInt64("issuedAt")
        serials = try reader.readList("serials", maximum: CertificateLimits.revokedSerials) { try $0.readUInt64("serial") }
        for index in serials.indices.dropFirst() where serials[index - 1] >= serials[index] {
            // Ascending order lets `contains` use binary search and gives one encoding per list.
            throw WireError.invalidValue(structure: Self.wireName, field: "serials", value: "not strictly ascending at index \(index)")
        }
        issuerKey = try readKey(&reader, "issuerKey")
        signature = try reader.readFixed(64, "signature")
    }
}

// MARK: - Group definition

/// A unit or committee of the organisation: its members by user id, signed by the issuing key.
///
/// Each change raises ``revision``; a client keeps the highest revision it has seen per group.
public struct GroupDefinition: Hashable, Sendable, IssuerSignedStructure {
    public static let wireName = "GroupDefinition"
    public static let version: UInt8 = 1
    public static let context = "Ratsbote group definition v1"

    public var suite: Suite
    /// An ASCII id such as "ausschuss-stadtentwicklung", unique among groups and users.
    public var groupId: String
    public var name: String
    public var kind: GroupKind
    /// Ascending, without repeats.
    public var members: [String]
    public var revision: UInt32
    /// Unix seconds.
    public var issuedAt: UInt64
    public var issuerKey: [UInt8]
    public var signature: [UInt8]

    public init(
        suite: Suite = .classic, groupId: String, name: String, kind: GroupKind, members: [String], revision: UInt32, issuedAt: UInt64,
        issuerKey: [UInt8] = [], signature: [UInt8] = []
    ) {
        self.suite = suite
        self.groupId = groupId
        self.name = name
        self.kind = kind
        self.members = members
        self.revision = revision
        self.issuedAt = issuedAt
        self.issuerKey = issuerKey
        self.signature = signature
    }

    public func writeFields(_ writer: inout WireWriter) {
        writer.writeUInt8(Self.version)
        writer.writeUInt16(suite.rawValue)
        writer.writeString(groupId)
        writer.writeString(name)
        writer.writeUInt8(kind.rawValue)
        writer.writeList(members) { w, member in w.writeString(member) }
        writer.writeUInt32(revision)
        writer.writeUInt64(issuedAt)
        writer.writeFixed(issuerKey)
    }


    public init(from reader: inout WireReader) throws {
        try readVersion(&reader, Self.wireName, Self.version)
        suite = try Suite.read(&reader)
        groupId = try reader.readString("groupId", maximum: WireLimits.userId)
        name = try reader.readString("name", maximum: WireLimits.displayText)
        let rawKind = try reader.readUInt8("kind")
        guard let kind = GroupKind(rawValue: rawKind) else {
            throw WireError.invalidValue(structure: Self.wireName, field: "kind", value: "\(rawKind)")
        }
        self.kind = kind
        members = try reader.readList("members", maximum: CertificateLimits.groupMembers) {
            try $0.readString("member", maximum: WireLimits.userId)
        }
        for index in members.indices.dropFirst() where members[index - 1] >= members[index] {
            throw WireError.invalidValue(structure: Self.wireName, field: "members", value: "not strictly ascending at index \(index)")
        }
        revision = try reader.readUInt32("revision")
        issuedAt = try reader.readUInt64("issuedAt")
        issuerKey = try readKey(&reader, "issuerKey")
        signature = try reader.readFixed(64, "signature")
    }
}

// MARK: - Trust material

/// What a client needs to check directory entries: the root public key, the issuer certificate,
/// the current revocation list and every group. The relay serves it in answer to `trust`.
public struct TrustMaterial: Hashable, Sendable, WireCodable {
    public static let wireName = "TrustMaterial"

    /// The Ed25519 root public key; a client compares its BLAKE2b-256 with the invite's fingerprint.
    public var rootKey: [UInt8]
    public var issuer: IssuerCertificate
    public var revocations: RevocationList
    public var groups: [GroupDefinition]

    public init(rootKey: [UInt8], issuer: IssuerCertificate, revocations: RevocationList, groups: [GroupDefinition]) {
        self.rootKey = rootKey
        self.issuer = issuer
        self.revocations = revocations
        self.groups = groups
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeFixed(rootKey)
        issuer.encode(to: &writer)
        revocations.encode(to: &writer)
        writer.writeList(groups) { w, group in group.encode(to: &w) }
    }

    public init(from reader: inout WireReader) throws {
        rootKey = try readKey(&reader, "rootKey")
        issuer = try IssuerCertificate(from: &reader)
        revocations = try RevocationList(from: &reader)
        groups = try reader.readList("groups", maximum: CertificateLimits.groups) { try GroupDefinition(from: &$0) }
    }
}
