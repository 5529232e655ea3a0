// Certificates, revocation and groups through a real relay process: every directory entry the
// client uses is checked against the root pinned from the invite code.

import Foundation
import RatsboteCrypto
import RatsboteStorage
import RatsboteTestSupport
import RatsboteWire
import Testing

@testable import RatsboteClient

extension Scenario {
    /// Runs a `ratsbote-relay` operator command on the scenario's data folder.
    @discardableResult
    func operatorCommand(_ arguments: [String]) throws -> ProcessResult {
        let result = try runProcess(
            binaryFolder().appendingPathComponent("ratsbote-relay"), [arguments[0], "--data", relay.data.path] + arguments.dropFirst())
        #expect(result.status == 0, "ratsbote-relay \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        return result
    }
}

/// Expects `body` to throw ``ClientError/certificateRejected(userId:reason:)`` for `userId`, and
/// returns the reason.
func expectCertificateRejected(_ userId: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void)
    -> CertificateError?
{
    do {
        try body()
        Issue.record("expected certificateRejected for \(userId), but the call succeeded", sourceLocation: sourceLocation)
    } catch ClientError.certificateRejected(let rejected, let reason) {
        #expect(rejected == userId, sourceLocation: sourceLocation)
        return reason
    } catch {
        Issue.record("expected certificateRejected for \(userId), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

@Suite(.serialized) struct TrustThroughRelayTests {
    @Test func directorySearchesCertifiedNameRoleAndUnit() throws {
        let scenario = try Scenario()
        let anna = try scenario.enroll("Anna Schmidt", role: "Ratsmitglied", unit: "Fraktion Bürgerliste")
        let jens = try scenario.enroll("Jens Becker", role: "Sachbearbeitung", unit: "Dezernat II")
        let werke = try scenario.enroll("Petra Lang", role: "Geschäftsführung", unit: "Stadtwerke GmbH")
        let account = try scenario.open("Anna Schmidt")

        #expect(try account.directory("").map(\.userId).sorted() == [anna, jens, werke].sorted())
        #expect(try account.directory("Sachbearbeitung").map(\.userId) == [jens])
        #expect(try account.directory("stadtwerke").map(\.userId) == [werke])
        #expect(try account.directory("Schmidt").map(\.userId) == [anna])
        #expect(try account.directory("Oberbürgermeister").isEmpty)

        let entry = try #require(try account.directory(jens).first)
        #expect(entry.displayName == "Jens Becker")
        #expect(entry.role == "Sachbearbeitung")
        #expect(entry.unit == "Dezernat II")
        let certificate = try ParticipantCertificate.decode(try #require(entry.devices.first).certificate)
        #expect(certificate.userId == jens)
        #expect(certificate.validUntil > certificate.validFrom)
    }

    @Test func directoryRendersNamesFromCertificatesNotFromTheRelay() throws {
        let scenario = try Scenario()
        _ = try scenario.enroll("Anna Schmidt")
        let jens = try scenario.enroll("Jens Becker", role: "Sachbearbeitung", unit: "Dezernat II")

        // The relay's user row now claims another role; the certificate still states the old one.
        let database = try Database(path: scenario.relay.data.appendingPathComponent("relay.sqlite").path, walMode: true)
        try database.query("UPDATE users SET role = 'Oberbürgermeister' WHERE id = ?", [.text(jens)])
        let entry = try #require(try scenario.open("Anna Schmidt").directory(jens).first)
        #expect(entry.role == "Sachbearbeitung")
    }

    @Test func groupSendFansOutToEveryMember() throws {
        let scenario = try Scenario()
        let anna = try scenario.enroll("Anna Schmidt", role: "Ratsmitglied", unit: "Fraktion Bürgerliste")
        let jens = try scenario.enroll("Jens Becker", role: "Sachbearbeitung", unit: "Dezernat II")
        let petra = try scenario.enroll("Petra Lang", role: "Geschäftsführung", unit: "Stadtwerke GmbH")
        try scenario.operatorCommand(["group", "create", "ausschuss-umwelt", "--name", "Ausschuss für Stadtentwicklung und Umwelt"])
        for member in [anna, jens, petra] { try scenario.operatorCommand(["group", "add", "ausschuss-umwelt", member]) }

        let report = try scenario.open("Jens Becker").send(
            to: "Ausschuss für Stadtentwicklung und Umwelt", subject: "Vorlage 12/2026", body: "Bitte bis Freitag prüfen.")
        #expect(report.recipient.userId == "ausschuss-umwelt")
        #expect(report.groupMembers.sorted() == [anna, petra].sorted())
        #expect(report.queued == 0)

        for name in ["Anna Schmidt", "Petra Lang"] {
            #expect(try scenario.open(name).sync().received == 1, "\(name)")
            let message = try #require(try scenario.open(name).inbox().first)
            #expect(message.id == report.messageId)
            #expect(message.content.body == "Bitte bis Freitag prüfen.")
            #expect(message.peer.userId == jens)
        }
        #expect(try scenario.open("Jens Becker").sync().received == 0)

        // Removing a member signs a new revision; the next send skips her.
        try scenario.operatorCommand(["group", "remove", "ausschuss-umwelt", petra])
        let second = try scenario.open("Jens Becker").send(to: "ausschuss-umwelt", subject: "Nachtrag", body: "Nur noch Anna.")
        #expect(second.groupMembers == [anna])
        #expect(try scenario.open("Petra Lang").sync().received == 0)
        #expect(try scenario.open("Anna Schmidt").sync().received == 1)
    }

    @Test func substitutedKeyIsDetectedAndRefused() throws {
        let scenario = try Scenario()
        _ = try scenario.enroll("Anna Schmidt")
        let jens = try scenario.enroll("Jens Becker")

        // The relay now serves another identity and envelope key for Jens; his certificate still
        // names the keys generated on his device.
        let database = try Database(path: scenario.relay.data.appendingPathComponent("relay.sqlite").path, walMode: true)
        try database.query(
            "UPDATE devices SET identity_key = ?, envelope_key = ? WHERE user_id = ?",
            [.blob(Ed25519SigningKey.generate().publicKey.rawRepresentation), .blob(Random.bytes(count: 32)), .text(jens)])

        let reason = expectCertificateRejected(jens) { _ = try scenario.open("Anna Schmidt").send(to: jens, subject: "s", body: "secret") }
        #expect(reason == .fieldMismatch(field: "identityKey"))
        #expect(try scenario.open("Anna Schmidt").pendingCount() == 0)
        #expect(try scenario.open("Anna Schmidt").directory(jens).isEmpty)
    }

    @Test func forgedCertificateIsRefused() throws {
        let scenario = try Scenario()
        _ = try scenario.enroll("Anna Schmidt")
        let jens = try scenario.enroll("Jens Becker")

        // A certificate with Jens's real keys but signed by a key the root never certified.
        let database = try Database(path: scenario.relay.data.appendingPathComponent("relay.sqlite").path, walMode: true)
        let bytes = try #require(try database.query("SELECT bytes FROM certificates ORDER BY serial DESC LIMIT 1").first?.first?.bytes)
        let forged = try ParticipantCertificate.decode(bytes).signed(by: Ed25519SigningKey.generate())
        try database.query("UPDATE certificates SET bytes = ? WHERE bytes = ?", [.blob(forged.encoded()), .blob(bytes)])

        let reason = expectCertificateRejected(jens) { _ = try scenario.open("Anna Schmidt").send(to: jens, subject: "s", body: "x") }
        #expect(reason == .unknownIssuer(structure: "ParticipantCertificate"))
    }

    @Test func expiredTermStopsSending() throws {
        let scenario = try Scenario()
        _ = try scenario.enroll("Anna Schmidt")
        let jens = try scenario.enroll("Jens Becker")
        _ = try scenario.open("Anna Schmidt").send(to: jens, subject: "s", body: "during the term")

        try scenario.operatorCommand(["renew", jens, "--valid-from", "2019-11-01", "--valid-until", "2024-10-31"])
        let reason = expectCertificateRejected(jens) { _ = try scenario.open("Anna Schmidt").send(to: jens, subject: "s", body: "after") }
        guard case .expired(let structure, _, _)? = reason else {
            Issue.record("expected an expired certificate, got \(String(describing: reason))")
            return
        }
        #expect(structure == "ParticipantCertificate")

        // A renewed term makes him reachable again; the old serials stay revoked.
        try scenario.operatorCommand(["renew", jens])
        _ = try scenario.open("Anna Schmidt").send(to: jens, subject: "s", body: "new term")
        #expect(try scenario.open("Jens Becker").sync().received == 2)
    }

    @Test func revocationReachesAClientThatWasOffline() throws {
        let scenario = try Scenario()
        let anna = try scenario.enroll("Anna Schmidt")
        let jens = try scenario.enroll("Jens Becker")
        _ = try scenario.open("Anna Schmidt").send(to: jens, subject: "s", body: "first")
        #expect(try scenario.open("Jens Becker").sync().received == 1)

        // Anna writes while the relay is down: the envelope waits in her outbox, encrypted.
        #expect(scenario.relay.stop() == 0)
        #expect(try scenario.open("Anna Schmidt").send(to: jens, subject: "s", body: "queued").queued == 1)

        // Jens's laptop is lost; the operator revokes him while Anna is offline.
        try scenario.operatorCommand(["revoke", jens])
        try scenario.relay.start()

        // Anna's next sync fetches the revocation list; the relay refuses the queued envelope.
        let report = try scenario.open("Anna Schmidt").sync()
        #expect(report.sent == 0)
        #expect(report.pending == 0)
        let account = try scenario.open("Anna Schmidt")
        let trust = try #require(try account.storedTrust())
        #expect(!trust.material.revocations.serials.isEmpty)

        expectClientError(.recipientRevoked(jens)) { try scenario.open("Anna Schmidt").send(to: jens, subject: "s", body: "online") }
        #expect(scenario.relay.stop() == 0)
        expectClientError(.recipientRevoked(jens)) { try scenario.open("Anna Schmidt").send(to: jens, subject: "s", body: "offline") }
        #expect(try scenario.open("Anna Schmidt").pendingCount() == 0)
        _ = anna
    }

    @Test func envelopeFromRevokedSenderIsRejected() throws {
        let scenario = try Scenario()
        let anna = try scenario.enroll("Anna Schmidt")
        let jens = try scenario.enroll("Jens Becker")
        _ = try scenario.open("Anna Schmidt").send(to: jens, subject: "s", body: "hello")
        _ = try scenario.open("Jens Becker").sync()
        _ = try scenario.open("Jens Becker").send(to: anna, subject: "s", body: "sent before the revocation")

        try scenario.operatorCommand(["revoke", jens])
        let report = try scenario.open("Anna Schmidt").sync()
        // Both the note and Jens's delivery receipt for "hello" carry his revoked certificate.
        #expect(report.received == 0)
        #expect(report.receipts == 0)
        #expect(report.rejected == 2)
    }

    @Test func wrongRootInInviteIsRefusedAtEnrollment() throws {
        let scenario = try Scenario()
        var invite = try InviteCode(text: try scenario.relay.invite(name: "Anna Schmidt", role: "Ratsmitglied", unit: "Fraktion"))
        let pinned = [UInt8](repeating: 0x5A, count: 32)
        invite.rootFingerprint = pinned
        do {
            _ = try Account.enroll(
                home: scenario.home("Anna Schmidt"), invite: invite, passphrase: scenario.passphrase("Anna Schmidt"),
                keyStoreParameters: Scenario.keyStoreParameters)
            Issue.record("enrollment with a wrong root fingerprint succeeded")
        } catch ClientError.trustRejected(.rootMismatch(let expected, _)) {
            #expect(expected == Encoding.hex(pinned))
        }
        #expect(!scenario.home("Anna Schmidt").exists)
    }
}
