/// The version of the relay command layer, carried in the first handshake message.
public enum RelayProtocol {
    public static let version: UInt8 = 1
}

/// A request from a device to the relay.
public enum RelayRequest: Hashable, Sendable {
    /// Enroll this device (its Noise static key) with a one-time invite token.
    case enroll(EnrollRequest)
    /// Store an envelope for a recipient mailbox.
    case send(SendRequest)
    /// Start delivery: the relay pushes the backlog in order, then new envelopes as they arrive.
    case receive
    /// Delete delivered envelopes.
    case acknowledge(ids: [UInt64])
    /// Replace the signed prekey and add one-time prekeys.
    case uploadPrekeys(signed: SignedPrekey, oneTime: [OneTimePrekey])
    /// Fetch a prekey bundle for every device of a user, claiming one one-time prekey per device.
    case claimPrekeys(userId: String)
    /// Search the directory by name, role, unit or user id; an empty query lists everyone.
    case directory(query: String)
    /// Liveness check.
    case ping
    /// A blob command: create, upload, status, download or release (see `BlobRequest`).
    case blob(BlobRequest)
    /// Fetch the root key, issuer certificate, revocation list and groups.
    case trust

    /// The opcode of each request on the wire.
    public var opcode: UInt16 {
        switch self {
        case .enroll: return 0x01
        case .send: return 0x02
        case .receive: return 0x03
        case .acknowledge: return 0x04
        case .uploadPrekeys: return 0x05
        case .claimPrekeys: return 0x06
        case .directory: return 0x07
        case .ping: return 0x08
        case .blob(let request): return request.opcode
        case .trust: return 0x09
        }
    }

    func encodeBody(to writer: inout WireWriter) {
        switch self {
        case .enroll(let request): request.encode(to: &writer)
        case .send(let request): request.encode(to: &writer)
        case .receive, .ping, .trust: break
        case .acknowledge(let ids): writer.writeList(ids) { w, id in w.writeUInt64(id) }
        case .uploadPrekeys(let signed, let oneTime):
            signed.encode(to: &writer)
            writer.writeList(oneTime) { w, key in key.encode(to: &w) }
        case .claimPrekeys(let userId): writer.writeString(userId)
        case .directory(let query): writer.writeString(query)
        case .blob(let request): request.encodeBody(to: &writer)
        }
    }

    static func decodeBody(opcode: UInt16, from reader: inout WireReader) throws -> RelayRequest {
        switch opcode {
        case 0x01: return .enroll(try EnrollRequest(from: &reader))
        case 0x02: return .send(try SendRequest(from: &reader))
        case 0x03: return .receive
        case 0x04:
            return .acknowledge(ids: try reader.readList("ids", maximum: WireLimits.acknowledgementIds) { try $0.readUInt64("id") })
        case 0x05:
            let signed = try SignedPrekey(from: &reader)
            let oneTime = try reader.readList("oneTimePrekeys", maximum: WireLimits.prekeysPerUpload) { try OneTimePrekey(from: &$0) }
            return .uploadPrekeys(signed: signed, oneTime: oneTime)
        case 0x06: return .claimPrekeys(userId: try reader.readString("userId", maximum: WireLimits.userId))
        case 0x07: return .directory(query: try reader.readString("query", maximum: WireLimits.query))
        case 0x08: return .ping
        case BlobRequest.opcodes: return .blob(try BlobRequest.decodeBody(opcode: opcode, from: &reader))
        case 0x09: return .trust
        default: throw WireError.invalidValue(structure: reader.structure, field: "opcode", value: "\(opcode)")
        }
    }
}

/// The body of an enroll request.
public struct EnrollRequest: Hashable, Sendable {
    /// The secret token from the invite code.
    public var token: [UInt8]
    public var suite: Suite
    /// Ed25519 identity key of the new device.
    public var identityKey: [UInt8]
    /// X25519 key envelopes are sealed to.
    public var envelopeKey: [UInt8]
    /// Identity-key signature over "ratsbote enroll v1" ‖ token ‖ envelope key ‖ Noise static key,
    /// proving that the device has the private identity key it registers.
    public var signature: [UInt8]

    public init(token: [UInt8], suite: Suite = .classic, identityKey: [UInt8], envelopeKey: [UInt8], signature: [UInt8]) {
        self.token = token
        self.suite = suite
        self.identityKey = identityKey
        self.envelopeKey = envelopeKey
        self.signature = signature
    }

    /// The bytes the identity key signs.
    public static func signedBytes(token: [UInt8], envelopeKey: [UInt8], transportKey: [UInt8]) -> [UInt8] {
        Array("ratsbote enroll v1".utf8) + token + envelopeKey + transportKey
    }

    func encode(to writer: inout WireWriter) {
        writer.writeFixed(token)
        writer.writeUInt16(suite.rawValue)
        writer.writeFixed(identityKey)
        writer.writeFixed(envelopeKey)
        writer.writeFixed(signature)
    }

    init(from reader: inout WireReader) throws {
        token = try reader.readFixed(WireLimits.inviteToken, "token")
        suite = try Suite.read(&reader)
        identityKey = try readKey(&reader, "identityKey")
        envelopeKey = try readKey(&reader, "envelopeKey")
        signature = try reader.readFixed(64, "signature")
    }
}

/// The body of a send request.
public struct SendRequest: Hashable, Sendable {
    public var recipient: DeviceAddress
    /// Chosen by the sender; a retry with the same id stores nothing twice.
    public var idempotencyId: [UInt8]
    /// Seconds until the relay may delete the envelope unread; 0 means the relay's default.
    public var timeToLive: UInt32
    /// The sealed envelope. The relay never looks inside.
    public var sealed: [UInt8]

    public init(recipient: DeviceAddress, idempotencyId: [UInt8], timeToLive: UInt32 = 0, sealed: [UInt8]) {
        self.recipient = recipient
        self.idempotencyId = idempotencyId
        self.timeToLive = timeToLive
        self.sealed = sealed
    }

    func encode(to writer: inout WireWriter) {
        recipient.encode(to: &writer)
        writer.writeFixed(idempotencyId)
        writer.writeUInt32(timeToLive)
        writer.writeVariable(sealed)
    }

    init(from reader: inout WireReader) throws {
        recipient = try DeviceAddress(from: &reader, "recipient")
        idempotencyId = try reader.readFixed(16, "idempotencyId")
        timeToLive = try reader.readUInt32("timeToLive")
        sealed = try reader.readVariable("sealed", maximum: WireLimits.envelope)
    }
}

/// A successful response to a request. Each opcode has one response case.
public enum RelayResponse: Hashable, Sendable {
    /// Response to `enroll`: the identity the invite named and the device number.
    case enrolled(address: DeviceAddress, displayName: String, role: String, unit: String)
    /// Response to `send`: the envelope is durable.
    case stored(envelopeId: UInt64)
    /// Response to `receive`: how many envelopes wait, and how many expired unread since the last
    /// connection and the oldest expiry time among them (Unix seconds, 0 if none).
    case receiving(backlog: UInt32, expiredUnread: UInt32, expiredSince: UInt64)
    /// Response to `acknowledge` and `uploadPrekeys`.
    case done
    /// Response to `claimPrekeys`: one bundle per device of the user.
    case prekeys([DevicePrekeyBundle])
    /// Response to `directory`.
    case directory([DirectoryEntry])
    /// Response to `ping`.
    case pong
    /// Response to a blob command (see `BlobResponse`).
    case blob(BlobResponse)
    /// Response to `trust`.
    case trust(TrustMaterial)
    /// An error with a numbered code.
    case failure(RelayFailure)

    var tag: UInt8 {
        switch self {
        case .enrolled: return 1
        case .stored: return 2
        case .receiving: return 3
        case .done: return 4
        case .prekeys: return 5
        case .directory: return 6
        case .pong: return 7
        case .blob(let response): return response.tag
        case .trust: return 8
        case .failure: return 0
        }
    }

    func encodeBody(to writer: inout WireWriter) {
        writer.writeUInt8(tag)
        switch self {
        case .enrolled(let address, let name, let role, let unit):
            address.encode(to: &writer)
            writer.writeString(name)
            writer.writeString(role)
            writer.writeString(unit)
        case .stored(let id): writer.writeUInt64(id)
        case .receiving(let backlog, let expired, let since):
            writer.writeUInt32(backlog)
            writer.writeUInt32(expired)
            writer.writeUInt64(since)
        case .done, .pong: break
        case .prekeys(let bundles): writer.writeList(bundles) { w, b in b.encode(to: &w) }
        case .directory(let entries): writer.writeList(entries) { w, e in e.encode(to: &w) }
        case .blob(let response): response.encodeBody(to: &writer)
        case .trust(let material): material.encode(to: &writer)
        case .failure(let failure):
            writer.writeUInt16(failure.rawCode)
            writer.writeString(failure.reason)
        }
    }

    static func decodeBody(from reader: inout WireReader) throws -> RelayResponse {
        switch try reader.readUInt8("responseTag") {
        case 0:
            let code = try reader.readUInt16("code")
            return .failure(RelayFailure(rawCode: code, reason: try reader.readString("reason", maximum: WireLimits.errorReason)))
        case 1:
            let address = try DeviceAddress(from: &reader, "address")
            return .enrolled(
                address: address,
                displayName: try reader.readString("displayName", maximum: WireLimits.displayText),
                role: try reader.readString("role", maximum: WireLimits.displayText),
                unit: try reader.readString("unit", maximum: WireLimits.displayText))
        case 2: return .stored(envelopeId: try reader.readUInt64("envelopeId"))
        case 3:
            return .receiving(
                backlog: try reader.readUInt32("backlog"), expiredUnread: try reader.readUInt32("expiredUnread"),
                expiredSince: try reader.readUInt64("expiredSince"))
        case 4: return .done
        case 5:
            return .prekeys(try reader.readList("bundles", maximum: WireLimits.devicesPerUser) { try DevicePrekeyBundle(from: &$0) })
        case 6:
            return .directory(try reader.readList("entries", maximum: WireLimits.directoryEntries) { try DirectoryEntry(from: &$0) })
        case 7: return .pong
        case let tag where BlobResponse.tags.contains(tag): return .blob(try BlobResponse.decodeBody(tag: tag, from: &reader))
        case 8: return .trust(try TrustMaterial(from: &reader))
        case let tag: throw WireError.invalidValue(structure: reader.structure, field: "responseTag", value: "\(tag)")
        }
    }
}

/// A message the relay sends without a request.
public enum RelayPush: Hashable, Sendable {
    /// An envelope for this device. `receivedAt` is Unix seconds when the relay stored it.
    case envelope(id: UInt64, receivedAt: UInt64, sealed: [UInt8])
    /// The device has fewer than the given number of one-time prekeys left and should refill.
    case prekeysLow(remaining: UInt32)
}

/// One application frame on a relay connection.
///
/// Layout: u8 frame type (1 request, 2 response, 3 push), u32 request id (0 for pushes), then
/// for a request the u16 opcode and its body, for a response the response body, for a push a
/// u8 push type and its body.
public enum RelayFrame: Hashable, Sendable, WireCodable {
    case request(id: UInt32, RelayRequest)
    case response(id: UInt32, RelayResponse)
    case push(RelayPush)

    public static let wireName = "RelayFrame"

    public func encode(to writer: inout WireWriter) {
        switch self {
        case .request(let id, let request):
            writer.writeUInt8(1)
            writer.writeUInt32(id)
            writer.writeUInt16(request.opcode)
            request.encodeBody(to: &writer)
        case .response(let id, let response):
            writer.writeUInt8(2)
            writer.writeUInt32(id)
            response.encodeBody(to: &writer)
        case .push(let push):
            writer.writeUInt8(3)
            writer.writeUInt32(0)
            switch push {
            case .envelope(let id, let receivedAt, let sealed):
                writer.writeUInt8(1)
                writer.writeUInt64(id)
                writer.writeUInt64(receivedAt)
                writer.writeVariable(sealed)
            case .prekeysLow(let remaining):
                writer.writeUInt8(2)
                writer.writeUInt32(remaining)
            }
        }
    }

    public init(from reader: inout WireReader) throws {
        let type = try reader.readUInt8("frameType")
        let id = try reader.readUInt32("requestId")
        switch type {
        case 1:
            let opcode = try reader.readUInt16("opcode")
            self = .request(id: id, try RelayRequest.decodeBody(opcode: opcode, from: &reader))
        case 2:
            self = .response(id: id, try RelayResponse.decodeBody(from: &reader))
        case 3:
            // A push responds to no request. Accepting another id would give one push two encodings.
            guard id == 0 else {
                throw WireError.invalidValue(structure: Self.wireName, field: "requestId", value: "\(id) in a push, expected 0")
            }
            switch try reader.readUInt8("pushType") {
            case 1:
                let envelopeId = try reader.readUInt64("envelopeId")
                let receivedAt = try reader.readUInt64("receivedAt")
                self = .push(.envelope(id: envelopeId, receivedAt: receivedAt, sealed: try reader.readVariable("sealed", maximum: WireLimits.envelope)))
            case 2:
                self = .push(.prekeysLow(remaining: try reader.readUInt32("remaining")))
            case let pushType:
                throw WireError.invalidValue(structure: Self.wireName, field: "pushType", value: "\(pushType)")
            }
        default:
            throw WireError.invalidValue(structure: Self.wireName, field: "frameType", value: "\(type)")
        }
    }
}

/// The payload of the first Noise handshake message from a device: the relay command version.
public struct ClientHello: Hashable, Sendable, WireCodable {
    public static let wireName = "ClientHello"
    public var version: UInt8

    public init(version: UInt8 = RelayProtocol.version) { self.version = version }

    public func encode(to writer: inout WireWriter) { writer.writeUInt8(version) }

    public init(from reader: inout WireReader) throws {
        version = try reader.readUInt8("version")
    }
}
