// The relay's side of trust: certificates issued at enrollment, the trust request, revocation,
// renewal and groups, with the root key moved out of the data folder.

import Foundation
import RatsboteCrypto
import RatsboteRelay
import RatsboteTestSupport
import RatsboteWire
import Testing

@Suite struct RelayTrustTests {
    /// Fetches and checks the trust material against the fingerprint in `invite`.
    func trust(_ client: TestClient, invite: InviteCode) throws -> (TrustAnchor, TrustMaterial) {
        guard case .trust(let material) = try client.request(.trust) else { throw TestClientError.unexpected("no trust material") }
        let anchor = try TrustAnchor(rootKey: material.rootKey, pinnedFingerprint: invite.rootFingerprint, issuer: material.issuer)
        let now = UInt64(Date().timeIntervalSince1970)
        try anchor.verify(material.revocations, now: now)
        for group in material.groups { try anchor.verify(group, now: now) }
        return (anchor, material)
    }

    @Test func enrollmentIssuesCertificateWithoutRootKey() throws {
        let relay = try TestRelay()
        // The operator moves the root key offline right after init; the relay must not need it.
        try FileManager.default.removeItem(at: relay.data.appendingPathComponent("org-root.key"))
        let invite = try relay.invite(name: "Anna Schmidt")
        let device = TestDevice()
        let client = try TestClient(port: relay.port, relayKey: relay.relayKey, device: device)
        guard case .enrolled(let address, _, _, _) = try client.request(.enroll(device.enrollRequest(invite))) else {
            Issue.record("enrollment failed")
            return
        }

        let (anchor, material) = try trust(client, invite: invite)
        #expect(material.revocations.serials.isEmpty)
        guard case .directory(let entries) = try client.request(.directory(query: address.userId)) else {
            Issue.record("no directory response")
            return
        }
        let listed = try #require(entries.first?.devices.first)
        let certificate = try anchor.verify(listed, of: address.userId, now: UInt64(Date().timeIntervalSince1970), revocations: material.revocations)
        #expect(certificate.displayName == "Anna Schmidt")
        #expect(certificate.role == "Rat")
        #expect(certificate.unit == "Fraktion A")
        #expect(certificate.identityKey == device.identity.publicKey.rawRepresentation)
        #expect(certificate.envelopeKey == device.envelope.publicKey.rawRepresentation)
        #expect(certificate.validUntil - certificate.validFrom == UInt64(CertificateIssuer.defaultTerm))
    }

    @Test func revokeAndRenewFillTheRevocationList() throws {
        let relay = try TestRelay()
        let (_, anna, annaClient) = try relay.enrolledDevice(name: "Anna Schmidt")
        let (_, jens, _) = try relay.enrolledDevice(name: "Jens Becker")
        let invite = try relay.invite(name: "Dritte Person")

        let renewed = try relay.command(["renew", anna.userId, "--valid-until", "2031-10-31", "--json"])
        #expect(renewed.status == 0, "\(renewed.stderr)")
        #expect(renewed.stdout.contains("2031-10-31"))
        #expect(try relay.command(["revoke", jens.userId]).status == 0)

        let (anchor, material) = try trust(annaClient, invite: invite)
        // Serial 1 was Anna's first certificate, 2 Jens's; 3 is Anna's renewal.
        #expect(material.revocations.serials == [1, 2])
        guard case .directory(let entries) = try annaClient.request(.directory(query: "")) else {
            Issue.record("no directory response")
            return
        }
        // Jens is gone; the invited third person is listed without devices until she enrolls.
        #expect(entries.filter { !$0.devices.isEmpty }.map(\.userId) == [anna.userId])
        #expect(!entries.contains { $0.userId == jens.userId })
        let certificate = try anchor.verify(
            try #require(entries.first { $0.userId == anna.userId }?.devices.first), of: anna.userId, now: UInt64(Date().timeIntervalSince1970),
            revocations: material.revocations)
        #expect(certificate.serial == 3)

        let unknown = try relay.command(["renew", "nobody"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no user \"nobody\""))
        let backwards = try relay.command(["renew", anna.userId, "--valid-from", "2030-01-01", "--valid-until", "2029-01-01"])
        #expect(backwards.status == 2)
    }

    @Test func groupCommandsSignEachRevision() throws {
        let relay = try TestRelay()
        let (_, anna, client) = try relay.enrolledDevice(name: "Anna Schmidt")
        let invite = try relay.invite(name: "Jens Becker")

        #expect(try relay.command(["group", "create", "ausschuss-umwelt", "--name", "Ausschuss für Umwelt"]).status == 0)
        #expect(try relay.command(["group", "add", "ausschuss-umwelt", anna.userId]).status == 0)
        let listed = try relay.command(["group", "list", "--json"])
        #expect(listed.stdout.contains("\"revision\" : 2"))

        let (_, material) = try trust(client, invite: invite)
        let group = try #require(material.groups.first)
        #expect(group.groupId == "ausschuss-umwelt")
        #expect(group.kind == .committee)
        #expect(group.members == [anna.userId])
        #expect(group.revision == 2)

        let duplicate = try relay.command(["group", "create", "ausschuss-umwelt", "--name", "Noch einmal"])
        #expect(duplicate.status == 1)
        #expect(duplicate.stderr.contains("already has this id"))
        let clash = try relay.command(["group", "create", anna.userId, "--name", "Wie ein Benutzer"])
        #expect(clash.status == 1)
        let invalid = try relay.command(["group", "create", "Ausschuss Umwelt", "--name", "X"])
        #expect(invalid.status == 1)
        #expect(invalid.stderr.contains("invalid group"))
        let missing = try relay.command(["group", "add", "kein-ausschuss", anna.userId])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no group \"kein-ausschuss\""))
        let notMember = try relay.command(["group", "remove", "ausschuss-umwelt", "jens-becker"])
        #expect(notMember.status == 1)
        let german = try relay.command(["group", "add", "kein-ausschuss", anna.userId], environment: ["LANG": "de_DE.UTF-8"])
        #expect(german.stderr.contains("keine Gruppe"))
        let badAction = try relay.command(["group", "rename", "ausschuss-umwelt"])
        #expect(badAction.status == 2)
    }
}
