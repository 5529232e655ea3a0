import Foundation
import RatsboteCrypto
import RatsboteSupport
import RatsboteWire

/// What `sync` did.
public struct SyncReport: Sendable, Equatable {
    /// Envelopes the relay accepted from the outbox.
    public var sent: Int = 0
    /// New messages stored in the inbox.
    public var received: Int = 0
    /// Envelopes delivered again that were already in the inbox.
    public var duplicates: Int = 0
    /// Envelopes that could not be opened or verified, and were dropped.
    public var rejected: Int = 0
    /// Envelopes that expired on the relay before this device fetched them.
    public var expiredUnread: Int = 0
    /// Messages still waiting in the outbox.
    public var pending: Int = 0
}

/// The outcome of `send`.
public struct SendReport: Sendable, Equatable {
    /// The new message's id (hex).
    public var messageId: String
    /// The recipient as the directory names them.
    public var recipient: DirectoryEntry
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

    /// Who this device belongs to.
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
    private let settings: Settings

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
                throw ClientError.protocolViolation("unexpected answer to enroll")
            }

            let settings = Settings(
                address: address, displayName: name, role: role, unit: unit, relayHost: invite.host, relayPort: invite.port,
                relayKey: invite.relayKey, rootFingerprint: invite.rootFingerprint)
            let database = try ClientDatabase(path: home.databasePath, key: try SymmetricKey(keys.databaseKey))
            try saveSettings(settings, in: database)
            logger.info("enrolled", ["user": .public(address.userId), "device": .public(String(address.deviceId))])
            return try Account(home: home, keys: keys, database: database, settings: settings, logger: logger)
        } catch {
            try? FileManager.default.removeItem(atPath: home.keyStorePath)
            try? FileManager.default.removeItem(atPath: home.databasePath)
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

    func connect() throws -> RelayConnection {
        try RelayConnection(
            host: settings.relayHost, port: settings.relayPort, relayKey: try X25519PublicKey(rawRepresentation: settings.relayKey),
            transportKey: transportKey)
    }

    /// Searches the organisation's directory.
    public func directory(_ query: String = "") throws -> [DirectoryEntry] {
        let connection = try connect()
        guard case .directory(let entries) = try connection.request(.directory(query: query)) else {
            throw ClientError.protocolViolation("unexpected answer to directory")
        }
        return entries
    }

    /// Finds exactly one participant for `recipient`: an exact user id, else a unique match.
    func resolve(_ recipient: String, over connection: RelayConnection) throws -> DirectoryEntry {
        let entries: [DirectoryEntry]
        do {
            guard case .directory(let found) = try connection.request(.directory(query: recipient)) else {
                throw ClientError.protocolViolation("unexpected answer to directory")
            }
            entries = found
        } catch ClientError.relay(let failure) where failure.code == .notFound {
            entries = []
        }
        if let exact = entries.first(where: { $0.userId == recipient }) { return exact }
        let lowered = recipient.lowercased()
        let exactNames = entries.filter { $0.displayName.lowercased() == lowered }
        if exactNames.count == 1 { return exactNames[0] }
        switch entries.count {
        case 0: throw ClientError.recipientNotFound(recipient)
        case 1: return entries[0]
        default: throw ClientError.recipientAmbiguous(recipient, candidates: entries.map { "\($0.userId) (\($0.displayName))" })
        }
    }

    // MARK: - Sending

    /// Writes a note to `recipient` (a user id or a name), seals one envelope per device of the
    /// recipient, stores the note as sent, and delivers the envelopes; what the relay does not
    /// accept now stays in the outbox for `sync`.
    public func send(
        to recipient: String, subject: String, body: String, attachments: [Attachment] = [], inReplyTo: String? = nil
    ) throws -> SendReport {
        let connection = try connect()
        let entry = try resolve(recipient, over: connection)
        guard !entry.devices.isEmpty else { throw ClientError.recipientHasNoDevice(entry.userId) }

        var threadId = Random.bytes(count: 16)
        var replyId: [UInt8]?
        if let inReplyTo {
            let original = try message(inReplyTo)
            threadId = original.content.threadId
            replyId = original.content.messageId
        }
        let messageId = Random.bytes(count: 16)
        let content = NoteContent(
            messageId: messageId, threadId: threadId, inReplyTo: replyId, subject: subject, body: body, attachments: attachments)
        let encodedContent = content.encoded()
        let size = encodedContent.count + 512
        guard size <= WireLimits.envelope else {
            throw ClientError.attachmentTooLarge(path: attachments.first?.fileName ?? "message", size: size, maximum: WireLimits.envelope)
        }

        let idHex = Encoding.hex(messageId)
        let now = UInt64(Date().timeIntervalSince1970)
        for device in entry.devices {
            let address = DeviceAddress(userId: entry.userId, deviceId: device.deviceId)
            try checkIdentity(address, displayName: entry.displayName, key: device.identityKey)
            let sealed = SignedEnvelope.seal(
                content: encodedContent, from: settings.address, identity: identityKey, to: address,
                recipientEnvelopeKey: try X25519PublicKey(rawRepresentation: device.envelopeKey), sentAt: now)
            try database.enqueue(messageId: idHex, recipient: address, sealed: sealed)
        }
        try database.insertMessage(
            StoredMessage(
                id: idHex, direction: .outgoing, peer: DeviceAddress(userId: entry.userId, deviceId: entry.devices[0].deviceId),
                peerName: entry.displayName, sentAt: Date(timeIntervalSince1970: TimeInterval(now)), read: true, content: content))

        let (delivered, pending) = try flushOutbox(over: connection)
        return SendReport(messageId: idHex, recipient: entry, delivered: delivered, queued: pending)
    }

    /// Checks a device's identity key against the one pinned on first contact.
    ///
    /// - Throws: ``ClientError/identityKeyChanged(userId:)`` when it differs; the new key is recorded.
    func checkIdentity(_ address: DeviceAddress, displayName: String, key: [UInt8]) throws {
        if let pinned = try database.pinnedIdentityKey(address) {
            guard constantTimeEqual(pinned, key) else {
                try database.recordChangedKey(address, key: key)
                throw ClientError.identityKeyChanged(userId: address.userId)
            }
        } else {
            try database.pinIdentityKey(address, displayName: displayName, key: key)
        }
    }

    /// Sends every outbox entry; returns how many the relay accepted and how many remain.
    private func flushOutbox(over connection: RelayConnection) throws -> (Int, Int) {
        var delivered = 0
        let items = try database.outbox()
        for item in items {
            try database.noteAttempt(item.seq)
            do {
                let request = SendRequest(recipient: item.recipient, idempotencyId: item.idempotencyId, sealed: item.sealed)
                guard case .stored = try connection.request(.send(request)) else {
                    throw ClientError.protocolViolation("unexpected answer to send")
                }
                try database.removeFromOutbox(item.seq)
                delivered += 1
            } catch ClientError.relay(let failure) where failure.code == .unknownRecipient || failure.code == .revoked {
                // The device is gone for good; retrying cannot succeed.
                logger.warning("dropping envelope for a removed device", ["recipient": .public(item.recipient.description)])
                try database.removeFromOutbox(item.seq)
            }
        }
        return (delivered, items.count - delivered)
    }

    // MARK: - Receiving

    /// Sends the outbox, then fetches, opens, stores and acknowledges every waiting envelope.
    ///
    /// An envelope is acknowledged only after its message is stored, so a crash in between means
    /// a second delivery, which the inbox recognises by the message id.
    public func sync() throws -> SyncReport {
        var report = SyncReport()
        let connection = try connect()
        let (sent, pending) = try flushOutbox(over: connection)
        report.sent = sent
        report.pending = pending

        guard case .receiving(let backlog, let expired, _) = try connection.request(.receive) else {
            throw ClientError.protocolViolation("unexpected answer to receive")
        }
        report.expiredUnread = Int(expired)

        var acknowledged: [UInt64] = []
        var waiting = Int(backlog)
        while true {
            // Wait for the announced backlog; afterwards take what else arrives without waiting long.
            guard let push = try connection.nextPush(wait: waiting > 0 ? 10 : 0.2) else { break }
            guard case .envelope(let id, _, let sealed) = push else { continue }
            waiting -= 1
            switch try accept(sealed, over: connection) {
            case .stored: report.received += 1
            case .duplicate: report.duplicates += 1
            case .rejected: report.rejected += 1
            }
            acknowledged.append(id)
            if acknowledged.count == WireLimits.acknowledgementIds {
                _ = try connection.request(.acknowledge(ids: acknowledged))
                acknowledged.removeAll()
            }
        }
        if !acknowledged.isEmpty { _ = try connection.request(.acknowledge(ids: acknowledged)) }
        return report
    }

    enum Acceptance { case stored, duplicate, rejected }

    private func accept(_ sealed: [UInt8], over connection: RelayConnection) throws -> Acceptance {
        let envelope: SignedEnvelope
        let content: NoteContent
        do {
            envelope = try SignedEnvelope.open(sealed, with: envelopeKey, as: settings.address)
            content = try NoteContent.decode(envelope.content)
        } catch {
            logger.warning("dropping an envelope that does not open", ["error": .public("\(error)")])
            return .rejected
        }
        do {
            if try database.pinnedIdentityKey(envelope.sender) == nil {
                // First contact: the sender's key must be the one the directory lists for that device.
                let listed = try? resolve(envelope.sender.userId, over: connection)
                guard let listed, listed.userId == envelope.sender.userId,
                    let device = listed.devices.first(where: { $0.deviceId == envelope.sender.deviceId }),
                    constantTimeEqual(device.identityKey, envelope.senderIdentityKey)
                else {
                    logger.warning("dropping an envelope whose sender key the directory does not list", ["sender": .public(envelope.sender.userId)])
                    return .rejected
                }
                try database.pinIdentityKey(envelope.sender, displayName: listed.displayName, key: device.identityKey)
            }
            try checkIdentity(envelope.sender, displayName: envelope.sender.userId, key: envelope.senderIdentityKey)
        } catch ClientError.identityKeyChanged {
            logger.warning("dropping an envelope signed by a changed identity key", ["sender": .public(envelope.sender.userId)])
            return .rejected
        }
        let name = try database.pinnedName(envelope.sender) ?? envelope.sender.userId
        let stored = try database.insertMessage(
            StoredMessage(
                id: Encoding.hex(content.messageId), direction: .incoming, peer: envelope.sender, peerName: name,
                sentAt: Date(timeIntervalSince1970: TimeInterval(envelope.sentAt)), read: false, content: content))
        return stored ? .stored : .duplicate
    }

    // MARK: - Reading

    /// Every message, oldest first.
    public func messages() throws -> [StoredMessage] { try database.messages() }

    /// Incoming messages, oldest first.
    public func inbox() throws -> [StoredMessage] { try messages().filter { $0.direction == .incoming } }

    /// Finds a message by its full id or a unique prefix of at least four hex digits.
    public func message(_ id: String) throws -> StoredMessage {
        let lowered = id.lowercased()
        guard lowered.count >= 4 else { throw ClientError.messageNotFound(id) }
        let matches = try messages().filter { $0.id.hasPrefix(lowered) }
        let incoming = matches.filter { $0.direction == .incoming }
        guard let found = incoming.first ?? matches.first else { throw ClientError.messageNotFound(id) }
        return found
    }

    /// Marks an incoming message as read.
    public func markRead(_ id: String) throws { try database.markRead(id) }
}
