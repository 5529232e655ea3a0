/// One device's public keys as the directory lists them.
public struct DeviceKeys: Hashable, Sendable {
    public var deviceId: UInt32
    public var suite: Suite
    /// Ed25519 identity key, which signs prekeys and sealed-sender content.
    public var identityKey: [UInt8]
    /// X25519 key that envelopes are sealed to.
    public var envelopeKey: [UInt8]
    /// The encoded ``ParticipantCertificate`` for this device; empty where the relay has none
    /// (prekey bundles carry none, because the directory already delivered it).
    public var certificate: [UInt8]

    public init(deviceId: UInt32, suite: Suite = .classic, identityKey: [UInt8], envelopeKey: [UInt8], certificate: [UInt8] = []) {
        self.deviceId = deviceId
        self.suite = suite
        self.identityKey = identityKey
        self.envelopeKey = envelopeKey
        self.certificate = certificate
    }

    func encode(to writer: inout WireWriter) {
        writer.writeUInt32(deviceId)
        writer.writeUInt16(suite.rawValue)
        writer.writeFixed(identityKey)
        writer.writeFixed(envelopeKey)
        writer.writeVariable(certificate)
    }

    init(from reader: inout WireReader) throws {
        deviceId = try reader.readUInt32("device.deviceId")
        suite = try Suite.read(&reader, "device.suite")
        identityKey = try readKey(&reader, "device.identityKey")
        envelopeKey = try readKey(&reader, "device.envelopeKey")
        certificate = try reader.readVariable("device.certificate", maximum: CertificateLimits.participantCertificateBytes)
    }
}

/// A participant as the directory lists them.
public struct DirectoryEntry: Hashable, Sendable {
    public var userId: String
    public var displayName: String
    public var role: String
    public var unit: String
    public var devices: [DeviceKeys]

    public init(userId: String, displayName: String, role: String, unit: String, devices: [DeviceKeys]) {
        self.userId = userId
        self.displayName = displayName
        self.role = role
        self.unit = unit
        self.devices = devices
    }

    func encode(to writer: inout WireWriter) {
        writer.writeString(userId)
        writer.writeString(displayName)
        writer.writeString(role)
        writer.writeString(unit)
        writer.writeList(devices) { w, d in d.encode(to: &w) }
    }

    init(from reader: inout WireReader) throws {
        userId = try reader.readString("entry.userId", maximum: WireLimits.userId)
        displayName = try reader.readString("entry.displayName", maximum: WireLimits.displayText)
        role = try reader.readString("entry.role", maximum: WireLimits.displayText)
        unit = try reader.readString("entry.unit", maximum: WireLimits.displayText)
        devices = try reader.readList("entry.devices", maximum: WireLimits.devicesPerUser) { try DeviceKeys(from: &$0) }
    }
}

/// A signed prekey: an X25519 key signed by the device's identity key.
public struct SignedPrekey: Hashable, Sendable {
    public var id: UInt32
    public var publicKey: [UInt8]
    public var signature: [UInt8]

    public init(id: UInt32, publicKey: [UInt8], signature: [UInt8]) {
        self.id = id
        self.publicKey = publicKey
        self.signature = signature
    }

    /// The bytes the identity key signs: ASCII "Ratsbote signed prekey v1", u16 suite, u32 id,
    /// the 32-byte public key. The relay and the session layer both check this form.
    public static func signedBytes(suite: Suite, id: UInt32, publicKey: [UInt8]) -> [UInt8] {
        var writer = WireWriter(reservingCapacity: 64)
        writer.writeFixed(Array("Ratsbote signed prekey v1".utf8))
        writer.writeUInt16(suite.rawValue)
        writer.writeUInt32(id)
        writer.writeFixed(publicKey)
        return writer.bytes
    }

    func encode(to writer: inout WireWriter) {
        writer.writeUInt32(id)
        writer.writeFixed(publicKey)
        writer.writeFixed(signature)
    }

    init(from reader: inout WireReader) throws {
        id = try reader.readUInt32("signedPrekey.id")
        publicKey = try readKey(&reader, "signedPrekey.publicKey")
        signature = try reader.readFixed(64, "signedPrekey.signature")
    }
}

/// A one-time prekey: an X25519 key handed out at most once.
public struct OneTimePrekey: Hashable, Sendable {
    public var id: UInt32
    public var publicKey: [UInt8]

    public init(id: UInt32, publicKey: [UInt8]) {
        self.id = id
        self.publicKey = publicKey
    }

    func encode(to writer: inout WireWriter) {
        writer.writeUInt32(id)
        writer.writeFixed(publicKey)
    }

    init(from reader: inout WireReader) throws {
        id = try reader.readUInt32("oneTimePrekey.id")
        publicKey = try readKey(&reader, "oneTimePrekey.publicKey")
    }
}

/// What a sender needs to start a session with one device.
public struct DevicePrekeyBundle: Hashable, Sendable {
    public var address: DeviceAddress
    public var device: DeviceKeys
    public var signedPrekey: SignedPrekey?
    public var oneTimePrekey: OneTimePrekey?

    public init(address: DeviceAddress, device: DeviceKeys, signedPrekey: SignedPrekey?, oneTimePrekey: OneTimePrekey?) {
        self.address = address
        self.device = device
        self.signedPrekey = signedPrekey
        self.oneTimePrekey = oneTimePrekey
    }

    func encode(to writer: inout WireWriter) {
        address.encode(to: &writer)
        device.encode(to: &writer)
        if let signedPrekey {
            writer.writeUInt8(1)
            signedPrekey.encode(to: &writer)
        } else {
            writer.writeUInt8(0)
        }
        if let oneTimePrekey {
            writer.writeUInt8(1)
            oneTimePrekey.encode(to: &writer)
        } else {
            writer.writeUInt8(0)
        }
    }

    init(from reader: inout WireReader) throws {
        address = try DeviceAddress(from: &reader, "bundle.address")
        device = try DeviceKeys(from: &reader)
        signedPrekey = try readOptional(&reader, "bundle.hasSignedPrekey") { try SignedPrekey(from: &$0) }
        oneTimePrekey = try readOptional(&reader, "bundle.hasOneTimePrekey") { try OneTimePrekey(from: &$0) }
    }
}

func readOptional<T>(_ reader: inout WireReader, _ field: String, _ body: (inout WireReader) throws -> T) throws -> T? {
    switch try reader.readUInt8(field) {
    case 0: return nil
    case 1: return try body(&reader)
    case let flag: throw WireError.invalidValue(structure: reader.structure, field: field, value: "\(flag)")
    }
}
