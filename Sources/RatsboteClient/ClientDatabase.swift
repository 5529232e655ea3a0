import Foundation
import RatsboteCrypto
import RatsboteStorage
import RatsboteWire

/// A message as the local database holds it, decrypted.
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
    public var read: Bool
    public var content: NoteContent

    /// The first eight hex digits, which the CLI shows and accepts as the message id.
    public var shortId: String { String(id.prefix(8)) }
}

/// The client's SQLite file: account settings, contacts, messages and the outbox.
///
/// Message content (subject, body, attachments) is stored sealed with XChaCha20-Poly1305 under
/// the database key from the key store, with the message id and direction as associated data, so
/// no plaintext body is ever on disk. Addresses and times are stored in the clear: the device
/// needs them to list the inbox before the user opens a message.
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
            pending_identity_key BLOB,
            PRIMARY KEY (user_id, device_id)
        );
        CREATE TABLE messages (
            id TEXT PRIMARY KEY,
            direction TEXT NOT NULL,
            peer_user TEXT NOT NULL,
            peer_device INTEGER NOT NULL,
            peer_name TEXT NOT NULL,
            sent_at INTEGER NOT NULL,
            stored_at INTEGER NOT NULL,
            read INTEGER NOT NULL DEFAULT 0,
            sealed_content BLOB NOT NULL
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
        """
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

    private func wrap<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StorageError {
            throw ClientError.storage(error.description)
        }
    }

    // MARK: - Settings

    func setting(_ name: String) throws -> [UInt8]? {
        try wrap { try database.query("SELECT value FROM settings WHERE name = ?", [.text(name)]).first?.first?.bytes }
    }

    func setSetting(_ name: String, _ value: [UInt8]) throws {
        try wrap { try database.query("INSERT OR REPLACE INTO settings(name, value) VALUES (?, ?)", [.text(name), .blob(value)]) }
    }

    // MARK: - Contacts

    /// The identity key pinned for a contact's device the first time it was seen, or `nil`.
    func pinnedIdentityKey(_ address: DeviceAddress) throws -> [UInt8]? {
        try wrap {
            try database.query(
                "SELECT identity_key FROM contact_devices WHERE user_id = ? AND device_id = ?",
                [.text(address.userId), .integer(Int64(address.deviceId))]
            ).first?.first?.bytes
        }
    }

    /// Pins a device's identity key on first contact.
    func pinIdentityKey(_ address: DeviceAddress, displayName: String, key: [UInt8]) throws {
        try wrap {
            try database.query(
                "INSERT OR IGNORE INTO contact_devices(user_id, device_id, display_name, identity_key) VALUES (?, ?, ?, ?)",
                [.text(address.userId), .integer(Int64(address.deviceId)), .text(displayName), .blob(key)])
        }
    }

    /// Records a key that differs from the pinned one, so the user can be told and can accept it.
    func recordChangedKey(_ address: DeviceAddress, key: [UInt8]) throws {
        try wrap {
            try database.query(
                "UPDATE contact_devices SET pending_identity_key = ? WHERE user_id = ? AND device_id = ?",
                [.blob(key), .text(address.userId), .integer(Int64(address.deviceId))])
        }
    }

    // MARK: - Messages

    private func seal(_ content: NoteContent, id: String, direction: StoredMessage.Direction) -> [UInt8] {
        XChaCha20Poly1305.sealWithRandomNonce(content.encoded(), using: key, authenticating: Array("\(id)/\(direction.rawValue)".utf8))
    }

    /// Stores a message unless one with the same id and direction exists.
    ///
    /// - Returns: `true` when the message is new.
    @discardableResult
    func insertMessage(_ message: StoredMessage, storedAt: Date = Date()) throws -> Bool {
        try wrap {
            let sealed = seal(message.content, id: message.id, direction: message.direction)
            try database.query(
                """
                INSERT OR IGNORE INTO messages(id, direction, peer_user, peer_device, peer_name, sent_at, stored_at, read, sealed_content)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .text(message.id + ":" + message.direction.rawValue), .text(message.direction.rawValue), .text(message.peer.userId),
                    .integer(Int64(message.peer.deviceId)), .text(message.peerName), .integer(Int64(message.sentAt.timeIntervalSince1970)),
                    .integer(Int64(storedAt.timeIntervalSince1970 * 1000)), .integer(message.read ? 1 : 0), .blob(sealed),
                ])
            return database.changes > 0
        }
    }

    /// Every message, oldest first.
    func messages() throws -> [StoredMessage] {
        try wrap {
            try database.query(
                "SELECT id, direction, peer_user, peer_device, peer_name, sent_at, read, sealed_content FROM messages ORDER BY stored_at, id"
            ).map(decodeRow)
        }
    }

    private func decodeRow(_ row: [SQLValue]) throws -> StoredMessage {
        let rowId = row[0].string ?? ""
        let id = String(rowId.prefix(while: { $0 != ":" }))
        let direction = StoredMessage.Direction(rawValue: row[1].string ?? "") ?? .incoming
        let sealed = row[7].bytes ?? []
        let plaintext: [UInt8]
        do {
            plaintext = try XChaCha20Poly1305.openWithNonce(sealed, using: key, authenticating: Array("\(id)/\(direction.rawValue)".utf8))
        } catch {
            throw ClientError.storage("message \(id) does not decrypt with this key store's database key")
        }
        return StoredMessage(
            id: id, direction: direction,
            peer: DeviceAddress(userId: row[2].string ?? "", deviceId: UInt32(truncatingIfNeeded: row[3].int64 ?? 0)),
            peerName: row[4].string ?? "", sentAt: Date(timeIntervalSince1970: TimeInterval(row[5].int64 ?? 0)),
            read: (row[6].int64 ?? 0) != 0, content: try NoteContent.decode(plaintext))
    }

    func markRead(_ id: String) throws {
        try wrap { try database.query("UPDATE messages SET read = 1 WHERE id = ?", [.text(id + ":in")]) }
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

    func removeFromOutbox(_ seq: Int64) throws {
        try wrap { try database.query("DELETE FROM outbox WHERE seq = ?", [.integer(seq)]) }
    }

    func noteAttempt(_ seq: Int64) throws {
        try wrap { try database.query("UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?", [.integer(seq)]) }
    }
}

extension ClientDatabase {
    /// The display name stored with a pinned device, or `nil`.
    func pinnedName(_ address: DeviceAddress) throws -> String? {
        try wrap {
            try database.query(
                "SELECT display_name FROM contact_devices WHERE user_id = ? AND device_id = ?",
                [.text(address.userId), .integer(Int64(address.deviceId))]
            ).first?.first?.string
        }
    }
}
