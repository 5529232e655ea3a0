import Foundation
import RatsboteCrypto
import RatsboteSupport
import RatsboteWire

/// The outcome of `send`.
public struct SendReport: Sendable, Equatable {
    /// The new message's id (hex).
    public var messageId: String
    /// The recipient as the directory names them; for a group, its id, name and kind, and no devices.
    public var recipient: DirectoryEntry
    /// The user ids the message went to when the recipient is a group (without the sender).
    public var groupMembers: [String] = []
    /// Envelopes the relay accepted now.
    public var delivered: Int
    /// Envelopes kept in the outbox for a later `sync`.
    public var queued: Int
}

/// This device's account: identity, keys, local database and the relay it talks to.
///
/// One process opens an account at a time. Every call that needs the relay opens a connection,
/// does its work and closes it, so the CLI needs no background process.
public final class Account {
    /// The files of an account.
    public struct Home: Sendable {
        public var folder: String
        public var keyStorePath: String { folder + "/keystore.rbks" }
        public var databasePath: String { folder + "/client.sqlite" }

        public init(folder: String) {
            self.folder = folder
        }

        /// `--home`, then `RATSBOTE_HOME`, then `~/.local/share/ratsbote`.
        public static func resolve(option: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> Home {
            if let option { return Home(folder: option) }
            if let value = environment["RATSBOTE_HOME"], !value.isEmpty { return Home(folder: value) }
            let base = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.local/share")
            return Home(folder: base + "/ratsbote")
        }

        public var exists: Bool { FileManager.default.fileExists(atPath: keyStorePath) }
    }

    /// The person, role and unit this device belongs to.
    public struct Identity: Sendable, Equatable {
        public var address: DeviceAddress
        public var displayName: String
        public var role: String
        public var unit: String
        /// Hex of the Ed25519 identity key.
        public var identityKeyHex: String
        public var relay: String
    }

    public let home: Home
    let keys: KeyStore.Contents
    let identityKey: Ed25519SigningKey
    let envelopeKey: X25519PrivateKey
    let transportKey: X25519PrivateKey
    let database: ClientDatabase
    let logger: Logger
    let settings: Settings
    /// How long one relay operation may take before it fails.
    public var connectionTimeout: TimeInterval = 15
    /// Called after each uploaded or downloaded blob chunk with the connection and the offset
    /// reached; tests use it to drop the connection or restart the relay mid-transfer.
    var blobChunkHook: ((RelayConnection, UInt64) throws -> Void)?
    /// Called inside the transaction that stores one recipient's note of a document send, after
    /// its envelopes were queued. Tests throw here to end the send at that point.
    var pendingDeliveryHook: (() throws -> Void)?
    /// Trust material checked by ``refreshTrust(over:)`` and when it was fetched (Unix seconds).
    var trustCache: TrustState?
    var trustFetchedAt: TimeInterval = 0

    struct Settings {
        var address: DeviceAddress
        var displayName: String
        var role: String
        var unit: String
        var relayHost: String
        var relayPort: UInt16
        var relayKey: [UInt8]
        var rootFingerprint: [UInt8]
    }

    private init(home: Home, keys: KeyStore.Contents, database: ClientDatabase, settings: Settings, logger: Logger) throws {
        self.home = home
        self.keys = keys
        self.identityKey = try Ed25519SigningKey(seed: keys.identitySeed)
        self.envelopeKey = try X25519PrivateKey(secret: keys.envelopeKey)
        self.transportKey = try X25519PrivateKey(secret: keys.transportKey)
        self.database = database
        self.settings = settings
        self.logger = logger
    }

    public var identity: Identity {
        Identity(
            address: settings.address, displayName: settings.displayName, role: settings.role, unit: settings.unit,
            identityKeyHex: Encoding.hex(identityKey.publicKey.rawRepresentation), relay: "\(settings.relayHost):\(settings.relayPort)")
    }

    // MARK: - Enrollment and opening

    /// Creates this device's keys, enrolls them with the relay named in the invite, and writes the
    /// key store sealed under `passphrase`.
    ///
    /// The key store is written before the relay is asked, so a used invite always leaves a usable
    /// key store behind; if enrollment fails, the new files are removed again.
    public static func enroll(
        home: Home, invite: InviteCode, passphrase: SecureBytes, keyStoreParameters: Argon2id.Parameters = .interactive,
        logger: Logger = .disabled
    ) throws -> Account {
        guard !home.exists else { throw ClientError.alreadyEnrolled(home: home.folder) }
        guard passphrase.count >= KeyStore.minimumPassphraseBytes else {
            throw ClientError.passphraseTooShort(minimum: KeyStore.minimumPassphraseBytes)
        }
        let createdFolder = !FileManager.default.fileExists(atPath: home.folder)
        do {
            try FileManager.default.createDirectory(atPath: home.folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ClientError.writeFailed(path: home.folder, reason: error.localizedDescription)
        }

        let keys = KeyStore.Contents.generate()
        try KeyStore.write(keys, to: home.keyStorePath, passphrase: passphrase, parameters: keyStoreParameters)
        do {
            let identity = try Ed25519SigningKey(seed: keys.identitySeed)
            let envelope = try X25519PrivateKey(secret: keys.envelopeKey)
            let transport = try X25519PrivateKey(secret: keys.transportKey)
            let relayKey = try X25519PublicKey(rawRepresentation: invite.relayKey)

            let connection = try RelayConnection(host: invite.host, port: invite.port, relayKey: relayKey, transportKey: transport)
            let signed = EnrollRequest.signedBytes(
                token: invite.token, envelopeKey: envelope.publicKey.rawRepresentation, transportKey: transport.publicKey.rawRepresentation)
            let request = EnrollRequest(
                token: invite.token, identityKey: identity.publicKey.rawRepresentation,
                envelopeKey: envelope.publicKey.rawRepresentation, signature: identity.signature(for: signed))
            guard case .enrolled(let address, let name, let role, let unit) = try connection.request(.enroll(request)) else {
                throw ClientError.protocolViolation("unexpected response to enroll")
            }

            let settings = Settings(
                address: address, displayName: name, role: role, unit: unit, relayHost: invite.host, relayPort: invite.port,
                relayKey: invite.relayKey, rootFingerprint: invite.rootFingerprint)
            let database = try ClientDatabase(path: home.databasePath, key: try SymmetricKey(keys.databaseKey))
            try saveSettings(settings, in: database)
            let account = try Account(home: home, keys: keys, database: database, settings: settings, logger: logger)
            // Pins the root from the invite and fetches this device's own certificate.
            try account.refreshTrust(over: connection)
            try account.uploadInitialPrekeys(over: connection)
            logger.info("enrolled", ["user": .public(address.userId), "device": .public(String(address.deviceId))])
            return account
        } catch {
            try? FileManager.default.removeItem(atPath: home.keyStorePath)
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: home.databasePath + suffix) }
            if createdFolder { try? FileManager.default.removeItem(atPath: home.folder) }
            throw error
        }
    }

    /// Opens the account in `home` with its passphrase.
    public static func open(home: Home, passphrase: SecureBytes, logger: Logger = .disabled) throws -> Account {
        guard home.exists else { throw ClientError.notEnrolled(home: home.folder) }
        let keys = try KeyStore.read(from: home.keyStorePath, passphrase: passphrase)
        let database = try ClientDatabase(path: home.databasePath, key: try SymmetricKey(keys.databaseKey))
        let settings = try loadSettings(from: database, home: home)
        return try Account(home: home, keys: keys, database: database, settings: settings, logger: logger)
    }

    private static func saveSettings(_ settings: Settings, in database: ClientDatabase) throws {
        var writer = WireWriter()
        writer.writeString(settings.address.userId)
        writer.writeUInt32(settings.address.deviceId)
        writer.writeString(settings.displayName)
        writer.writeString(settings.role)
        writer.writeString(settings.unit)
        writer.writeString(settings.relayHost)
        writer.writeUInt16(settings.relayPort)
        writer.writeFixed(settings.relayKey)
        writer.writeFixed(settings.rootFingerprint)
        try database.setSetting("account", writer.bytes)
    }

    private static func loadSettings(from database: ClientDatabase, home: Home) throws -> Settings {
        guard let bytes = try database.setting("account") else {
            throw ClientError.storage("\(home.databasePath) holds no account settings; enroll again with a new invite code")
        }
        var reader = WireReader(bytes, structure: "AccountSettings")
        do {
            let settings = Settings(
                address: DeviceAddress(userId: try reader.readString("userId", maximum: 64), deviceId: try reader.readUInt32("deviceId")),
                displayName: try reader.readString("displayName", maximum: 256), role: try reader.readString("role", maximum: 256),
                unit: try reader.readString("unit", maximum: 256), relayHost: try reader.readString("relayHost", maximum: 253),
                relayPort: try reader.readUInt16("relayPort"), relayKey: try reader.readFixed(32, "relayKey"),
                rootFingerprint: try reader.readFixed(32, "rootFingerprint"))
            try reader.finish()
            return settings
        } catch {
            throw ClientError.storage("account settings in \(home.databasePath) are damaged: \(error)")
        }
    }

    // MARK: - Relay

    /// Opens a relay connection, retrying with exponential backoff (0.2 s, 0.4 s, 0.8 s) when
    /// the relay cannot be reached, so a relay restart does not fail the operation.
    func connect(attempts: Int = 4) throws -> RelayConnection {
        var delay: TimeInterval = 0.2
        var attempt = 1
        while true {
            do {
                return try RelayConnection(
                    host: settings.relayHost, port: settings.relayPort, relayKey: try X25519PublicKey(rawRepresentation: settings.relayKey),
                    transportKey: transportKey, timeout: connectionTimeout)
            } catch ClientError.relayUnreachable(let address, let reason) where attempt < attempts {
                logger.debug("relay unreachable, retrying", ["address": .public(address), "reason": .public(reason), "attempt": .public("\(attempt)")])
                Thread.sleep(forTimeInterval: delay)
                delay *= 2
                attempt += 1
            }
        }
    }

    /// Searches the organisation's directory by name, role, unit or user id.
    ///
    /// Only certified entries are returned, with name, role and unit as their certificates state
    /// them. Entries whose certificates fail the checks are left out and logged.
    public func directory(_ query: String = "") throws -> [DirectoryEntry] {
        let connection = try connect()
        let entries = try certifiedEntries(query, over: connection).compactMap { try? $0.get() }
        let needle = query.lowercased()
        return entries.filter { entry in
            needle.isEmpty || entry.userId == query || entry.displayName.lowercased().contains(needle)
                || entry.role.lowercased().contains(needle) || entry.unit.lowercased().contains(needle)
        }
    }

    /// Fetches directory entries and checks each one's certificates.
    func certifiedEntries(_ query: String, over connection: RelayConnection) throws -> [Result<DirectoryEntry, ClientError>] {
        let trust = try refreshTrust(over: connection)
        let entries: [DirectoryEntry]
        do {
            guard case .directory(let found) = try connection.request(.directory(query: query)) else {
                throw ClientError.protocolViolation("unexpected response to directory")
            }
            entries = found
        } catch ClientError.relay(let failure) where failure.code == .notFound {
            entries = []
        }
        return entries.map { entry in
            guard !entry.devices.isEmpty else {
                return .failure(.recipientHasNoDevice(entry.userId))
            }
            do {
                return .success(try certifiedEntry(entry, trust: trust))
            } catch let error as ClientError {
                return .failure(error)
            } catch {
                return .failure(.storage("\(error)"))
            }
        }
    }

    /// Finds exactly one certified participant for `recipient`: an exact user id, else a unique
    /// match on the certified name.
    ///
    /// - Throws: the entry's certificate failure when the participant named exactly by user id
    ///   fails the checks, ``ClientError/recipientNotFound(_:)`` or ``ClientError/recipientAmbiguous(_:candidates:)``.
    func resolve(_ recipient: String, over connection: RelayConnection) throws -> DirectoryEntry {
        let results = try certifiedEntries(recipient, over: connection)
        var entries: [DirectoryEntry] = []
        var failures: [ClientError] = []
        for result in results {
            switch result {
            case .success(let entry): entries.append(entry)
            case .failure(let error): failures.append(error)
            }
        }
        if entries.isEmpty, failures.count == 1 { throw failures[0] }
        for failure in failures {
            switch failure {
            case .certificateRejected(let userId, reason: _) where userId == recipient: throw failure
            case .recipientHasNoDevice(let userId) where userId == recipient: throw failure
            default: continue
            }
        }
        // Only a user id or a whole display name picks a recipient: a word that happens to match
        // one role or unit today must not send confidential text to whoever that is.
        if let exact = entries.first(where: { $0.userId == recipient }) { return exact }
        let lowered = recipient.lowercased()
        let exactNames = entries.filter { $0.displayName.lowercased() == lowered }
        if exactNames.count == 1 { return exactNames[0] }
        let candidates = (exactNames.isEmpty ? entries : exactNames).map { "\($0.userId) (\($0.displayName))" }
        guard !candidates.isEmpty else { throw ClientError.recipientNotFound(recipient) }
        throw ClientError.recipientAmbiguous(recipient, candidates: candidates)
    }

    // MARK: - Reading

    /// Every message, oldest first.
    public func messages() throws -> [StoredMessage] { try database.messages() }

    /// Incoming messages, oldest first.
    public func inbox() throws -> [StoredMessage] { try messages().filter { $0.direction == .incoming } }

    /// Finds a message by its full id or a unique prefix of at least four hex digits; incoming
    /// messages win over outgoing ones with the same id.
    public func message(_ id: String) throws -> StoredMessage {
        let lowered = id.lowercased()
        guard lowered.count >= 4 else { throw ClientError.messageNotFound(id) }
        let matches = try messages().filter { $0.id.hasPrefix(lowered) }
        let incoming = matches.filter { $0.direction == .incoming }
        guard let found = incoming.first ?? matches.first else { throw ClientError.messageNotFound(id) }
        return found
    }

    /// Messages still waiting in the outbox.
    public func pendingCount() throws -> Int { try database.outboxCount() }
}
