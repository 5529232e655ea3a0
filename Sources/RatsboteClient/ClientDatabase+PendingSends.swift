import Foundation
import RatsboteCrypto
import RatsboteWire

/// A note with documents that waits for its uploads, so that a send interrupted by a dropped
/// connection or a restart continues where the relay's copies end.
struct PendingSend {
    /// Hex of 16 random bytes. It names the rows and is part of their associated data.
    var id: String
    /// Recipients (user ids, names or groups) that have not received the note yet.
    var recipients: [String]
    var subject: String
    var body: String
    var inReplyTo: String?
    /// Device count each blob is created for: the devices of every recipient at the first attempt.
    var deviceCount: UInt32
    /// The devices counted in ``deviceCount``. A resumed send delivers the note to these only, so a
    /// device enrolled in between cannot take a release that a counted device needs. Empty in sends
    /// stored before the list existed, which deliver to every current device.
    var devices: [DeviceAddress] = []
    var documents: [PendingDocument]
}

/// One encrypted document of a ``PendingSend`` and how far its upload is.
struct PendingDocument {
    var position: Int
    /// Hex of 16 random bytes, which names the ciphertext file `<fileId>.cipher` in the outgoing folder.
    var fileId: String
    var ciphertextSize: UInt64
    /// `nil` until the relay created the blob.
    var blobId: [UInt8]?
    /// File name, media type, size, key, header and hash. Its blob id is set from ``blobId``.
    var document: RemoteDocument
}

extension ClientDatabase {
    private static func sendContext(_ id: String) -> String { "pending-send/\(id)" }
    private static func documentContext(_ id: String, _ position: Int) -> String { "pending-document/\(id)/\(position)" }
    private static let unsetBlobId = [UInt8](repeating: 0, count: WireLimits.blobId)

    private func sealedNote(_ send: PendingSend) -> [UInt8] {
        var writer = WireWriter()
        writer.writeList(send.recipients) { w, recipient in w.writeString(recipient) }
        writer.writeString(send.subject)
        writer.writeString(send.body)
        writer.writeString(send.inReplyTo ?? "")
        writer.writeUInt32(send.deviceCount)
        writer.writeList(send.devices) { w, device in
            w.writeString(device.userId)
            w.writeUInt32(device.deviceId)
        }
        return seal(writer.bytes, context: Self.sendContext(send.id))
    }

    /// Stores a new pending send with its documents in one transaction.
    func insertPendingSend(_ send: PendingSend, at time: Date = Date()) throws {
        try transaction {
            try database.query(
                "INSERT INTO pending_sends(id, created_at, sealed) VALUES (?, ?, ?)",
                [.text(send.id), .integer(Int64(time.timeIntervalSince1970 * 1000)), .blob(sealedNote(send))])
            for document in send.documents {
                var writer = WireWriter()
                var reference = document.document
                reference.blobId = Self.unsetBlobId
                reference.encode(to: &writer)
                let sealed = seal(writer.bytes, context: Self.documentContext(send.id, document.position))
                try database.query(
                    "INSERT INTO pending_documents(send_id, position, file_id, ciphertext_size, sealed) VALUES (?, ?, ?, ?, ?)",
                    [.text(send.id), .integer(Int64(document.position)), .text(document.fileId),
                     .integer(Int64(document.ciphertextSize)), .blob(sealed)])
            }
        }
    }

    /// Records the blob the relay created for one document.
    func setPendingBlobId(_ blobId: [UInt8], send id: String, position: Int) throws {
        try wrap {
            try database.query(
                "UPDATE pending_documents SET blob_id = ? WHERE send_id = ? AND position = ?",
                [.blob(blobId), .text(id), .integer(Int64(position))])
        }
    }

    /// Replaces the recipients still waiting for the note, after some of them received it.
    func updatePendingRecipients(_ send: PendingSend) throws {
        try wrap {
            try database.query("UPDATE pending_sends SET sealed = ? WHERE id = ?", [.blob(sealedNote(send)), .text(send.id)])
        }
    }

    /// Deletes a pending send and its document rows. It opens no transaction, so callers may run it inside one.
    func deletePendingSend(_ id: String) throws {
        try wrap {
            // The send row goes first: document rows without it are never read, whereas a send
            // row whose documents are gone would go out as a note without its documents.
            try database.query("DELETE FROM pending_sends WHERE id = ?", [.text(id)])
            try database.query("DELETE FROM pending_documents WHERE send_id = ?", [.text(id)])
        }
    }

    func pendingSendCount() throws -> Int {
        try wrap { Int(try database.query("SELECT COUNT(*) FROM pending_sends").first?.first?.int64 ?? 0) }
    }

    /// Returns every pending send, oldest first, opened with the database key.
    func pendingSends() throws -> [PendingSend] {
        let rows = try wrap { try database.query("SELECT id, sealed FROM pending_sends ORDER BY created_at, id") }
        return try rows.map { row in
            let id = row[0].string ?? ""
            var plain = try open(row[1].bytes ?? [], context: Self.sendContext(id))
            defer { wipe(&plain) }
            var reader = WireReader(plain, structure: "PendingSend")
            var send: PendingSend
            do {
                send = PendingSend(
                    id: id,
                    recipients: try reader.readList("recipients", maximum: 1024) { try $0.readString("recipient", maximum: 1024) },
                    subject: try reader.readString("subject", maximum: NoteContent.maximumSubjectBytes),
                    body: try reader.readString("body", maximum: NoteContent.maximumBodyBytes), inReplyTo: nil,
                    deviceCount: 0, documents: [])
                let reply = try reader.readString("inReplyTo", maximum: 64)
                send.inReplyTo = reply.isEmpty ? nil : reply
                send.deviceCount = try reader.readUInt32("deviceCount")
                if !reader.isAtEnd {
                    send.devices = try reader.readList("devices", maximum: WireLimits.devicesPerUser * 1024) { r in
                        DeviceAddress(
                            userId: try r.readString("device.userId", maximum: WireLimits.userId),
                            deviceId: try r.readUInt32("device.deviceId"))
                    }
                }
                try reader.finish()
            } catch {
                throw ClientError.storage("the pending send \(id) is damaged: \(error)")
            }
            send.documents = try pendingDocuments(of: id)
            return send
        }
    }

    private func pendingDocuments(of id: String) throws -> [PendingDocument] {
        let rows = try wrap {
            try database.query(
                "SELECT position, file_id, ciphertext_size, blob_id, sealed FROM pending_documents WHERE send_id = ? ORDER BY position",
                [.text(id)])
        }
        return try rows.map { row in
            let position = Int(row[0].int64 ?? 0)
            var plain = try open(row[4].bytes ?? [], context: Self.documentContext(id, position))
            defer { wipe(&plain) }
            var reader = WireReader(plain, structure: "PendingDocument")
            let document: RemoteDocument
            do {
                document = try RemoteDocument(from: &reader)
                try reader.finish()
            } catch {
                throw ClientError.storage("document \(position) of the pending send \(id) is damaged: \(error)")
            }
            return PendingDocument(
                position: position, fileId: row[1].string ?? "", ciphertextSize: UInt64(row[2].int64 ?? 0), blobId: row[3].bytes,
                document: document)
        }
    }

    // MARK: - Saved documents

    /// Records that the blob document at `position` of a message was saved on this device.
    func markDocumentSaved(messageId: String, position: Int, at time: Date = Date()) throws {
        try wrap {
            try database.query(
                "INSERT OR IGNORE INTO saved_documents(message_id, position, saved_at) VALUES (?, ?, ?)",
                [.text(messageId), .integer(Int64(position)), .integer(Int64(time.timeIntervalSince1970))])
        }
    }

    /// Returns the positions of a message's blob documents that this device saved.
    func savedDocumentPositions(messageId: String) throws -> Set<Int> {
        try wrap {
            Set(try database.query("SELECT position FROM saved_documents WHERE message_id = ?", [.text(messageId)])
                .compactMap { $0.first?.int64.map(Int.init) })
        }
    }
}
