import Foundation
import RatsboteRelay
import RatsboteTestSupport
import RatsboteWire
import Testing

/// The operator commands of `ratsbote-relay`, run as a subprocess.
@Suite struct RelayCommandTests {
    let binary = binaryFolder().appendingPathComponent("ratsbote-relay")

    private func run(_ arguments: [String], language: String = "en_US.UTF-8") throws -> ProcessResult {
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = nil
        environment["LC_MESSAGES"] = nil
        environment["LANG"] = language
        return try runProcess(binary, arguments, environment: environment)
    }

    private func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func initCreatesPrivateFilesAndRefusesOverwrite() throws {
        let folder = makeTemporaryFolder("ratsbote-relay-cli")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("relay").path

        let created = try run(["init", "--data", data, "--org", "Teststadt", "--address", "relay.example.de:7443"])
        #expect(created.status == 0)
        #expect(try mode(data) == 0o700)
        #expect(try mode(data + "/relay.key") == 0o600)
        #expect(try mode(data + "/org-root.key") == 0o600)
        #expect(try mode(data + "/relay.sqlite") == 0o600)
        let key = try Data(contentsOf: URL(fileURLWithPath: data + "/relay.key"))

        let again = try run(["init", "--data", data])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exists"))
        let german = try run(["init", "--data", data], language: "de_DE.UTF-8")
        #expect(german.status == 1)
        #expect(german.stderr.contains("existiert bereits"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: data + "/relay.key")) == key)

        // The invite carries the configured public address and the relay key.
        let invite = try run(["invite", "--data", data, "--name", "Erika Muster", "--role", "Rat", "--unit", "Fraktion A"])
        #expect(invite.status == 0)
        let code = try InviteCode(text: String(invite.stdout.split(separator: "\n").last ?? ""))
        #expect(code.host == "relay.example.de")
        #expect(code.port == 7443)
        #expect(invite.stdout.contains("erika-muster"))
    }

    @Test(arguments: ["init", "serve", "invite", "users", "revoke", "stats"])
    func helpExistsInBothLanguages(command: String) throws {
        let english = try run([command, "--help"])
        #expect(english.status == 0)
        #expect(english.stdout.contains("Usage: ratsbote-relay \(command)"))
        #expect(english.stdout.contains("Example: ratsbote-relay \(command)"))
        let german = try run([command, "--help"], language: "de_DE.UTF-8")
        #expect(german.status == 0)
        #expect(german.stdout.contains("Aufruf: ratsbote-relay \(command)"))
        #expect(german.stdout.contains("Beispiel: ratsbote-relay \(command)"))
        let option = try run(["--lang", "de", command, "--help"])
        #expect(option.stdout.contains("Beispiel:"))
    }

    @Test func usageErrorsExitWithTwo() throws {
        let missing = try run(["invite", "--data", "/nonexistent", "--role", "Rat"])
        #expect(missing.status == 2)
        let unknownOption = try run(["stats", "--data", "/nonexistent", "--verbose"])
        #expect(unknownOption.status == 2)
        #expect(unknownOption.stderr.contains("unknown option --verbose"))
        let unknownCommand = try run(["frobnicate"], language: "de_DE.UTF-8")
        #expect(unknownCommand.status == 2)
        #expect(unknownCommand.stderr.contains("unbekannter Befehl"))
        let badDuration = try run(["invite", "--data", "/nonexistent", "--name", "A", "--role", "R", "--unit", "U", "--expires", "soon"])
        #expect(badDuration.status == 1 || badDuration.status == 2)
        let noFolder = try run(["stats", "--data", "/nonexistent/ratsbote"])
        #expect(noFolder.status == 1)
        #expect(noFolder.stderr.contains("ratsbote-relay init"))
    }

    @Test func usersRevokeAndStats() throws {
        let relay = try TestRelay { $0["sweepIntervalSeconds"] = 0.5 }
        let (_, _, alice) = try relay.enrolledDevice(name: "Alice")
        let (bobDevice, bob, bobOpen) = try relay.enrolledDevice(name: "Bob")
        _ = try relay.invite(name: "Alice")
        _ = try sendEnvelope(alice, to: bob, "hello")

        let users = try relay.command(["users", "--json"])
        #expect(users.status == 0)
        let records = try JSONDecoder().decode([UserRecord].self, from: Data(users.stdout.utf8))
        #expect(records.map(\.id) == ["alice", "bob", "alice-2"])
        #expect(records.map(\.activeDevices) == [1, 1, 0])
        #expect(records.map(\.deviceIds) == [[1], [1], []])
        #expect(records.map(\.pendingInvites) == [0, 0, 1])

        let stats = try relay.command(["stats", "--json"])
        let statistics = try JSONDecoder().decode(RelayStatistics.self, from: Data(stats.stdout.utf8))
        #expect(statistics.envelopes == 1)
        #expect(statistics.bytes == 5)
        #expect(statistics.mailboxes.first == MailboxStatistics(address: "bob.1", envelopes: 1, bytes: 5))

        let revoked = try relay.command(["revoke", "bob"])
        #expect(revoked.status == 0)
        #expect(revoked.stdout.contains("Revoked bob"))

        // SERVER: the connection that was open before the revocation is closed by the next sweep.
        guard case .response(0, .failure(let closing)) = try bobOpen.readFrame() else {
            Issue.record("the open connection of a revoked device was not closed")
            return
        }
        #expect(closing.code == .revoked)
        #expect(bobOpen.waitForClose())
        let client = try relay.connect(bobDevice)
        guard case .response(0, .failure(let failure)) = try client.readFrame() else {
            Issue.record("a revoked device was not rejected")
            return
        }
        #expect(failure.code == .revoked)
        #expect(try sendEnvelope(alice, to: bob, "after revoke").failureCode == .unknownRecipient)

        let second = try relay.command(["serve", "--listen", "127.0.0.1:0"])
        #expect(second.status == 1)
        #expect(second.stderr.contains("another ratsbote-relay process is serving"))

        let unknown = try relay.command(["revoke", "nobody"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no user \"nobody\""))
        let text = try relay.command(["stats"])
        #expect(text.stdout.contains("Waiting envelopes: 0"))
    }

    @Test func blobReleasesAndStats() throws {
        let relay = try TestRelay()
        let (_, _, alice) = try relay.enrolledDevice(name: "Alice")
        let (_, _, bob) = try relay.enrolledDevice(name: "Bob")
        let (_, _, carol) = try relay.enrolledDevice(name: "Carol")
        guard case .blob(.created(let id, _)) = try alice.request(.blob(.create(size: 5, recipientCount: 2, timeToLive: 0))),
            case .blob(.created(let partial, _)) = try alice.request(.blob(.create(size: 100, recipientCount: 1, timeToLive: 0)))
        else {
            Issue.record("the relay did not create the blobs")
            return
        }
        #expect(try alice.request(.blob(.upload(id: id, offset: 0, bytes: [1, 2, 3, 4, 5]))) == .blob(.status(size: 5, received: 5, isComplete: true)))
        #expect(try alice.request(.blob(.upload(id: partial, offset: 0, bytes: [9]))) == .blob(.status(size: 100, received: 1, isComplete: false)))

        let json = try relay.command(["stats", "--json"])
        #expect(json.status == 0)
        let statistics = try JSONDecoder().decode(RelayStatistics.self, from: Data(json.stdout.utf8))
        #expect(statistics.blobs == BlobStore.Statistics(count: 2, bytes: 105, incompleteUploads: 1))
        let english = try relay.command(["stats", "--lang", "en"])
        #expect(english.stdout.contains("Document blobs: 2 (105 bytes), incomplete uploads: 1"), "\(english.stdout)")
        let german = try relay.command(["stats", "--lang", "de"])
        #expect(german.stdout.contains("Dokument-Blobs: 2 (105 Bytes), unvollständige Uploads: 1"), "\(german.stdout)")

        // A release repeated by one device (a retry after a lost reply) counts once, so the
        // other recipient can still download the blob.
        #expect(try bob.request(.blob(.release(id: id))) == .done)
        #expect(try bob.request(.blob(.release(id: id))) == .done)
        #expect(try carol.request(.blob(.download(id: id, offset: 0, length: 5))) == .blob(.chunk(offset: 0, bytes: [1, 2, 3, 4, 5])))
        #expect(try carol.request(.blob(.release(id: id))) == .done)
        guard case .failure(let gone) = try carol.request(.blob(.status(id: id))) else {
            Issue.record("the blob outlived the release of its last recipient")
            return
        }
        #expect(gone.code == .notFound)

        let after = try JSONDecoder().decode(RelayStatistics.self, from: Data(try relay.command(["stats", "--json"]).stdout.utf8))
        #expect(after.blobs == BlobStore.Statistics(count: 1, bytes: 100, incompleteUploads: 1))
    }

    @Test func secondDeviceInviteAndDeviceRevocation() throws {
        let relay = try TestRelay { $0["sweepIntervalSeconds"] = 0.5 }
        let (_, alice, first) = try relay.enrolledDevice(name: "Alice")

        // OPERATOR: an invite for another device of the same user.
        let invite = try relay.command(["invite", "--user", alice.userId, "--expires", "1h"])
        #expect(invite.status == 0)
        let code = try InviteCode(text: String(invite.stdout.split(separator: "\n").last ?? ""))
        let secondDevice = TestDevice()
        let second = try relay.connect(secondDevice)
        let enrolled = try second.request(.enroll(secondDevice.enrollRequest(code)))
        #expect(enrolled == .enrolled(address: DeviceAddress(userId: "alice", deviceId: 2), displayName: "Alice", role: "Rat", unit: "Fraktion A"))
        guard case .directory(let entries) = try first.request(.directory(query: "alice")) else {
            Issue.record("no directory")
            return
        }
        #expect(entries.first?.devices.map(\.deviceId) == [1, 2])

        // OPERATOR: revoke the second device only; the first keeps working.
        let revoked = try relay.command(["revoke", "alice.2"])
        #expect(revoked.status == 0)
        #expect(revoked.stdout.contains("Revoked the device alice.2"))
        guard case .response(0, .failure(let failure)) = try second.readFrame() else {
            Issue.record("the revoked device stayed connected")
            return
        }
        #expect(failure.code == .revoked)
        #expect(try first.request(.ping) == .pong)
        guard case .directory(let after) = try first.request(.directory(query: "alice")) else { return }
        #expect(after.first?.devices.map(\.deviceId) == [1])

        let again = try relay.command(["revoke", "alice.2"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("no active device \"alice.2\""))
        let unknownUser = try relay.command(["invite", "--user", "nobody"])
        #expect(unknownUser.status == 1)
        let mixed = try relay.command(["invite", "--user", "alice", "--name", "Other"])
        #expect(mixed.status == 2)
    }
}
