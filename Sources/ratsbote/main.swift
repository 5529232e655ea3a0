// ratsbote: the command line for people. It parses arguments, asks for the passphrase, calls
// RatsboteClient and prints the result in German or English. No protocol logic lives here.

import Foundation
import RatsboteClient
import RatsboteCrypto
import RatsboteSupport
import RatsboteWire

/// Exit statuses: 0 success, 1 failed operation, 2 usage error.
enum ExitStatus: Int32 {
    case success = 0
    case failure = 1
    case usage = 2
}

struct CLI {
    static let globalOptions: [OptionSpec] = [
        OptionSpec("home"), OptionSpec("passphrase-file"), OptionSpec("lang"), .flag("json"), .flag("help", shortName: "h"),
        .flag("verbose", shortName: "v"),
    ]

    /// Per command: its own options and its positional argument names (optional ones last).
    static let commands: [String: (options: [OptionSpec], positionals: [String], optional: Int)] = [
        "enroll": ([], ["CODE"], 0),
        "whoami": ([], [], 0),
        "directory": ([], ["QUERY"], 1),
        // One or more recipients: the parser counts positionals, so TO is listed up to 64 times.
        "send": ([OptionSpec("subject"), OptionSpec("message"), OptionSpec("file", repeatable: true)], Array(repeating: "TO", count: 64), 63),
        "sync": ([], [], 0),
        "inbox": ([], [], 0),
        "read": ([], ["ID"], 0),
        "reply": ([OptionSpec("message"), OptionSpec("subject"), OptionSpec("file", repeatable: true)], ["ID"], 0),
        "save": ([OptionSpec("out"), .flag("force")], ["ID"], 0),
        "verify": ([.flag("confirm")], ["TO"], 0),
    ]

    var language: Language = .english
    var arguments: ParsedArguments = ParsedArguments()
    var logger: Logger = .disabled

    /// Moves the command name to the front, so global options may come before it
    /// (`ratsbote --home DIR sync`) as well as after it.
    static func commandFirst(_ argv: [String]) -> [String] {
        let valued = Set(globalOptions.filter(\.takesValue).map { "--" + $0.name })
        var index = 0
        while index < argv.count {
            let argument = argv[index]
            if argument == "--" || !argument.hasPrefix("-") || argument == "-" {
                guard argument != "--" else { break }
                var reordered = argv
                reordered.remove(at: index)
                return [argument] + reordered
            }
            index += valued.contains(argument) ? 2 : 1
        }
        return argv
    }

    mutating func run(_ rawArguments: [String]) -> ExitStatus {
        let argv = Self.commandFirst(rawArguments)
        language = Language.detect(option: Self.earlyLanguage(argv))
        guard let command = argv.first, !command.hasPrefix("-") else {
            if argv.contains("--help") || argv.contains("-h") {
                print(Text.usage.text(language))
                return .success
            }
            printError(Text.usageError(.missingCommand).text(language) + "\n" + Text.usageHint.text(language))
            return .usage
        }
        guard let spec = Self.commands[command] else {
            printError(Text.usageError(.unknownCommand(command)).text(language) + "\n" + Text.usageHint.text(language))
            return .usage
        }
        if argv.dropFirst().contains("--help") || argv.dropFirst().contains("-h") {
            print(Text.commandHelp(command).text(language))
            return .success
        }
        do {
            arguments = try ParsedArguments.parse(
                Array(argv.dropFirst()), options: Self.globalOptions + spec.options, positionalNames: spec.positionals,
                optionalPositionals: spec.optional)
            if let lang = arguments.value("lang"), Language(code: lang) == nil {
                throw UsageError.invalidValue(option: "--lang", value: lang, expected: "de, en")
            }
        } catch let error as UsageError {
            printError(Text.usageError(error).text(language) + "\n" + Text.commandHelp(command).text(language))
            return .usage
        } catch {
            printError("\(error)")
            return .usage
        }
        if arguments.flag("verbose") { logger = Logger(label: "ratsbote", minimumLevel: .debug) }

        do {
            try dispatch(command)
            return .success
        } catch let error as UsageError {
            printError(Text.usageError(error).text(language) + "\n" + Text.commandHelp(command).text(language))
            return .usage
        } catch let error as PassphraseFileError {
            printError(Text.passphraseFileUnreadable(error.path, error.reason).text(language))
            return .failure
        } catch let error as CLIFailure {
            printError(error.message.text(language))
            return .failure
        } catch {
            printError(Text.error(error).text(language))
            return .failure
        }
    }

    /// `--lang` is needed before parsing, so that parse errors are in the right language.
    static func earlyLanguage(_ argv: [String]) -> String? {
        for (index, argument) in argv.enumerated() {
            if argument.hasPrefix("--lang=") { return String(argument.dropFirst(7)) }
            if argument == "--lang", index + 1 < argv.count { return argv[index + 1] }
        }
        return nil
    }

    var home: Account.Home { Account.Home.resolve(option: arguments.value("home")) }
    var json: Bool { arguments.flag("json") }

    func printError(_ text: String) {
        FileHandle.standardError.write(Data(("ratsbote: " + text + "\n").utf8))
    }

    func say(_ text: Localized) {
        if !json { print(text.text(language)) }
    }

    // MARK: - Passphrase

    /// The passphrase from `--passphrase-file`, `RATSBOTE_PASSPHRASE_FILE`, or a prompt without echo.
    func passphrase(confirm: Bool = false) throws -> SecureBytes {
        if let path = arguments.value("passphrase-file") ?? ProcessInfo.processInfo.environment["RATSBOTE_PASSPHRASE_FILE"], !path.isEmpty {
            return try Terminal.readSecretFile(path)
        }
        guard let first = Terminal.promptSecret((confirm ? Text.newPassphrasePrompt : Text.passphrasePrompt).text(language)) else {
            throw CLIFailure(Text.noTerminalForPassphrase)
        }
        if confirm {
            guard let second = Terminal.promptSecret(Text.repeatPassphrasePrompt.text(language)) else {
                throw CLIFailure(Text.noTerminalForPassphrase)
            }
            guard first == second else { throw CLIFailure(Text.passphrasesDiffer) }
        }
        return first
    }

    func openAccount() throws -> Account {
        guard home.exists else { throw ClientError.notEnrolled(home: home.folder) }
        return try Account.open(home: home, passphrase: try passphrase(), logger: logger)
    }

    // MARK: - Commands

    func dispatch(_ command: String) throws {
        switch command {
        case "enroll": try enroll()
        case "whoami": try whoami()
        case "directory": try directory()
        case "send": try send()
        case "sync": try sync()
        case "inbox": try inbox()
        case "read": try read()
        case "reply": try reply()
        case "save": try save()
        case "verify": try verify()
        default: throw UsageError.unknownCommand(command)
        }
    }

    func enroll() throws {
        var codeText = arguments.positionals[0]
        if codeText == "-" {
            codeText = Terminal.readStandardInput().trimmingCharacters(in: .whitespacesAndNewlines)
            guard !codeText.isEmpty else { throw CLIFailure(Text.inviteFromStdinEmpty) }
        }
        let invite: InviteCode
        do {
            invite = try InviteCode(text: codeText)
        } catch {
            throw ClientError.invalidInvite(reason: "\(error)")
        }
        guard !home.exists else { throw ClientError.alreadyEnrolled(home: home.folder) }
        let account = try Account.enroll(home: home, invite: invite, passphrase: try passphrase(confirm: true), logger: logger)
        if json {
            printJSON(identityJSON(account.identity))
        } else {
            say(Text.enrolled(account.identity))
        }
    }

    func whoami() throws {
        let identity = try openAccount().identity
        if json {
            printJSON(identityJSON(identity))
        } else {
            say(Text.whoami(identity))
        }
    }

    func directory() throws {
        let account = try openAccount()
        let query = arguments.positionals.first ?? ""
        let entries = try account.directory(query)
        // Groups come from the trust material that the directory lookup just refreshed.
        let needle = query.lowercased()
        let groups = try account.groups().filter {
            needle.isEmpty || $0.groupId.contains(needle) || $0.name.lowercased().contains(needle)
        }
        if json {
            printJSON(entries.map { entry in
                [
                    "userId": entry.userId, "displayName": entry.displayName, "role": entry.role, "unit": entry.unit,
                    "devices": entry.devices.map { ["deviceId": Int($0.deviceId), "identityKey": Encoding.hex($0.identityKey)] },
                ] as [String: Any]
            })
            return
        }
        guard !entries.isEmpty || !groups.isEmpty else { return say(Text.directoryEmpty) }
        for entry in entries {
            // Pad to the longest id and never shorten one, so that every id can be copied as shown.
            let width = entries.map(\.userId.count).max() ?? 0
            print("\(entry.userId.padding(toLength: width, withPad: " ", startingAt: 0))  \(entry.displayName) · \(entry.role) · \(entry.unit)")
        }
        for group in groups {
            say(Text.groupLine(group))
        }
    }

    /// Reads the message text from `--message`, else from standard input (with a hint on a terminal).
    ///
    /// - Throws: a failure when the text is empty and no file is attached.
    func messageText() throws -> String {
        var text: String
        if let option = arguments.value("message") {
            text = option
        } else {
            if isatty(STDIN_FILENO) == 1 { FileHandle.standardError.write(Data((Text.typeMessage.text(language) + "\n").utf8)) }
            text = Terminal.readStandardInput()
        }
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty && arguments.allValues("file").isEmpty {
            throw CLIFailure(Text.emptyMessage)
        }
        return text
    }

    func attachments() throws -> [Attachment] {
        try arguments.allValues("file").map { try Account.attachment(fromFile: $0) }
    }

    func send() throws {
        let account = try openAccount()
        let paths = arguments.allValues("file")
        let subject = arguments.value("subject") ?? ""
        let body = try messageText()
        if paths.isEmpty {
            for recipient in arguments.positionals {
                printSendReport(try account.send(to: recipient, subject: subject, body: body))
            }
            return
        }
        let bar = ProgressBar(language: language)
        let reports = try account.send(to: arguments.positionals, subject: subject, body: body, files: paths, progress: bar.update)
        bar.finish()
        reports.forEach(printSendReport)
    }

    func reply() throws {
        let account = try openAccount()
        let original = try account.message(arguments.positionals[0])
        let subject = arguments.value("subject") ?? Account.replySubject(original.content.subject)
        let files = try attachments()
        let report = try account.send(
            to: original.peer.userId, subject: subject, body: try messageText(), attachments: files, inReplyTo: original.id)
        printSendReport(report)
    }

    func printSendReport(_ report: SendReport) {
        if json {
            printJSON([
                "messageId": report.messageId, "recipient": report.recipient.userId, "delivered": report.delivered,
                "queued": report.queued,
            ])
        } else {
            say(Text.sent(report))
        }
    }

    func sync() throws {
        let bar = ProgressBar(language: language)
        let report = try openAccount().sync(progress: bar.update)
        bar.finish()
        if json {
            printJSON([
                "sent": report.sent, "received": report.received, "receipts": report.receipts, "keyChanges": report.keyChanges,
                "duplicates": report.duplicates, "rejected": report.rejected,
                "expiredUnread": report.expiredUnread, "pending": report.pending,
                "pendingDocumentSends": report.pendingDocumentSends,
            ])
        } else {
            say(Text.synced(report))
        }
    }

    func inbox() throws {
        let messages = try openAccount().inbox()
        if json {
            printJSON(messages.map(messageSummaryJSON))
            return
        }
        guard !messages.isEmpty else { return say(Text.inboxEmpty) }
        print(Terminal.dim(Text.inboxHeader.text(language)))
        for message in messages {
            let marker = message.read ? " " : "*"
            let from = message.peerName.padding(toLength: 25, withPad: " ", startingAt: 0)
            let subject = message.content.subject.isEmpty ? Text.noSubject.text(language) : message.content.subject
            let line = "\(message.shortId)\(marker) \(Self.dateText(message.sentAt)) \(from) \(subject)"
            // Unread messages stand out on a terminal; piped output stays plain text.
            print(message.read ? line : Terminal.bold(line))
        }
    }

    func read() throws {
        let account = try openAccount()
        let message = try account.message(arguments.positionals[0])
        if message.direction == .incoming { try account.markRead(message.id) }
        let saved = try account.savedDocumentPositions(of: message.id)
        if json {
            var object = messageSummaryJSON(message)
            object["body"] = message.content.body
            object["deliveredAt"] = message.deliveredAt.map { Int($0.timeIntervalSince1970) } ?? NSNull()
            object["readAt"] = message.readAt.map { Int($0.timeIntervalSince1970) } ?? NSNull()
            object["unsupportedKind"] = Int(message.content.unsupportedKind)
            object["attachments"] = message.content.attachments.map {
                ["fileName": $0.fileName, "mediaType": $0.mediaType, "size": $0.data.count] as [String: Any]
            }
            object["documents"] = message.content.remoteDocuments.enumerated().map { position, document in
                [
                    "fileName": document.fileName, "mediaType": document.mediaType, "size": Int(clamping: document.size),
                    "saved": saved.contains(position),
                ] as [String: Any]
            }
            printJSON(object)
            return
        }
        print(Text.messageHeader(message, date: Self.dateText(message.sentAt)).text(language))
        if let status = Text.deliveryStatus(message, date: Self.dateText) { print(status.text(language)) }
        for attachment in message.content.attachments { print(Text.attachmentLine(attachment).text(language)) }
        for (position, document) in message.content.remoteDocuments.enumerated() {
            print(Text.documentLine(document, saved: saved.contains(position)).text(language))
        }
        print("")
        if message.content.unsupportedKind != 0 {
            print(Text.unsupportedContent(message.content.unsupportedKind).text(language))
        } else {
            print(message.content.body)
        }
    }

    func save() throws {
        let account = try openAccount()
        let folder = arguments.value("out") ?? FileManager.default.currentDirectoryPath
        let bar = ProgressBar(language: language)
        let paths = try account.saveAttachments(
            of: arguments.positionals[0], to: folder, force: arguments.flag("force"), progress: bar.update)
        bar.finish()
        if json {
            printJSON(["saved": paths])
            return
        }
        if paths.isEmpty { say(Text.nothingToSave) }
        for path in paths { say(Text.saved(path)) }
    }

    func verify() throws {
        let account = try openAccount()
        let recipient = arguments.positionals[0]
        if arguments.flag("confirm") {
            try account.confirmSafetyNumber(of: recipient)
            if json {
                printJSON(["userId": recipient, "verified": true])
            } else {
                say(Text.confirmed(recipient))
            }
            return
        }
        let report = try account.safetyNumber(with: recipient)
        if json {
            printJSON([
                "userId": report.userId, "displayName": report.displayName, "safetyNumber": report.safetyNumber,
                "verified": report.verified, "keyChanged": report.keyChanged,
            ])
        } else {
            say(Text.safetyNumber(report))
        }
    }

    // MARK: - Output helpers

    static func dateText(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        localtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02d %02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min))
    }

    func identityJSON(_ identity: Account.Identity) -> [String: Any] {
        [
            "userId": identity.address.userId, "deviceId": Int(identity.address.deviceId), "displayName": identity.displayName,
            "role": identity.role, "unit": identity.unit, "identityKey": identity.identityKeyHex, "relay": identity.relay,
        ]
    }

    func messageSummaryJSON(_ message: StoredMessage) -> [String: Any] {
        [
            "id": message.id, "shortId": message.shortId, "direction": message.direction.rawValue, "peer": message.peer.userId,
            "peerName": message.peerName, "sentAt": Int(message.sentAt.timeIntervalSince1970), "read": message.read,
            "subject": message.content.subject, "threadId": Encoding.hex(message.content.threadId),
            "attachmentCount": message.content.attachments.count,
        ]
    }

    func printJSON(_ object: Any) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else {
            return
        }
        print(String(decoding: data, as: UTF8.self))
    }
}

/// A failure whose message is already localized.
struct CLIFailure: Error {
    var message: Localized
    init(_ message: Localized) { self.message = message }
}

var cli = CLI()
exit(cli.run(Array(CommandLine.arguments.dropFirst())).rawValue)
