import RatsboteWire
import Testing

struct StructureTests {
    @Test(arguments: Samples.frames.map(\.0))
    func frameRoundTripsAndRejectsTruncation(name: String) throws {
        let frame = Samples.frames.first { $0.0 == name }!.1
        try checkCodec(frame)
    }

    @Test func inviteCodeRoundTripsInBinaryAndText() throws {
        try checkCodec(Samples.invite)
        let text = Samples.invite.text
        #expect(text.hasPrefix("RB1-"))
        #expect(try InviteCode(text: "  \(text)\n") == Samples.invite)
    }

    @Test func inviteCodeRejectsWrongPrefixAndVersion() throws {
        #expect(throws: WireError.invalidValue(structure: "InviteCode", field: "prefix", value: "expected RB1-")) {
            try InviteCode(text: "XX1-AAAA")
        }
        #expect(throws: WireError.invalidValue(structure: "InviteCode", field: "text", value: "not base64url")) {
            try InviteCode(text: "RB1-@@@")
        }
        var bytes = Samples.invite.encoded()
        bytes[0] = 2
        expectDecodeError(InviteCode.self, bytes, .unsupportedVersion(structure: "InviteCode", version: 2))
    }

    @Test func clientHelloRoundTrips() throws {
        try checkCodec(ClientHello())
    }

    @Test func unknownFrameTypeOpcodeAndTagsAreRejected() {
        expectDecodeError(RelayFrame.self, [9, 0, 0, 0, 1], .invalidValue(structure: "RelayFrame", field: "frameType", value: "9"))
        expectDecodeError(RelayFrame.self, [1, 0, 0, 0, 1, 0x00, 0x99], .invalidValue(structure: "RelayFrame", field: "opcode", value: "153"))
        expectDecodeError(RelayFrame.self, [2, 0, 0, 0, 1, 99], .invalidValue(structure: "RelayFrame", field: "responseTag", value: "99"))
        expectDecodeError(RelayFrame.self, [3, 0, 0, 0, 0, 9], .invalidValue(structure: "RelayFrame", field: "pushType", value: "9"))
    }

    @Test func unknownSuiteIsRejected() {
        var writer = WireWriter()
        RelayFrame.response(id: 7, .directory([Samples.entry])).encode(to: &writer)
        var bytes = writer.bytes
        // The suite of the only device follows its 4-byte device id and precedes two keys and an
        // empty certificate (one length byte); find it by encoding position.
        let suiteOffset = bytes.count - 64 - 2 - 1
        bytes[suiteOffset] = 0
        bytes[suiteOffset + 1] = 2
        expectDecodeError(RelayFrame.self, bytes, .invalidValue(structure: "RelayFrame", field: "device.suite", value: "unknown suite 2"))
    }

    @Test func optionalFlagOtherThanZeroOrOneIsRejected() {
        let frame = RelayFrame.response(id: 6, .prekeys([DevicePrekeyBundle(
            address: Samples.address, device: Samples.device, signedPrekey: nil, oneTimePrekey: nil)]))
        var bytes = frame.encoded()
        bytes[bytes.count - 2] = 2
        expectDecodeError(RelayFrame.self, bytes, .invalidValue(structure: "RelayFrame", field: "bundle.hasSignedPrekey", value: "2"))
    }

    // MARK: - Every limited field at its maximum and one over

    static func limitCases() -> [(String, RelayFrame, RelayFrame, String, Int)] {
        let atUser = String(repeating: "u", count: WireLimits.userId)
        let atText = String(repeating: "t", count: WireLimits.displayText)
        let entry = { (name: String) in
            DirectoryEntry(userId: "u", displayName: name, role: "r", unit: "x", devices: [])
        }
        let manyIds = { (count: Int) in RelayFrame.request(id: 1, .acknowledge(ids: (0..<UInt64(count)).map { $0 })) }
        let prekeys = { (count: Int) in
            RelayFrame.request(id: 1, .uploadPrekeys(signed: Samples.signedPrekey, oneTime: (0..<count).map { OneTimePrekey(id: UInt32($0), publicKey: Samples.key) }))
        }
        let sealed = { (count: Int) in
            RelayFrame.request(id: 1, .send(SendRequest(recipient: Samples.address, idempotencyId: [UInt8](repeating: 1, count: 16), sealed: [UInt8](repeating: 0, count: count))))
        }
        let devices = { (count: Int) in
            RelayFrame.response(id: 1, .directory([DirectoryEntry(userId: "u", displayName: "d", role: "r", unit: "x",
                devices: (0..<count).map { DeviceKeys(deviceId: UInt32($0), identityKey: Samples.key, envelopeKey: Samples.key2) })]))
        }
        let entries = { (count: Int) in RelayFrame.response(id: 1, .directory((0..<count).map { _ in entry("d") })) }
        return [
            ("claimPrekeys.userId", .request(id: 1, .claimPrekeys(userId: atUser)), .request(id: 1, .claimPrekeys(userId: atUser + "u")), "userId", WireLimits.userId),
            ("directory.query", .request(id: 1, .directory(query: atText)), .request(id: 1, .directory(query: atText + "q")), "query", WireLimits.query),
            ("entry.displayName", .response(id: 1, .directory([entry(atText)])), .response(id: 1, .directory([entry(atText + "n")])), "entry.displayName", WireLimits.displayText),
            ("acknowledge.ids", manyIds(WireLimits.acknowledgementIds), manyIds(WireLimits.acknowledgementIds + 1), "ids", WireLimits.acknowledgementIds),
            ("uploadPrekeys.oneTime", prekeys(WireLimits.prekeysPerUpload), prekeys(WireLimits.prekeysPerUpload + 1), "oneTimePrekeys", WireLimits.prekeysPerUpload),
            ("send.sealed", sealed(WireLimits.envelope), sealed(WireLimits.envelope + 1), "sealed", WireLimits.envelope),
            ("entry.devices", devices(WireLimits.devicesPerUser), devices(WireLimits.devicesPerUser + 1), "entry.devices", WireLimits.devicesPerUser),
            ("directory.entries", entries(WireLimits.directoryEntries), entries(WireLimits.directoryEntries + 1), "entries", WireLimits.directoryEntries),
            ("failure.reason",
             .response(id: 1, .failure(RelayFailure(.internalError, String(repeating: "r", count: WireLimits.errorReason)))),
             .response(id: 1, .failure(RelayFailure(.internalError, String(repeating: "r", count: WireLimits.errorReason + 1)))),
             "reason", WireLimits.errorReason),
        ]
    }

    @Test(arguments: limitCases().map(\.0))
    func fieldAtMaximumPassesAndOneOverFails(name: String) throws {
        let (_, atMaximum, overMaximum, field, maximum) = Self.limitCases().first { $0.0 == name }!
        #expect(try RelayFrame.decode(atMaximum.encoded()) == atMaximum)
        expectDecodeError(RelayFrame.self, overMaximum.encoded(), .tooLong(structure: "RelayFrame", field: field, maximum: maximum, actual: maximum + 1))
    }

    @Test func inviteHostAtMaximumAndOneOver() throws {
        var invite = Samples.invite
        invite.host = String(repeating: "h", count: WireLimits.hostName)
        #expect(try InviteCode.decode(invite.encoded()) == invite)
        invite.host += "h"
        expectDecodeError(InviteCode.self, invite.encoded(), .tooLong(structure: "InviteCode", field: "host", maximum: 253, actual: 254))
    }
}
