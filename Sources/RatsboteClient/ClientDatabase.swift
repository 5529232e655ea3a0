import Foundation
import RatsboteCrypto
import RatsboteSession
import RatsboteStorage
import RatsboteWire

/// A message as stored in the local database, decrypted.
public struct StoredMessage: Sendable, Equatable {
    public enum Direction: String, Sendable {
        case incoming = "in"
        case outgoing = "out"
    }

    /// Hex of the 16-byte message id.
    public var id: String
    public var direction: Direction
    /// The other party: the sender of an incoming message, the recipient of an outgoing one.
    public var peer: DeviceAddress
    public var peerName: String
    public var sentAt: Date
    /// For incoming messages: whether this user opened it.
    public var read: Bool
    /// For outgoing messages: when a recipient device confirmed delivery, and when it was read.
    public var deliveredAt: Date?
    public var readAt: Date?
    public var content: NoteContent

    /// The first eight hex digits, which the CLI shows and accepts as the message id.
    public var shortId: String { String(id.prefix(8)) }
}

/// A contact device as recorded on this device.
struct ContactDevice: Equatable {
    var address: DeviceAddress
    var displayName: String
    var identityKey: [UInt8]
    var envelopeKey: [UInt8]
    /// A key the directory listed later that differs from the pinned one; sending stops until accepted.
    var pendingIdentityKey: [UInt8]?
    var verified: Bool
}

/// The client's SQLite file: account settings, contacts, sessions, prekeys, messages, the outbox
/// and document sends that wait for their uploads.
///
/// Secrets and content are stored sealed with XChaCha20-Poly1305 under the database key from the
/// key store, with a context string naming the row as associated data, so a sealed value cannot be
/// moved to another row: message content, session states, private prekeys, and the notes and
/// document keys of pending document sends. Addresses, times, blob ids and ciphertext sizes are
/// stored in the clear, because the device needs them to list the inbox before it opens anything.
final class ClientDatabase {
    let database: Database
    private let key: SymmetricKey

    static let migrations = [
        """
        CREATE TABLE settings (name TEXT PRIMARY KEY, value BLOB NOT NULL);
        CREATE TABLE contact_devices (
            user_id TEXT NOT NULL,
            device_id INTEGER NOT NULL,
            display_name TEXT NOT NULL,
            identity_key BLOB NOT NULL,
            envelope_key BLOB NOT NULL,
            pending_identity_key BLOB,
            pending_envelope_key BLOB,
            verified INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (user_id, device_id)
        );
        CREATE TABLE sessions (
            user_id TEXT NOT NULL,
            device_id INTEGER NOT NULL,
            sealed_state BLOB NOT NULL,
            PRIMARY KEY (user_id, device_id)
        );
        CREATE TABLE prekeys (
            kind TEXT NOT NULL,
            id INTEGER NOT NULL,
            sealed_private BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (kind, id)
        );
        CREATE TABLE messages (
            id TEXT NOT NULL,
            direction TEXT NOT NULL,
            peer_user TEXT NOT NULL,
            peer_device INTEGER NOT NULL,
            peer_name TEXT NOT NULL,
            sent_at INTEGER NOT NULL,
            stored_at INTEGER NOT NULL,
            read INTEGER NOT NULL DEFAULT 0,
            delivered_at INTEGER,
            read_at INTEGER,
            sealed_content BLOB NOT NULL,
            PRIMARY KEY (id, direction)
        );
        CREATE INDEX messages_by_time ON messages(stored_at);
        CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            message_id TEXT NOT NULL,
            recipient_user TEXT NOT NULL,
            recipient_device INTEGER NOT NULL,
            idempotency_id BLOB NOT NULL,
            sealed BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0
        );
        """,
        """
        CREATE TABLE pending_sends (
            id TEXT PRIMARY KEY,
            created_at INTEGER NOT NULL,
            sealed BLOB NOT NULL
        );
        CREATE TABLE pending_documents (
            send_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            file_id TEXT NOT NULL,
            ciphertext_size INTEGER NOT NULL,
            blob_id BLOB,
            sealed BLOB NOT NULL,
            PRIMARY KEY (send_id, position)
        );
        CREATE TABLE saved_documents (
            message_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            saved_at INTEGER NOT NULL,
            PRIMARY KEY (message_id, position)
        );
        """,
    ]

    init(path: String, key: SymmetricKey) throws {
        do {
            database = try Database(path: path)
            try database.migrate(Self.migrations, name: "client")
        } catch let error as StorageError {
            throw ClientError.storage(error.description)
        }
        self.key = key
    }

    @discardableResult
    func wrap<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StorageError {
            throw ClientError.storage(error.description)
        }
    }

    /// Runs `body` in one transaction, so that a crash keeps all of its writes or none.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try wrap { try database.transaction(body) }
    }

    // MARK: - Sealing

    func seal(_ bytes: some ContiguousBytes, context: String) -> [UInt8] {
        XChaCha20Poly1305.sealWithRandomNonce(bytes, using: key, authenticating: Array(context.utf8))
    }

    func open(_ sealed: [UInt8], context: String) throws -> [UInt8] {
        do {
            return try XChaCha20Poly1305.openWithNonce(sealed, using: key, authenticating: Array(context.utf8))
        } catch {
            throw ClientError.storage("\(context) does not decrypt with this key store's database key")
        }
    }

    // MARK: - Settings

    func setting(_ name: String) throws -> [UInt8]? {
        try wrap { try database.query("SELECT value FROM settings WHERE name = ?", [.text(name)]).first?.first?.bytes }
    }

    func setSetting(_ name: String, _ value: [UInt8]) throws {
        try wrap { try database.query("INSERT OR REPLACE INTO settings(name, value) VALUES (?, ?)", [.text(name), .blob(value)]) }
    }

    func integerSetting(_ name: String) throws -> UInt64? {
        guard let bytes = try setting(name), bytes.count == 8 else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    func setIntegerSetting(_ name: String, _ value: UInt64) throws {
        try setSetting(name, (0..<8).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) })
    }

    // MARK: - Contacts

    private static func contact(_ row: [SQLValue]) -> ContactDevice {
        ContactDevice(
            address: DeviceAddress(userId: row[0].string ?? "", deviceId: UInt32(truncatingIfNeeded: row[1].int64 ?? 0)),
            displayName: row[2].string ?? "", identityKey: row[3].bytes ?? [], envelopeKey: row[4].bytes ?? [],
            pendingIdentityKey: row[5].bytes, verified: (row[6].int64 ?? 0) != 0)
    }

    private static let contactColumns = "user_id, device_id, display_name, identity_key, envelope_key, pending_identity_key, verified"

    func contactDevice(_ address: DeviceAddress) throws -> ContactDevice? {
        try wrap {
            try database.query(
                "SELECT \(Self.contactColumns) FROM contact_devices WHERE user_id = ? AND device_id = ?",
                [.text(address.userId), .integer(Int64(address.deviceId))]
            ).first.map(Self.contact)
        }
    }

    func contactDevices(of userId: String) throws -> [ContactDevice] {
        try wrap {
            try database.query(
                "SELECT \(Self.contactColumns) FROM contact_devices WHERE user_id = ? ORDER BY device_id", [.text(userId)]
            ).map(Self.contact)
        }
    }

    /// Pins a device on first contact; later calls refresh only the name and envelope key.
    func pin(_ device: ContactDevice) throws {
        try wrap {
            try database.query(
                """
                INSERT INTO contact_devices(user_id, device_id, display_name, identity_key, envelope_key) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(user_id, device_id) DO UPDATE SET display_name = excluded.display_name, envelope_key = excluded.envelope_key
                """,
                [
                    .text(device.address.userId), .integer(Int64(device.address.deviceId)), .text(device.displayName),
                    .blob(device.identityKey), .blob(device.envelopeKey),
                ])
        }
    }

    /// Records a key that differs from the pinned one, so the user can be warned and can accept it.
    func recordChangedKey(_ address: DeviceAddress, identityKey: [UInt8], envelopeKey: [UInt8]) throws {
        try wrap {
            try database.query(
                """
                UPDATE contact_devices SET pending_identity_key = ?, pending_envelope_key = ?, verified = 0
                WHERE user_id = ? AND device_id = ?
                """,
                [.blob(identityKey), .blob(envelopeKey), .text(address.userId), .integer(Int64(address.deviceId))])
        }
    }

    /// Replaces a pinned key by the pending one, and forgets the sessions made with the old key.
    func acceptChangedKey(_ address: DeviceAddress) throws {
        try transaction {
            try database.query(
                """
                UPDATE contact_devices SET identity_key = pending_identity_key,
                    envelope_key = COALESCE(pending_envelope_key, envelope_key),
                    pending_identity_key = NULL, pending_envelope_key = NULL
                WHERE user_id = ? AND device_id = ? AND pending_identity_key IS NOT NULL
                """,
                [.text(address.userId), .integer(Int64(address.deviceId))])
            try database.query(
                "DELETE FROM sessions WHERE user_id = ? AND device_id = ?", [.text(address.userId), .integer(Int64(address.deviceId))])
        }
    }

    /// The user ids of known contacts whose display name equals `name`, ignoring case.
    func contactUserIds(named name: String) throws -> [String] {
        try wrap {
            try database.query(
                "SELECT DISTINCT user_id FROM contact_devices WHERE lower(display_name) = lower(?) ORDER BY user_id", [.text(name)]
            ).compactMap { $0.first?.string }
        }
    }

    func markVerified(_ userId: String) throws {
        try wrap { try database.query("UPDATE contact_devices SET verified = 1 WHERE user_id = ? AND pending_identity_key IS NULL", [.text(userId)]) }
    }

    // MARK: - Sessions

    private static func sessionContext(_ address: DeviceAddress) -> String { "session/\(address.userId)/\(address.deviceId)" }

    func sessions(with address: DeviceAddress) throws -> PeerSessions {
        let row = try wrap {
            try database.query(
                "SELECT sealed_state FROM sessions WHERE user_id = ? AND device_id = ?",
                [.text(address.userId), .integer(Int64(address.deviceId))]
            ).first
        }
        guard let sealed = row?.first?.bytes else { return PeerSessions() }
        var plain = try open(sealed, context: Self.sessionContext(address))
        defer { wipe(&plain) }
        do {
            return try PeerSessions(serialized: SecureBytes(copying: plain, storage: .wiped))
        } catch {
            throw ClientError.storage("the session state with \(address) is damaged: \(error)")
        }
    }

    func saveSessions(_ sessions: PeerSessions, with address: DeviceAddress) throws {
        let sealed = sessions.serialized().withUnsafeBytes { seal($0, context: Self.sessionContext(address)) }
        try wrap {
            try database.query(
                "INSERT OR REPLACE INTO sessions(user_id, device_id, sealed_state) VALUES (?, ?, ?)",
                [.text(address.userId), .integer(Int64(address.deviceId)), .blob(sealed)])
        }
    }

    // MARK: - Prekeys

    enum PrekeyKind: String {
        case signed
        case oneTime = "onetime"
    }

    func savePrekey(_ kind: PrekeyKind, id: UInt32, key: X25519PrivateKey, at time: UInt64) throws {
        let sealed = key.withUnsafeBytes { seal($0, context: "prekey/\(kind.rawValue)/\(id)") }
        try wrap {
            try database.query(
                "INSERT OR REPLACE INTO prekeys(kind, id, sealed_private, created_at) VALUES (?, ?, ?, ?)",
                [.text(kind.rawValue), .integer(Int64(id)), .blob(sealed), .integer(Int64(time))])
        }
    }

    func prekey(_ kind: PrekeyKind, id: UInt32) throws -> X25519PrivateKey? {
        let row = try wrap {
            try database.query("SELECT sealed_private FROM prekeys WHERE kind = ? AND id = ?", [.text(kind.rawValue), .integer(Int64(id))]).first
        }
        guard let sealed = row?.first?.bytes else { return nil }
        var plain = try open(sealed, context: "prekey/\(kind.rawValue)/\(id)")
        defer { wipe(&plain) }
        return try X25519PrivateKey(secret: SecureBytes(copying: plain))
    }

    func deletePrekey(_ kind: PrekeyKind, id: UInt32) throws {
        try wrap { try database.query("DELETE FROM prekeys WHERE kind = ? AND id = ?", [.text(kind.rawValue), .integer(Int64(id))]) }
    }

    /// Deletes signed prekeys created before `time`, except `keep`.
    func pruneSignedPrekeys(olderThan time: UInt64, keep: UInt32) throws {
        try wrap {
            try database.query(
                "DELETE FROM prekeys WHERE kind = 'signed' AND created_at < ? AND id != ?", [.integer(Int64(time)), .integer(Int64(keep))])
        }
    }

    func oneTimePrekeyCount() throws -> Int {
        try wrap { Int(try database.query("SELECT COUNT(*) FROM prekeys WHERE kind = 'onetime'").first?.first?.int64 ?? 0) }
    }

    // MARK: - Messages

    private static func contentContext(_ id: String, _ direction: StoredMessage.Direction) -> String { "\(id)/\(direction.rawValue)" }

    /// Stores a message unless one with the same id and direction exists.
    ///
    /// - Returns: `true` when the message is new.
    @discardableResult
    func insertMessage(_ message: StoredMessage, storedAt: Date = Date()) throws -> Bool {
        let sealed = seal(message.content.encoded(), context: Self.contentContext(message.id, message.direction))
        return try wrap {
            try database.query(
                """
                INSERT OR IGNORE INTO messages(id, direction, peer_user, peer_device, peer_name, sent_at, stored_at, read, sealed_content)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .text(message.id), .text(message.direction.rawValue), .text(message.peer.userId),
                    .integer(Int64(message.peer.deviceId)), .text(message.peerName), .integer(Int64(message.sentAt.timeIntervalSince1970)),
                    .integer(Int64(storedAt.timeIntervalSince1970 * 1000)), .integer(message.read ? 1 : 0), .blob(sealed),
                ])
            return database.changes > 0
        }
    }

    /// Every message, oldest first.
    func messages() throws -> [StoredMessage] {
        let rows = try wrap {
            try database.query(
                """
                SELECT id, direction, peer_user, peer_device, peer_name, sent_at, read, delivered_at, read_at, sealed_content
                FROM messages ORDER BY stored_at, id
                """)
        }
        return try rows.map(decodeRow)
    }

    private func decodeRow(_ row: [SQLValue]) throws -> StoredMessage {
        let id = row[0].string ?? ""
        let direction = StoredMessage.Direction(rawValue: row[1].string ?? "") ?? .incoming
        let plaintext = try open(row[9].bytes ?? [], context: Self.contentContext(id, direction))
        let date = { (value: SQLValue) in value.int64.map { Date(timeIntervalSince1970: TimeInterval($0)) } }
        return StoredMessage(
            id: id, direction: direction,
            peer: DeviceAddress(userId: row[2].string ?? "", deviceId: UInt32(truncatingIfNeeded: row[3].int64 ?? 0)),
            peerName: row[4].string ?? "", sentAt: Date(timeIntervalSince1970: TimeInterval(row[5].int64 ?? 0)),
            read: (row[6].int64 ?? 0) != 0, deliveredAt: date(row[7]), readAt: date(row[8]), content: try NoteContent.decode(plaintext))
    }

    func markRead(_ id: String) throws {
        try wrap { try database.query("UPDATE messages SET read = 1 WHERE id = ? AND direction = 'in'", [.text(id)]) }
    }

    /// Records a receipt for an outgoing message; the first time wins.
    func recordReceipt(_ id: String, read: Bool, at time: Date) throws {
        let column = read ? "read_at" : "delivered_at"
        try wrap {
            try database.query(
                "UPDATE messages SET \(column) = COALESCE(\(column), ?) WHERE id = ? AND direction = 'out'",
                [.integer(Int64(time.timeIntervalSince1970)), .text(id)])
            if read {
                try database.query(
                    "UPDATE messages SET delivered_at = COALESCE(delivered_at, ?) WHERE id = ? AND direction = 'out'",
                    [.integer(Int64(time.timeIntervalSince1970)), .text(id)])
            }
        }
    }

    // MARK: - Outbox

    struct OutboxItem {
        var seq: Int64
        var messageId: String
        var recipient: DeviceAddress
        var idempotencyId: [UInt8]
        var sealed: [UInt8]
    }

    func enqueue(messageId: String, recipient: DeviceAddress, sealed: [UInt8]) throws {
        try wrap {
            try database.query(
                "INSERT INTO outbox(message_id, recipient_user, recipient_device, idempotency_id, sealed, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    .text(messageId), .text(recipient.userId), .integer(Int64(recipient.deviceId)), .blob(Random.bytes(count: 16)),
                    .blob(sealed), .integer(Int64(Date().timeIntervalSince1970)),
                ])
        }
    }

    func outbox() throws -> [OutboxItem] {
        try wrap {
            try database.query("SELECT seq, message_id, recipient_user, recipient_device, idempotency_id, sealed FROM outbox ORDER BY seq").map { row in
                OutboxItem(
                    seq: row[0].int64 ?? 0, messageId: row[1].string ?? "",
                    recipient: DeviceAddress(userId: row[2].string ?? "", deviceId: UInt32(truncatingIfNeeded: row[3].int64 ?? 0)),
                    idempotencyId: row[4].bytes ?? [], sealed: row[5].bytes ?? [])
            }
        }
    }

    /// The ids of messages this device sent (receipts are not messages).
    func outgoingMessageIds() throws -> Set<String> {
        try wrap { Set(try database.query("SELECT id FROM messages WHERE direction = 'out'").compactMap { $0.first?.string }) }
    }

    func outboxCount() throws -> Int {
        try wrap { Int(try database.query("SELECT COUNT(*) FROM outbox").first?.first?.int64 ?? 0) }
    }

    func removeFromOutbox(_ seq: Int64) throws {
        try wrap { try database.query("DELETE FROM outbox WHERE seq = ?", [.integer(seq)]) }
    }

    func noteAttempt(_ seq: Int64) throws {
        try wrap { try database.query("UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?", [.integer(seq)]) }
    }
}
