// Certificate structures: codecs, limits, the chain checks of TrustAnchor, and the vector file
// protocol/vectors/certificates.json.

import Foundation
import RatsboteCrypto
import RatsboteTestSupport
import RatsboteWire
import Testing

/// A fixed organisation: root and issuing keys from constant seeds, so signatures are reproducible.
enum Organisation {
    static func key(_ byte: UInt8) -> Ed25519SigningKey {
        try! Ed25519SigningKey(seed: SecureBytes(copying: [UInt8](repeating: byte, count: 32)))
    }

    static let root = key(0xA1)
    static let issuing = key(0xB2)
    static let device = key(0xC3)
    static let start: UInt64 = 1_780_000_000
    static let end: UInt64 = 1_937_000_000
    static let now: UInt64 = 1_800_000_000

    static var fingerprint: [UInt8] { try! BLAKE2b.hash(root.publicKey.rawRepresentation) }

    static let issuer = IssuerCertificate(
        serial: 1, issuerKey: issuing.publicKey.rawRepresentation, validFrom: start - 86_400, validUntil: end + 86_400
    ).signed(by: root)

    static let participant = ParticipantCertificate(
        serial: 17, userId: "anna-schmidt", deviceId: 1, displayName: "Anna Schmidt", role: "Ratsmitglied", unit: "Fraktion Bürgerliste",
        validFrom: start, validUntil: end, identityKey: device.publicKey.rawRepresentation, envelopeKey: Samples.key2, issuerKey: []
    ).signed(by: issuing)

    static let revocations = RevocationList(issuedAt: now, serials: [3, 9, 12]).signed(by: issuing)

    static let group = GroupDefinition(
        groupId: "ausschuss-umwelt", name: "Ausschuss für Stadtentwicklung und Umwelt", kind: .committee,
        members: ["anna-schmidt", "stadtwerke"], revision: 2, issuedAt: now
    ).signed(by: issuing)

    static var anchor: TrustAnchor {
        try! TrustAnchor(rootKey: root.publicKey.rawRepresentation, pinnedFingerprint: fingerprint, issuer: issuer)
    }

    static var device1: DeviceKeys {
        DeviceKeys(deviceId: 1, identityKey: device.publicKey.rawRepresentation, envelopeKey: Samples.key2, certificate: participant.encoded())
    }
}

/// Expects `body` to throw exactly `expected`.
func expectCertificateError(_ expected: CertificateError, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected \(expected), but the check passed", sourceLocation: sourceLocation)
    } catch let error as CertificateError {
        #expect(error == expected, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(expected), got \(error)", sourceLocation: sourceLocation)
    }
}

struct CertificateTests {
    // MARK: - Codecs

    @Test func structuresRoundTripAndRejectTruncation() throws {
        try checkCodec(Organisation.issuer)
        try checkCodec(Organisation.participant)
        try checkCodec(Organisation.revocations)
        try checkCodec(Organisation.group)
        try checkCodec(
            TrustMaterial(
                rootKey: Organisation.root.publicKey.rawRepresentation, issuer: Organisation.issuer, revocations: Organisation.revocations,
                groups: [Organisation.group]))
    }

    @Test func unknownVersionsAndKindsAreRejected() {
        var bytes = Organisation.participant.encoded()
        bytes[0] = 2
        expectDecodeError(ParticipantCertificate.self, bytes, .unsupportedVersion(structure: "ParticipantCertificate", version: 2))
        bytes = Organisation.issuer.encoded()
        bytes[0] = 0
        expectDecodeError(IssuerCertificate.self, bytes, .unsupportedVersion(structure: "IssuerCertificate", version: 0))

        var group = Organisation.group.encoded()
        // version, suite, id and name precede the kind byte.
        let kindOffset = 1 + 2 + 1 + Organisation.group.groupId.utf8.count + 1 + Organisation.group.name.utf8.count
        #expect(group[kindOffset] == GroupKind.committee.rawValue)
        group[kindOffset] = 7
        expectDecodeError(GroupDefinition.self, group, .invalidValue(structure: "GroupDefinition", field: "kind", value: "7"))
    }

    @Test func unorderedSerialsAndMembersAreRejected() {
        let serials = RevocationList(issuedAt: 1, serials: [5, 5], issuerKey: Samples.key, signature: Samples.signature).encoded()
        expectDecodeError(
            RevocationList.self, serials, .invalidValue(structure: "RevocationList", field: "serials", value: "not strictly ascending at index 1"))
        let members = GroupDefinition(
            groupId: "g", name: "G", kind: .unit, members: ["b", "a"], revision: 1, issuedAt: 1, issuerKey: Samples.key,
            signature: Samples.signature
        ).encoded()
        expectDecodeError(
            GroupDefinition.self, members, .invalidValue(structure: "GroupDefinition", field: "members", value: "not strictly ascending at index 1"))
    }

    @Test func limitedFieldsAtMaximumAndOneOver() throws {
        var certificate = Organisation.participant
        certificate.userId = String(repeating: "u", count: WireLimits.userId)
        certificate.role = String(repeating: "r", count: WireLimits.displayText)
        try checkCodec(certificate)
        certificate.role += "r"
        expectDecodeError(
            ParticipantCertificate.self, certificate.encoded(),
            .tooLong(structure: "ParticipantCertificate", field: "role", maximum: WireLimits.displayText, actual: WireLimits.displayText + 1))

        var list = RevocationList(issuedAt: 1, serials: (1...UInt64(CertificateLimits.revokedSerials)).map { $0 }, issuerKey: Samples.key, signature: Samples.signature)
        #expect(try RevocationList.decode(list.encoded()) == list)
        list.serials.append(UInt64(CertificateLimits.revokedSerials) + 1)
        expectDecodeError(
            RevocationList.self, list.encoded(),
            .tooLong(structure: "RevocationList", field: "serials", maximum: CertificateLimits.revokedSerials, actual: CertificateLimits.revokedSerials + 1))

        var device = Organisation.device1
        device.certificate = [UInt8](repeating: 1, count: CertificateLimits.participantCertificateBytes + 1)
        let frame = RelayFrame.response(id: 1, .directory([DirectoryEntry(userId: "a", displayName: "A", role: "r", unit: "u", devices: [device])]))
        expectDecodeError(
            RelayFrame.self, frame.encoded(),
            .tooLong(
                structure: "RelayFrame", field: "device.certificate", maximum: CertificateLimits.participantCertificateBytes,
                actual: CertificateLimits.participantCertificateBytes + 1))
    }

    // MARK: - Chain checks

    @Test func validChainPasses() throws {
        let anchor = Organisation.anchor
        try anchor.verify(Organisation.revocations, now: Organisation.now)
        try anchor.verify(Organisation.group, now: Organisation.now)
        let certificate = try anchor.verify(Organisation.device1, of: "anna-schmidt", now: Organisation.now, revocations: Organisation.revocations)
        #expect(certificate == Organisation.participant)
    }

    @Test func wrongRootIsRejected() {
        let otherRoot = Organisation.key(0x01)
        let expected = Encoding.hex(Organisation.fingerprint)
        let actual = Encoding.hex(try! BLAKE2b.hash(otherRoot.publicKey.rawRepresentation))
        expectCertificateError(.rootMismatch(expected: expected, actual: actual)) {
            _ = try TrustAnchor(rootKey: otherRoot.publicKey.rawRepresentation, pinnedFingerprint: Organisation.fingerprint, issuer: Organisation.issuer)
        }
        // A relay that serves another root together with a matching fingerprint cannot help
        // itself: the client compares with the fingerprint from the invite, never the relay's.
        let forgedIssuer = Organisation.issuer.signed(by: otherRoot)
        expectCertificateError(.invalidSignature(structure: "IssuerCertificate")) {
            _ = try TrustAnchor(rootKey: Organisation.root.publicKey.rawRepresentation, pinnedFingerprint: Organisation.fingerprint, issuer: forgedIssuer)
        }
    }

    @Test func certificateFromAnotherIssuerIsRejected() {
        let stranger = Organisation.participant.signed(by: Organisation.key(0x02))
        expectCertificateError(.unknownIssuer(structure: "ParticipantCertificate")) {
            try Organisation.anchor.verify(stranger, now: Organisation.now, revocations: nil)
        }
    }

    @Test func expiredAndNotYetValidAreRejected() {
        let anchor = Organisation.anchor
        let certificate = Organisation.participant
        expectCertificateError(.notYetValid(structure: "ParticipantCertificate", validFrom: Organisation.start, now: Organisation.start - 1)) {
            try anchor.verify(certificate, now: Organisation.start - 1, revocations: nil)
        }
        expectCertificateError(.expired(structure: "ParticipantCertificate", validUntil: Organisation.end, now: Organisation.end)) {
            try anchor.verify(certificate, now: Organisation.end, revocations: nil)
        }
        let late = Organisation.end + 86_400
        expectCertificateError(.expired(structure: "IssuerCertificate", validUntil: late, now: late)) {
            try anchor.verify(certificate, now: late, revocations: nil)
        }
    }

    @Test func revokedSerialIsRejected() {
        let revocations = RevocationList(issuedAt: Organisation.now, serials: [2, 17, 40]).signed(by: Organisation.issuing)
        #expect(revocations.contains(17))
        #expect(!revocations.contains(18))
        expectCertificateError(.revoked(serial: 17)) {
            try Organisation.anchor.verify(Organisation.participant, now: Organisation.now, revocations: revocations)
        }
    }

    @Test func tamperedFieldsAreRejected() {
        let anchor = Organisation.anchor
        let tamperings: [(String, (inout ParticipantCertificate) -> Void)] = [
            ("displayName", { $0.displayName = "Anna Schmitt" }),
            ("role", { $0.role = "Oberbürgermeisterin" }),
            ("unit", { $0.unit = "Fraktion B" }),
            ("validUntil", { $0.validUntil += 1 }),
            ("serial", { $0.serial += 1 }),
            ("identityKey", { $0.identityKey = Samples.key }),
        ]
        for (field, tamper) in tamperings {
            var certificate = Organisation.participant
            tamper(&certificate)
            do {
                try anchor.verify(certificate, now: Organisation.now, revocations: nil)
                Issue.record("a certificate with a changed \(field) passed")
            } catch {
                #expect(error == .invalidSignature(structure: "ParticipantCertificate"), "\(field)")
            }
        }
        var list = Organisation.revocations
        list.serials = [3, 9]
        expectCertificateError(.invalidSignature(structure: "RevocationList")) { try anchor.verify(list, now: Organisation.now) }
        var group = Organisation.group
        group.members.append("zoe-mueller")
        expectCertificateError(.invalidSignature(structure: "GroupDefinition")) { try anchor.verify(group, now: Organisation.now) }
    }

    @Test func certificateMustMatchItsDirectoryEntry() {
        let anchor = Organisation.anchor
        var device = Organisation.device1
        device.identityKey = Samples.key
        expectCertificateError(.fieldMismatch(field: "identityKey")) {
            _ = try anchor.verify(device, of: "anna-schmidt", now: Organisation.now, revocations: nil)
        }
        device = Organisation.device1
        device.envelopeKey = Samples.key
        expectCertificateError(.fieldMismatch(field: "envelopeKey")) {
            _ = try anchor.verify(device, of: "anna-schmidt", now: Organisation.now, revocations: nil)
        }
        device = Organisation.device1
        device.deviceId = 2
        expectCertificateError(.fieldMismatch(field: "deviceId")) {
            _ = try anchor.verify(device, of: "anna-schmidt", now: Organisation.now, revocations: nil)
        }
        expectCertificateError(.fieldMismatch(field: "userId")) {
            _ = try anchor.verify(Organisation.device1, of: "jens-becker", now: Organisation.now, revocations: nil)
        }
        device = Organisation.device1
        device.certificate = []
        expectCertificateError(.malformed(reason: "no certificate for anna-schmidt.1")) {
            _ = try anchor.verify(device, of: "anna-schmidt", now: Organisation.now, revocations: nil)
        }
    }

    // MARK: - Vectors

    static var vectorFile: URL { packageRoot().appendingPathComponent("protocol/vectors/certificates.json") }

    static func currentVectors() -> [[String: String]] {
        let structures: [(String, String, [UInt8], [UInt8])] = [
            ("IssuerCertificate", "IssuerCertificate", Organisation.issuer.encoded(), Organisation.issuer.signedBytes),
            ("ParticipantCertificate", "ParticipantCertificate", Organisation.participant.encoded(), Organisation.participant.signedBytes),
            ("RevocationList", "RevocationList", Organisation.revocations.encoded(), Organisation.revocations.signedBytes),
            ("GroupDefinition", "GroupDefinition", Organisation.group.encoded(), Organisation.group.signedBytes),
        ]
        var vectors: [[String: String]] = [[
            "name": "keys", "rootSeed": Encoding.hex([UInt8](repeating: 0xA1, count: 32)),
            "rootPublicKey": Encoding.hex(Organisation.root.publicKey.rawRepresentation),
            "rootFingerprint": Encoding.hex(Organisation.fingerprint),
            "issuingSeed": Encoding.hex([UInt8](repeating: 0xB2, count: 32)),
            "issuingPublicKey": Encoding.hex(Organisation.issuing.publicKey.rawRepresentation),
            "deviceIdentityKey": Encoding.hex(Organisation.device.publicKey.rawRepresentation),
            "now": String(Organisation.now),
        ]]
        for (name, structure, encoded, signed) in structures {
            vectors.append(["name": name, "structure": structure, "hex": Encoding.hex(encoded), "signedBytes": Encoding.hex(signed)])
        }
        return vectors
    }

    @Test func encodingsMatchProtocolVectors() throws {
        let current = Self.currentVectors()
        if ProcessInfo.processInfo.environment["RATSBOTE_REGENERATE_VECTORS"] == "1" {
            let document: [String: Any] = [
                "description": "Signed certificate structures from fixed seeds (protocol/certificates.md). Ed25519 signatures are deterministic, so every byte is reproducible. Generated by Tests/RatsboteWireTests/CertificateTests.swift.",
                "vectors": current,
            ]
            let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: Self.vectorFile)
        }
        let data = try Data(contentsOf: Self.vectorFile)
        let stored = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["vectors"] as? [[String: String]] ?? []
        #expect(stored.count == current.count, "certificates.json has \(stored.count) vectors, expected \(current.count)")
        for vector in current {
            #expect(stored.first { $0["name"] == vector["name"] } == vector, "vector \(vector["name"]!) differs from certificates.json")
        }
        // The stored bytes must also check out as a chain, so the file is usable on its own.
        let anchor = Organisation.anchor
        for vector in stored where vector["structure"] != nil {
            let bytes = try Encoding.bytes(fromHex: vector["hex"] ?? "")
            switch vector["structure"] {
            case "IssuerCertificate": #expect(try IssuerCertificate.decode(bytes) == anchor.issuer)
            case "ParticipantCertificate": try anchor.verify(try ParticipantCertificate.decode(bytes), now: Organisation.now, revocations: nil)
            case "RevocationList": try anchor.verify(try RevocationList.decode(bytes), now: Organisation.now)
            case "GroupDefinition": try anchor.verify(try GroupDefinition.decode(bytes), now: Organisation.now)
            default: Issue.record("unknown structure in vector \(vector["name"] ?? "?")")
            }
        }
    }
}
