// ratsbote-relay: the operator's command line. It parses arguments, calls RatsboteRelay and
// prints; every text a person reads is in Texts.swift, in English and German.

import Dispatch
import Foundation
import RatsboteCrypto
import RatsboteNet
import RatsboteRelay
import RatsboteSupport
import RatsboteWire

/// Exit statuses: 0 success, 1 failed operation, 2 usage error.
enum ExitStatus: Int32 {
    case success = 0
    case failure = 1
    case usage = 2
}

/// One subcommand: its options, positional arguments, help text and action.
struct Command {
    var name: String
    var options: [OptionSpec]
    var positionals: [String] = []
    /// How many of the trailing positionals may be left out.
    var optionalPositionals = 0
    var help: Localized
    var run: (ParsedArguments, Language) throws -> Void
}

let commonOptions = [OptionSpec("lang"), OptionSpec.flag("help", shortName: "h")]

func printOut(_ text: String) {
    print(text)
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

func requireData(_ arguments: ParsedArguments) throws -> String {
    guard let data = arguments.value("data") else { throw UsageError.missingValue(option: "--data") }
    return data
}

func jsonText<Value: Encodable>(_ value: Value) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

func timestampText(_ seconds: Int64) -> String {
    let formatter = ISO8601DateFormatter()
    return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
}

/// Routes SIGTERM and SIGINT to `server.shutdown()` and ignores SIGPIPE.
///
/// It is nonisolated on purpose: the handlers run on a Dispatch queue, not the main actor.
nonisolated func installShutdownHandlers(server: RelayServer, logger: Logger) -> [any DispatchSourceSignal] {
    signal(SIGPIPE, SIG_IGN)
    signal(SIGTERM, SIG_IGN)
    signal(SIGINT, SIG_IGN)
    let queue = DispatchQueue(label: "ratsbote-relay.signals")
    return [SIGTERM, SIGINT].map { number in
        let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
        source.setEventHandler { @Sendable in
            logger.info("signal received", ["signal": .public(number == SIGTERM ? "SIGTERM" : "SIGINT")])
            server.shutdown()
        }
        source.resume()
        return source
    }
}

// MARK: - Commands

let initCommand = Command(
    name: "init", options: [OptionSpec("data"), OptionSpec("org"), OptionSpec("address")], help: Texts.initHelp
) { arguments, language in
    let path = try requireData(arguments)
    let address = arguments.value("address") ?? "127.0.0.1:7443"
    guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]), port != 0,
        colon != address.startIndex
    else {
        throw UsageError.invalidValue(option: "--address", value: address, expected: "HOST:PORT with a port from 1 to 65535")
    }
    let folder = try RelayDataFolder.create(at: path, organisation: arguments.value("org") ?? "Ratsbote", publicAddress: address)
    printOut(Texts.created(path).text(language))
    printOut(Texts.relayKey(Encoding.hex(try folder.loadRelayKey().publicKey.rawRepresentation)).text(language))
    printOut(Texts.rootKeyCreated(folder.rootKeyPath, fingerprint: Encoding.hex(try folder.rootFingerprint())).text(language))
}

let serveCommand = Command(name: "serve", options: [OptionSpec("data"), OptionSpec("listen")], help: Texts.serveHelp) { arguments, _ in
    let folder = try RelayDataFolder(existing: try requireData(arguments))
    try folder.lockForServing()
    let configuration = try folder.loadConfiguration()
    let address: SocketAddress
    if let listenText = arguments.value("listen") {
        do {
            address = try SocketAddress(parsing: listenText)
        } catch {
            throw UsageError.invalidValue(option: "--listen", value: listenText, expected: "HOST:PORT with a numeric IPv4 address, or [IPv6]:PORT")
        }
    } else if let configured = try? SocketAddress(parsing: configuration.publicAddress) {
        address = configured
    } else {
        // The public address is a DNS name (what invites should carry): listen on every IPv4
        // interface at its port.
        let port = configuration.publicAddress.split(separator: ":").last.flatMap { UInt16($0) } ?? 7443
        address = try SocketAddress(parsing: "0.0.0.0:\(port)")
    }

    // RATSBOTE_LOG_LEVEL (trace … critical) lowers or raises the threshold; unknown names mean info.
    let level = ProcessInfo.processInfo.environment["RATSBOTE_LOG_LEVEL"].flatMap { LogLevel(name: $0) } ?? .info
    let logger = Logger(label: "ratsbote-relay", minimumLevel: level)
    let server = try RelayServer(folder: folder, listen: address, logger: logger, clock: RelayClock.fromEnvironment())

    let sources = installShutdownHandlers(server: server, logger: logger)
    try server.run { bound in
        printOut("listening address=\(bound)")
        fflush(nil)
    }
    sources.forEach { $0.cancel() }
}

let inviteCommand = Command(
    name: "invite",
    options: [
        OptionSpec("data"), OptionSpec("name"), OptionSpec("role"), OptionSpec("unit"), OptionSpec("expires"), OptionSpec("user"),
        OptionSpec("valid-from"), OptionSpec("valid-until"),
    ],
    help: Texts.inviteHelp
) { arguments, language in
    let data = try requireData(arguments)
    let expiresText = arguments.value("expires") ?? "7d"
    guard let seconds = parseDuration(expiresText), seconds > 0 else {
        throw UsageError.invalidValue(option: "--expires", value: expiresText, expected: "a duration such as 7d, 12h, 30m or 90s")
    }

    // --user: another device for an existing participant; name, role and unit are theirs already.
    if let userId = arguments.value("user") {
        for option in ["name", "role", "unit"] where arguments.value(option) != nil {
            throw UsageError.unexpectedArgument("--\(option)")
        }
        let invite = try RelayDataFolder(existing: data).createDeviceInvite(userId: userId, validFor: seconds, clock: RelayClock.fromEnvironment())
        printOut(Texts.deviceInviteCreated(userId, expires: timestampText(Int64(invite.expiresAt))).text(language))
        printOut(invite.text)
        return
    }

    guard let name = arguments.value("name") else { throw UsageError.missingValue(option: "--name") }
    guard let role = arguments.value("role") else { throw UsageError.missingValue(option: "--role") }
    guard let unit = arguments.value("unit") else { throw UsageError.missingValue(option: "--unit") }
    let folder = try RelayDataFolder(existing: data)
    let clock = RelayClock.fromEnvironment()
    let term = try parseTerm(arguments, now: clock.now())

    let (userId, invite) = try folder.createInvite(
        displayName: name, role: role, unit: unit, validFor: seconds, term: term, clock: clock)
    printOut(Texts.userCreated(userId, expires: timestampText(Int64(invite.expiresAt))).text(language))
    printOut(invite.text)
}

let usersCommand = Command(name: "users", options: [OptionSpec("data"), OptionSpec.flag("json")], help: Texts.usersHelp) {
    arguments, language in
    let folder = try RelayDataFolder(existing: try requireData(arguments))
    let users = try folder.openStore().users()
    if arguments.flag("json") {
        printOut(try jsonText(users))
        return
    }
    guard !users.isEmpty else {
        printOut(Texts.noUsers.text(language))
        return
    }
    printOut(Texts.usersHeader.text(language))
    for user in users {
        let status = user.revokedAt == nil ? Texts.active : Texts.revokedStatus
        printOut(
            "\(user.id)\t\(user.displayName)\t\(user.role)\t\(user.unit)\t\(user.deviceIds.map(String.init).joined(separator: ","))\t\(user.pendingInvites)\t\(status.text(language))")
    }
}

let revokeCommand = Command(
    name: "revoke", options: [OptionSpec("data"), OptionSpec.flag("json")], positionals: ["USER"], help: Texts.revokeHelp
) { arguments, language in
    let folder = try RelayDataFolder(existing: try requireData(arguments))
    let target = arguments.positionals[0]
    let now = RelayClock.fromEnvironment().now()

    // USER.DEVICE revokes one device; user ids never contain a dot.
    if let dot = target.lastIndex(of: "."), let deviceId = UInt32(target[target.index(after: dot)...]) {
        try folder.openStore().revokeDevice(DeviceAddress(userId: String(target[..<dot]), deviceId: deviceId), now: now)
        if arguments.flag("json") {
            struct DeviceRevocation: Encodable {
                var device: String
            }
            printOut(try jsonText(DeviceRevocation(device: target)))
        } else {
            printOut(Texts.deviceRevoked(target).text(language))
        }
        return
    }

    let userId = target
    let devices = try folder.openStore().revoke(userId: userId, now: now)
    if arguments.flag("json") {
        struct Revocation: Encodable {
            var user: String
            var devices: Int
        }
        printOut(try jsonText(Revocation(user: userId, devices: devices)))
    } else {
        printOut(Texts.revoked(userId, devices: devices).text(language))
    }
}

let statsCommand = Command(name: "stats", options: [OptionSpec("data"), OptionSpec.flag("json")], help: Texts.statsHelp) {
    arguments, language in
    let folder = try RelayDataFolder(existing: try requireData(arguments))
    var statistics = try folder.openStore().statistics()
    statistics.blobs = try BlobStore(dataPath: folder.path).statistics()
    if arguments.flag("json") {
        printOut(try jsonText(statistics))
        return
    }
    printOut(Texts.statistics(statistics).text(language))
    guard !statistics.mailboxes.isEmpty else { return }
    printOut("")
    printOut(Texts.mailboxHeader.text(language))
    for mailbox in statistics.mailboxes { printOut("\(mailbox.address)\t\(mailbox.envelopes)\t\(mailbox.bytes)") }
}

let commands = [initCommand, serveCommand, inviteCommand, usersCommand, revokeCommand, renewCommand, groupCommand, statsCommand]

// MARK: - Entry point

@MainActor
func main() -> ExitStatus {
    var arguments = Array(CommandLine.arguments.dropFirst())
    // --lang may come before the command; find it anywhere so even usage errors are translated.
    // It is taken out here, so the command need not come first.
    var languageOption: String?
    if let index = arguments.firstIndex(where: { $0 == "--lang" }), index + 1 < arguments.count {
        languageOption = arguments[index + 1]
        arguments.removeSubrange(index...(index + 1))
    } else if let index = arguments.firstIndex(where: { $0.hasPrefix("--lang=") }) {
        languageOption = String(arguments[index].dropFirst("--lang=".count))
        arguments.remove(at: index)
    }
    let language = Language.detect(option: languageOption)

    guard let name = arguments.first, !name.hasPrefix("-") else {
        if arguments.contains("--help") || arguments.contains("-h") {
            printOut(Texts.usage.text(language))
            return .success
        }
        printError(Texts.errorPrefix(Texts.usageError(.missingCommand).text(language)).text(language))
        printError(Texts.usage.text(language))
        return .usage
    }
    arguments.removeFirst()
    guard let command = commands.first(where: { $0.name == name }) else {
        printError(Texts.errorPrefix(Texts.usageError(.unknownCommand(name)).text(language)).text(language))
        printError(Texts.usage.text(language))
        return .usage
    }

    do {
        if arguments.contains("--help") || arguments.contains("-h") {
            printOut(command.help.text(language))
            return .success
        }
        let parsed = try ParsedArguments.parse(arguments, options: command.options + commonOptions, positionalNames: command.positionals, optionalPositionals: command.optionalPositionals)
        if let option = languageOption, Language(code: option) == nil {
            throw UsageError.invalidValue(option: "--lang", value: option, expected: "de or en")
        }
        try command.run(parsed, language)
        return .success
    } catch let error as UsageError {
        printError(Texts.errorPrefix(Texts.usageError(error).text(language)).text(language))
        printError(command.help.text(language))
        return .usage
    } catch {
        printError(Texts.errorPrefix(Texts.failure(error).text(language)).text(language))
        return .failure
    }
}

exit(main().rawValue)
