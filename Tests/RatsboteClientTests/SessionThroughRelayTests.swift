// Two and three parties through a real relay process, with every account reopened for each
// step, as a restarted client would.

import Foundation
import RatsboteCrypto
import RatsboteSession
import RatsboteTestSupport
import RatsboteWire
import Testing

@testable import RatsboteClient

@Suite(.serialized) struct SessionThroughRelayTests {
    @Test func longConversationBothDirections() throws {
        let scenario = try Scenario()
        let alice = try scenario.enroll("Alice Adler")
        let bob = try scenario.enroll("Bob Berg")

        // Bursts in both directions, so the ratchet steps many times; each call reopens the account.
        var expectedAtBob: [String] = []
        var expectedAtAlice: [String] = []
        for round in 0..<6 {
            for index in 0..<(round % 3 + 1) {
                let body = "alice to bob, round \(round), message \(index)"
                _ = try scenario.open("Alice Adler").send(to: bob, subject: "r\(round)", body: body)
                expectedAtBob.append(body)
            }
            #expect(try scenario.open("Bob Berg").sync().received == round % 3 + 1)
            for index in 0..<(round % 2 + 1) {
                let body = "bob to alice, round \(round), message \(index)"
                _ = try scenario.open("Bob Berg").send(to: alice, subject: "r\(round)", body: body)
                expectedAtAlice.append(body)
            }
            _ = try scenario.open("Alice Adler").sync()
        }
        #expect(try scenario.open("Bob Berg").inbox().map(\.content.body) == expectedAtBob)
        #expect(try scenario.open("Alice Adler").inbox().map(\.content.body) == expectedAtAlice)
    }

    @Test func outOfOrderLostAndDuplicatedEnvelopes() throws {
        let scenario = try Scenario()
        _ = try scenario.enroll("Alice Adler")
        let bob = try scenario.enroll("Bob Berg")
        _ = try scenario.open("Alice Adler").send(to: bob, subject: "first", body: "first")
        #expect(try scenario.open("Bob Berg").sync().received == 1)

        // Alice writes five notes while the relay is down: they wait in her outbox, encrypted.
        #expect(scenario.relay.stop() == 0)
        for index in 1...5 {
            let report = try scenario.open("Alice Adler").send(to: bob, subject: "n\(index)", body: "note \(index)")
            #expect(report.queued >= 1)
        }

        // Reorder the outbox (5, 3, 1, 4, 2), lose note 4, and duplicate note 2.
        let alice = try scenario.open("Alice Adler")
        let items = try alice.database.outbox()
        #expect(items.count == 5)
        try alice.database.transaction {
            try alice.database.database.query("DELETE FROM outbox")
            for position in [4, 2, 0, 3, 1, 1] where position != 3 {
                try alice.database.enqueue(messageId: items[position].messageId, recipient: items[position].recipient, sealed: items[position].sealed)
            }
        }
        try scenario.relay.start()
        _ = try scenario.open("Alice Adler").sync()

        let report = try scenario.open("Bob Berg").sync()
        #expect(report.received == 4)
        #expect(report.duplicates == 1)
        #expect(report.rejected == 0)
        let bodies = Set(try scenario.open("Bob Berg").inbox().map(\.content.body))
        #expect(bodies == ["first", "note 1", "note 2", "note 3", "note 5"])
    }

    @Test func simultaneousFirstContactConverges() throws {
        let scenario = try Scenario()
        let alice = try scenario.enroll("Alice Adler")
        let bob = try scenario.enroll("Bob Berg")

        // CLIENT alice and CLIENT bob both start a session before either has synced.
        _ = try scenario.open("Alice Adler").send(to: bob, subject: "hello", body: "from alice")
        _ = try scenario.open("Bob Berg").send(to: alice, subject: "hello", body: "from bob")
        #expect(try scenario.open("Alice Adler").sync().received == 1)
        #expect(try scenario.open("Bob Berg").sync().received == 1)

        // Both go on talking; every message must open on the other side.
        for index in 0..<4 {
            _ = try scenario.open("Alice Adler").send(to: bob, subject: "a\(index)", body: "alice \(index)")
            _ = try scenario.open("Bob Berg").send(to: alice, subject: "b\(index)", body: "bob \(index)")
            let atBob = try scenario.open("Bob Berg").sync()
            let atAlice = try scenario.open("Alice Adler").sync()
            #expect(atBob.rejected == 0)
            #expect(atAlice.rejected == 0)
        }
        #expect(try scenario.open("Bob Berg").inbox().filter { $0.content.body.hasPrefix("alice") }.count == 4)
        #expect(try scenario.open("Alice Adler").inbox().filter { $0.content.body.hasPrefix("bob") }.count == 4)
    }

    @Test func threePartiesAndDocuments() throws {
        let scenario = try Scenario()
        _ = try scenario.enroll("Amt Eins", role: "Sachbearbeitung", unit: "Dezernat I")
        let bob = try scenario.enroll("Bob Berg")
        let carol = try scenario.enroll("Carol Christ", role: "Geschäftsführung", unit: "Stadtwerke")

        let paper = Attachment(fileName: "Vorlage.pdf", mediaType: "application/pdf", data: (0..<200_000).map { UInt8($0 % 251) })
        for recipient in [bob, carol] {
            _ = try scenario.open("Amt Eins").send(to: recipient, subject: "Vorlage", body: "Anbei.", attachments: [paper])
        }
        for name in ["Bob Berg", "Carol Christ"] {
            #expect(try scenario.open(name).sync().received == 1)
            let message = try #require(try scenario.open(name).inbox().last)
            #expect(message.content.attachments == [paper])
        }
        // Carol answers Bob directly: a third pair of sessions.
        _ = try scenario.open("Carol Christ").send(to: bob, subject: "Frage", body: "Zur Vorlage: ...")
        #expect(try scenario.open("Bob Berg").sync().received == 1)
    }

    @Test func oneTimePrekeysUsedUpStillAllowFirstContact() throws {
        let scenario = try Scenario()
        _ = try scenario.enroll("Alice Adler")
        let bob = try scenario.enroll("Bob Berg")
        let before = try scenario.open("Bob Berg").database.oneTimePrekeyCount()

        // Claim every one-time prekey of Bob through the relay, as many first contacts would.
        let alice = try scenario.open("Alice Adler")
        let connection = try alice.connect()
        var claimed = 0
        while claimed <= before {
            guard case .prekeys(let bundles) = try connection.request(.claimPrekeys(userId: bob)) else { break }
            if bundles.first?.oneTimePrekey == nil { break }
            claimed += 1
        }
        #expect(claimed == before)

        // The signed prekey alone still starts a session.
        _ = try alice.send(to: bob, subject: "ohne Einmalschlüssel", body: "works")
        let bobAccount = try scenario.open("Bob Berg")
        #expect(try bobAccount.sync().received == 1)
        // Bob refilled after the relay reported few left.
        #expect(try bobAccount.database.oneTimePrekeyCount() >= Account.oneTimePrekeyBatch)
    }

    @Test func forgedEnvelopeIsRejectedAndLaterMessagesOpen() throws {
        let scenario = try Scenario()
        _ = try scenario.enroll("Alice Adler")
        let bob = try scenario.enroll("Bob Berg")
        _ = try scenario.open("Alice Adler").send(to: bob, subject: "s", body: "genuine 1")
        #expect(try scenario.open("Bob Berg").sync().received == 1)

        // Alice's device puts a well-formed but forged envelope in Bob's mailbox: the session
        // message inside is altered after encryption.
        let alice = try scenario.open("Alice Adler")
        var sessions = try alice.database.sessions(with: DeviceAddress(userId: bob, deviceId: 1))
        let payload = try MessagePayload(
            messageID: try MessageID(bytes: Random.bytes(count: 16)), sentAt: 0,
            content: .note(Note(subject: "x", body: "forged", threadID: try MessageID(bytes: Random.bytes(count: 16))))).encode()
        let message = try sessions.encrypt(payload)
        var bytes = message.encode()
        bytes[bytes.count - 1] ^= 1
        let forged = SealedSender.seal(
            SealedSenderContent(
                sender: alice.identity.address, senderIdentityKey: alice.identityKey.publicKey, certificate: [],
                message: try SessionMessage.decode(bytes)),
            to: try X25519PublicKey(rawRepresentation: try #require(try alice.database.contactDevice(DeviceAddress(userId: bob, deviceId: 1))).envelopeKey))
        let connection = try alice.connect()
        _ = try connection.request(.send(SendRequest(recipient: DeviceAddress(userId: bob, deviceId: 1), idempotencyId: Random.bytes(count: 16), sealed: forged)))
        _ = try connection.request(.send(SendRequest(recipient: DeviceAddress(userId: bob, deviceId: 1), idempotencyId: Random.bytes(count: 16), sealed: Random.bytes(count: 300))))

        let report = try scenario.open("Bob Berg").sync()
        #expect(report.rejected == 2)
        #expect(report.received == 0)

        _ = try scenario.open("Alice Adler").send(to: bob, subject: "s", body: "genuine 2")
        #expect(try scenario.open("Bob Berg").sync().received == 1)
        #expect(try scenario.open("Bob Berg").inbox().map(\.content.body) == ["genuine 1", "genuine 2"])
    }

    @Test func changedKeyBlocksSendingUntilConfirmed() throws {
        let scenario = try Scenario()
        _ = try scenario.enroll("Alice Adler")
        let bob = try scenario.enroll("Bob Berg")
        _ = try scenario.open("Alice Adler").send(to: bob, subject: "s", body: "before")

        // Alice's device had pinned another key for Bob, as if the directory now served a new one.
        let alice = try scenario.open("Alice Adler")
        try alice.database.database.query("UPDATE contact_devices SET identity_key = ? WHERE user_id = ?", [.blob(Random.bytes(count: 32)), .text(bob)])
        expectClientError(.identityKeyChanged(userId: bob)) { try alice.send(to: bob, subject: "s", body: "blocked") }
        expectClientError(.identityKeyChanged(userId: bob)) { try scenario.open("Alice Adler").send(to: bob, subject: "s", body: "still blocked") }
        #expect(try scenario.open("Alice Adler").safetyNumber(with: bob).keyChanged)

        try scenario.open("Alice Adler").confirmSafetyNumber(of: bob)
        let report = try scenario.open("Alice Adler").safetyNumber(with: bob)
        #expect(report.verified)
        #expect(!report.keyChanged)
        _ = try scenario.open("Alice Adler").send(to: bob, subject: "s", body: "after")
        #expect(try scenario.open("Bob Berg").sync().received == 2)
    }

    @Test func safetyNumberIsTheSameOnBothSides() throws {
        let scenario = try Scenario()
        let alice = try scenario.enroll("Alice Adler")
        let bob = try scenario.enroll("Bob Berg")
        let atAlice = try scenario.open("Alice Adler").safetyNumber(with: bob).safetyNumber
        let atBob = try scenario.open("Bob Berg").safetyNumber(with: alice).safetyNumber
        #expect(atAlice == atBob)
        #expect(atAlice.split(separator: " ").count == 12)
    }

    @Test func noSecretOrPlaintextInAnyFile() throws {
        let scenario = try Scenario()
        let alice = try scenario.enroll("Alice Adler")
        let bob = try scenario.enroll("Bob Berg")
        let secretText = "Geheime Verhandlungsposition 1.120.000 EUR"
        let subject = "Vertraulicher Betreff Flur 12"
        _ = try scenario.open("Alice Adler").send(
            to: bob, subject: subject, body: secretText,
            attachments: [Attachment(fileName: "anlage.txt", mediaType: "text/plain", data: Array("Anlagentext Nord".utf8))])
        _ = try scenario.open("Bob Berg").sync()
        _ = try scenario.open("Bob Berg").send(to: alice, subject: "Re", body: "Antworttext Sued")
        _ = try scenario.open("Alice Adler").sync()

        var needles: [(String, [UInt8])] = [
            ("body", Array(secretText.utf8)), ("subject", Array(subject.utf8)), ("attachment", Array("Anlagentext Nord".utf8)),
            ("reply", Array("Antworttext Sued".utf8)),
        ]
        for name in ["Alice Adler", "Bob Berg"] {
            let account = try scenario.open(name)
            for (label, secret) in [
                ("identity seed", account.keys.identitySeed), ("envelope key", account.keys.envelopeKey),
                ("transport key", account.keys.transportKey), ("database key", account.keys.databaseKey),
            ] {
                needles.append(("\(name) \(label)", secret.withUnsafeBytes { Array($0) }))
            }
        }
        let files = scenario.allFiles(under: scenario.folder)
        #expect(files.count >= 8)
        for file in files {
            let data = try Data(contentsOf: file)
            for (label, needle) in needles {
                #expect(data.range(of: Data(needle)) == nil, "\(label) found in \(file.lastPathComponent)")
            }
        }
    }
}
