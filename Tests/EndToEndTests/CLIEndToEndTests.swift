// End-to-end tests: the built `ratsbote` and `ratsbote-relay` binaries, a real relay process
// on loopback, real SQLite files, real sockets.

import Foundation
import RatsboteTestSupport
import Testing

/// One participant: a home folder and a passphrase file.
struct Participant {
    let home: URL
    let passphraseFile: URL

    init(_ name: String, in folder: URL) throws {
        home = folder.appendingPathComponent("home-\(name)")
        passphraseFile = folder.appendingPathComponent("pass-\(name)")
        try "passphrase of \(name)\n".write(to: passphraseFile, atomically: true, encoding: .utf8)
    }

    @discardableResult
    func run(_ arguments: [String], stdin: String? = nil, language: String = "en") throws -> ProcessResult {
        var environment = ProcessInfo.processInfo.environment
        environment["LANG"] = language == "de" ? "de_DE.UTF-8" : "en_US.UTF-8"
        environment.removeValue(forKey: "LC_ALL")
        environment.removeValue(forKey: "LC_MESSAGES")
        environment.removeValue(forKey: "RATSBOTE_PASSPHRASE_FILE")
        return try runProcess(
            binaryFolder().appendingPathComponent("ratsbote"),
            ["--home", home.path, "--passphrase-file", passphraseFile.path] + arguments, stdin: stdin, environment: environment)
    }

    func json(_ arguments: [String]) throws -> Any {
        let result = try run(arguments + ["--json"])
        #expect(result.status == 0, "ratsbote \(arguments) failed: \(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }

    func userId() throws -> String {
        (try json(["whoami"]) as? [String: Any])?["userId"] as? String ?? ""
    }

    func lastInboxId() throws -> String {
        ((try json(["inbox"]) as? [[String: Any]])?.last?["id"] as? String) ?? ""
    }
}

@Suite(.serialized) struct CLIEndToEndTests {
    @Test func noteReplyAndDocumentThroughRealRelay() throws {
        let folder = makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let relay = try RelayProcess(folder: folder)
        defer { relay.stop() }

        let alice = try Participant("alice", in: folder)
        let bob = try Participant("bob", in: folder)
        let enrollAlice = try alice.run(["enroll", try relay.invite(name: "Alice Adler", role: "Ratsmitglied", unit: "Fraktion A")])
        #expect(enrollAlice.status == 0, "enroll failed: \(enrollAlice.stderr)")
        let enrollBob = try bob.run(["enroll", "-"], stdin: try relay.invite(name: "Bob Berg", role: "Sachbearbeitung", unit: "Dezernat I"))
        #expect(enrollBob.status == 0, "enroll from stdin failed: \(enrollBob.stderr)")
        let bobId = try bob.userId()
        #expect(bobId == "bob-berg")

        // CLIENT alice: a note with a document, body from stdin.
        let document = folder.appendingPathComponent("Vorlage.txt")
        let documentBytes = Data("Nicht öffentlich: Grundstück Flur 12\n".utf8)
        try documentBytes.write(to: document)
        let sent = try alice.run(["send", bobId, "--subject", "Rückfrage", "--file", document.path], stdin: "Bitte um Auskunft.\n")
        #expect(sent.status == 0, "send failed: \(sent.stderr)")
        #expect(sent.stdout.contains("Sent message"))

        // CLIENT bob: fetch, read, save.
        let sync = try bob.run(["sync"])
        #expect(sync.status == 0, "sync failed: \(sync.stderr)")
        #expect(sync.stdout.contains("received 1 new message"))
        let id = try bob.lastInboxId()
        let message = try bob.json(["read", id]) as? [String: Any]
        #expect(message?["body"] as? String == "Bitte um Auskunft.\n")
        #expect(message?["subject"] as? String == "Rückfrage")
        let documents = try #require(message?["documents"] as? [[String: Any]])
        #expect(documents.count == 1)
        #expect(documents.first?["fileName"] as? String == "Vorlage.txt")
        #expect(documents.first?["mediaType"] as? String == "text/plain")
        #expect(documents.first?["size"] as? Int == documentBytes.count)
        #expect(documents.first?["saved"] as? Bool == false)
        let unsavedText = try bob.run(["read", id], language: "de")
        #expect(unsavedText.stdout.contains("Dokument: Vorlage.txt (text/plain, \(documentBytes.count) Bytes), noch nicht gespeichert"), "\(unsavedText.stdout)")
        let out = folder.appendingPathComponent("saved")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        #expect(try bob.run(["save", id, "--out", out.path]).status == 0)
        #expect(try Data(contentsOf: out.appendingPathComponent("Vorlage.txt")) == documentBytes)
        let savedMessage = try bob.json(["read", id]) as? [String: Any]
        #expect((savedMessage?["documents"] as? [[String: Any]])?.first?["saved"] as? Bool == true)
        let savedText = try bob.run(["read", id])
        #expect(savedText.stdout.contains("Document: Vorlage.txt (text/plain, \(documentBytes.count) bytes), saved"), "\(savedText.stdout)")
        let again = try bob.run(["save", id, "--out", out.path])
        #expect(again.status == 1, "saving over an existing file must fail without --force")

        // CLIENT bob replies; alice receives it in the same thread.
        #expect(try bob.run(["reply", String(id.prefix(8)), "--message", "Antwort folgt."]).status == 0)
        #expect(try alice.run(["sync"]).status == 0)
        let reply = try alice.json(["read", try alice.lastInboxId()]) as? [String: Any]
        #expect(reply?["body"] as? String == "Antwort folgt.")
        #expect(reply?["subject"] as? String == "Re: Rückfrage")
        #expect(reply?["threadId"] as? String == message?["threadId"] as? String)

        // A second sync delivers nothing twice.
        let second = try bob.run(["sync", "--json"])
        let counts = try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: Any]
        #expect(counts?["received"] as? Int == 0)

        // The relay's files hold none of the plaintext.
        // Every regular file below the data folder, blobs included.
        let enumerator = FileManager.default.enumerator(at: relay.data, includingPropertiesForKeys: [.isRegularFileKey])
        let files = (enumerator?.compactMap { $0 as? URL } ?? [])
            .filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
        #expect(!files.isEmpty)
        for file in files {
            let bytes = try Data(contentsOf: file)
            for secret in ["Bitte um Auskunft", "Rückfrage", "Grundstück Flur 12", "Antwort folgt"] {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) found in \(file.lastPathComponent)")
            }
        }
        #expect(!relay.log.contains("Rückfrage"))
    }

    @Test func errorsAndUsageInBothLanguages() throws {
        let folder = makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let relay = try RelayProcess(folder: folder)
        defer { relay.stop() }
        let carol = try Participant("carol", in: folder)
        #expect(try carol.run(["enroll", try relay.invite(name: "Carol Christ", role: "Ratsmitglied", unit: "Fraktion C")]).status == 0)

        // Usage errors exit with 2 and name the problem.
        let usage = try carol.run(["send"])
        #expect(usage.status == 2)
        #expect(usage.stderr.contains("missing argument TO"))
        let usageDE = try carol.run(["send"], language: "de")
        #expect(usageDE.stderr.contains("fehlendes Argument AN") || usageDE.stderr.contains("fehlendes Argument TO"))
        #expect(try carol.run(["frobnicate"]).status == 2)
        #expect(try carol.run(["inbox", "--bogus"]).status == 2)

        // An unknown recipient fails with 1 and points to the directory.
        let unknown = try carol.run(["send", "nobody-here", "--message", "hi"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("ratsbote directory"))
        let unknownDE = try carol.run(["send", "nobody-here", "--message", "hi"], language: "de")
        #expect(unknownDE.stderr.contains("nicht gefunden"))

        // A wrong passphrase fails with 1 and changes nothing.
        try "wrong passphrase\n".write(to: carol.passphraseFile, atomically: true, encoding: .utf8)
        let wrong = try carol.run(["inbox"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("Wrong passphrase"))
        #expect(try carol.run(["inbox"], language: "de").stderr.contains("Falsche Passphrase"))

        // Help works on every command, in both languages.
        for command in ["enroll", "whoami", "directory", "send", "sync", "inbox", "read", "reply", "save", "verify"] {
            let help = try carol.run([command, "--help"])
            #expect(help.status == 0)
            #expect(help.stdout.contains("Usage: ratsbote \(command)"))
            #expect(try carol.run([command, "--help"], language: "de").stdout.contains("Aufruf: ratsbote \(command)"))
        }
    }

    @Test func whoamiDirectoryVerifyAndOfflineSend() throws {
        let folder = makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let relay = try RelayProcess(folder: folder)
        defer { relay.stop() }
        let anna = try Participant("anna", in: folder)
        let jens = try Participant("jens", in: folder)
        #expect(try anna.run(["enroll", try relay.invite(name: "Anna Schmidt", role: "Ratsmitglied", unit: "Fraktion A")]).status == 0)
        #expect(try jens.run(["enroll", try relay.invite(name: "Jens Becker", role: "Geschäftsführung", unit: "Stadtwerke")]).status == 0)

        let whoami = try anna.run(["whoami"])
        #expect(whoami.stdout.contains("Anna Schmidt"))
        #expect(whoami.stdout.contains("Role:"))
        #expect(try anna.run(["whoami"], language: "de").stdout.contains("Rolle:"))
        let directory = try anna.run(["directory", "stadtwerke"])
        #expect(directory.stdout.contains("jens-becker"))
        #expect(!directory.stdout.contains("anna-schmidt"))
        let everyone = try anna.json(["directory"]) as? [[String: Any]]
        #expect(everyone?.count == 2)

        // Both sides see the same safety number; confirming is recorded.
        let atAnna = (try anna.json(["verify", "jens-becker"]) as? [String: Any])?["safetyNumber"] as? String
        let atJens = (try jens.json(["verify", "anna-schmidt"]) as? [String: Any])?["safetyNumber"] as? String
        #expect(atAnna != nil && atAnna == atJens)
        #expect(try anna.run(["verify", "jens-becker", "--confirm"]).status == 0)
        #expect((try anna.json(["verify", "jens-becker"]) as? [String: Any])?["verified"] as? Bool == true)
        #expect(try anna.run(["verify", "jens-becker"], language: "de").stdout.contains("Sicherheitsnummer mit Jens Becker"))

        // A first message opens the session; then the relay goes down and the next one waits in
        // the outbox until a later sync delivers it. The body comes from a pipe.
        #expect(try anna.run(["send", "jens-becker", "--message", "erste"]).status == 0)
        #expect(relay.stop() == 0)
        let offline = try anna.run(["send", "jens-becker", "--subject", "offline"], stdin: "aus der Pipe\n")
        #expect(offline.status == 0, "offline send failed: \(offline.stderr)")
        #expect(offline.stdout.contains("outbox"))
        try relay.start()
        let sync = try anna.json(["sync"]) as? [String: Any]
        #expect(sync?["sent"] as? Int == 1)
        #expect(sync?["pending"] as? Int == 0)
        #expect(try jens.run(["sync"]).status == 0)
        let bodies = (try jens.json(["inbox"]) as? [[String: Any]])?.compactMap { $0["subject"] as? String }
        #expect(bodies == ["", "offline"])
        let last = try jens.json(["read", try jens.lastInboxId()]) as? [String: Any]
        #expect(last?["body"] as? String == "aus der Pipe\n")
    }

    @Test func groupSendAndRevokedContactInPlainWords() throws {
        let folder = makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let relay = try RelayProcess(folder: folder)
        defer { relay.stop() }
        let relayBinary = binaryFolder().appendingPathComponent("ratsbote-relay")
        func operatorCommand(_ arguments: [String]) throws {
            let result = try runProcess(relayBinary, [arguments[0], "--data", relay.data.path] + arguments.dropFirst())
            #expect(result.status == 0, "ratsbote-relay \(arguments) failed: \(result.stderr)")
        }
        let anna = try Participant("anna", in: folder)
        let jens = try Participant("jens", in: folder)
        let petra = try Participant("petra", in: folder)
        #expect(try anna.run(["enroll", try relay.invite(name: "Anna Schmidt", role: "Sachbearbeitung", unit: "Dezernat II")]).status == 0)
        #expect(try jens.run(["enroll", try relay.invite(name: "Jens Becker", role: "Ratsmitglied", unit: "Fraktion A")]).status == 0)
        #expect(try petra.run(["enroll", try relay.invite(name: "Petra Lang", role: "Geschäftsführung", unit: "Stadtwerke")]).status == 0)
        try operatorCommand(["group", "create", "ausschuss-umwelt", "--name", "Ausschuss für Umwelt"])
        try operatorCommand(["group", "add", "ausschuss-umwelt", "jens-becker"])
        try operatorCommand(["group", "add", "ausschuss-umwelt", "petra-lang"])

        let sent = try anna.run(["send", "Ausschuss für Umwelt", "--subject", "Vorlage", "--message", "an den Ausschuss"])
        #expect(sent.status == 0, "group send failed: \(sent.stderr)")
        #expect(sent.stdout.contains("jens-becker, petra-lang"))
        #expect(try anna.run(["directory", "ausschuss"], language: "de").stdout.contains("Ausschuss für Umwelt · Ausschuss · Mitglieder: jens-becker, petra-lang"))
        for participant in [jens, petra] {
            #expect(try participant.run(["sync"]).status == 0)
            let message = try participant.json(["read", try participant.lastInboxId()]) as? [String: Any]
            #expect(message?["body"] as? String == "an den Ausschuss")
        }

        try operatorCommand(["revoke", "petra-lang"])
        let refused = try anna.run(["send", "petra-lang", "--message", "nach der Sperre"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("The organisation has revoked petra-lang"))
        let german = try anna.run(["send", "petra-lang", "--message", "nach der Sperre"], language: "de")
        #expect(german.stderr.contains("Die Organisation hat petra-lang gesperrt"))
    }

    @Test func usedInviteCodeIsRejected() throws {
        let folder = makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let relay = try RelayProcess(folder: folder)
        defer { relay.stop() }
        let code = try relay.invite(name: "Dora Dorn", role: "Geschäftsführung", unit: "Stadtwerke")
        #expect(try Participant("first", in: folder).run(["enroll", code]).status == 0)
        let second = try Participant("second", in: folder).run(["enroll", code])
        #expect(second.status == 1)
        #expect(second.stderr.contains("invite code"))
    }

    @Test func relayNotRunningIsReported() throws {
        let folder = makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let relay = try RelayProcess(folder: folder)
        let erin = try Participant("erin", in: folder)
        #expect(try erin.run(["enroll", try relay.invite(name: "Erin Eck", role: "Ratsmitglied", unit: "Fraktion E")]).status == 0)
        #expect(relay.stop() == 0, "SIGTERM must stop the relay with status 0")

        let sync = try erin.run(["sync"])
        #expect(sync.status == 1)
        #expect(sync.stderr.contains("cannot be reached"))
    }
}
