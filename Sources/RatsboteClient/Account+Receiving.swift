import Foundation
import RatsboteCrypto
import RatsboteSession
import RatsboteWire

/// The outcome of `sync`.
public struct SyncReport: Sendable, Equatable {
    /// Envelopes the relay accepted from the outbox (messages and receipts).
    public var sent: Int = 0
    /// New messages stored in the inbox.
    public var received: Int = 0
    /// Receipts that confirmed delivery or reading of messages this device sent.
    public var receipts: Int = 0
    /// Envelopes delivered again that were already processed.
    public var duplicates: Int = 0
    /// Envelopes that could not be opened or verified, and were dropped.
    public var rejected: Int = 0
    /// Envelopes whose sender's identity key changed; they wait for ``Account/confirmSafetyNumber(of:)``.
    public var keyChanges: [String] = []
    /// Envelopes that expired on the relay before this device fetched them.
    public var expiredUnread: Int = 0
    /// Messages still waiting in the outbox.
    public var pending: Int = 0
    /// Notes with documents whose uploads are still incomplete; the next sync continues them.
    public var pendingDocumentSends: Int = 0
}

/// Receiving: opening sealed envelopes, checking the sender, decrypting in the session.
extension Account {
    /// Continues interrupted document sends, sends the outbox, then fetches, opens, stores and
    /// acknowledges every waiting envelope, confirms delivery to the senders, and tops up
    /// prekeys when the relay reports few left.
    ///
    /// An envelope is acknowledged only after its message is stored, so a crash in between means
    /// a second delivery, which the session recognises as a duplicate. `progress` receives the
    /// state of a resumed document upload, for a progress bar.
    public func sync(progress: ((TransferProgress) -> Void)? = nil) throws -> SyncReport {
        var report = SyncReport()
        var connection = try connect()
        // The newest revocation list first, so envelopes from revoked senders are refused.
        try refreshTrust(over: connection)
        let resumed = resumePendingSends(connection: &connection, progress: progress)
        report.pendingDocumentSends = resumed.pending
        report.sent = try flushOutbox(over: connection).delivered + resumed.delivered

        guard case .receiving(let backlog, let expired, _) = try connection.request(.receive) else {
            throw ClientError.protocolViolation("unexpected response to receive")
        }
        report.expiredUnread = Int(expired)

        var acknowledged: [UInt64] = []
        var delivered: [DeviceAddress: [[UInt8]]] = [:]
        var prekeysLow = try database.oneTimePrekeyCount() < Self.oneTimePrekeyBatch / 4
        var waiting = Int(backlog)
        while true {
            // Wait for the announced backlog; afterwards take what else arrives without waiting long.
            guard let push = try connection.nextPush(wait: waiting > 0 ? connectionTimeout : 0.2) else { break }
            switch push {
            case .prekeysLow:
                prekeysLow = true
                continue
            case .envelope(let id, _, let sealed):
                waiting -= 1
                switch try accept(sealed, over: connection) {
                case .stored(let sender, let messageId):
                    report.received += 1
                    delivered[sender, default: []].append(messageId)
                case .receipt: report.receipts += 1
                case .duplicate: report.duplicates += 1
                case .rejected: report.rejected += 1
                case .keyChanged(let userId): report.keyChanges.append(userId)
                }
                acknowledged.append(id)
                if acknowledged.count == WireLimits.acknowledgementIds {
                    _ = try connection.request(.acknowledge(ids: acknowledged))
                    acknowledged.removeAll()
                }
            }
        }
        if !acknowledged.isEmpty { _ = try connection.request(.acknowledge(ids: acknowledged)) }

        for (sender, ids) in delivered { try queueReceipt(ids, read: false, to: sender) }
        try maintainPrekeys(over: connection, relayReportedLow: prekeysLow)
        report.sent += try flushOutbox(over: connection).delivered
        report.pending = try database.outboxCount()
        return report
    }

    /// The outcome of one envelope.
    enum Acceptance {
        case stored(sender: DeviceAddress, messageId: [UInt8])
        case receipt
        case duplicate
        case rejected
        case keyChanged(String)
    }

    func accept(_ sealed: [UInt8], over connection: RelayConnection) throws -> Acceptance {
        let content: SealedSenderContent
        do {
            content = try SealedSender.open(sealed, with: envelopeKey)
        } catch {
            logger.warning("dropping an envelope that does not open", ["error": .public("\(error)")])
            return .rejected
        }
        let sender = content.sender
        do {
            try checkSenderCertificate(content.certificate, sender: sender, identityKey: content.senderIdentityKey.rawRepresentation)
        } catch {
            logger.warning("dropping an envelope whose sender certificate fails", ["sender": .public(sender.description), "error": .public("\(error)")])
            return .rejected
        }

        // The sender's identity key must be the pinned one, or on first contact the one the
        // directory lists for that device.
        let device: ContactDevice
        if let pinned = try database.contactDevice(sender) {
            guard constantTimeEqual(pinned.identityKey, content.senderIdentityKey.rawRepresentation) else {
                try database.recordChangedKey(sender, identityKey: content.senderIdentityKey.rawRepresentation, envelopeKey: pinned.envelopeKey)
                logger.warning("envelope signed by a changed identity key", ["sender": .public(sender.userId)])
                return .keyChanged(sender.userId)
            }
            device = pinned
        } else {
            let listed = try? resolve(sender.userId, over: connection)
            guard let listed, listed.userId == sender.userId,
                let entry = listed.devices.first(where: { $0.deviceId == sender.deviceId }),
                constantTimeEqual(entry.identityKey, content.senderIdentityKey.rawRepresentation)
            else {
                logger.warning("dropping an envelope whose sender key the directory does not list", ["sender": .public(sender.userId)])
                return .rejected
            }
            device = try checkedDevice(userId: listed.userId, displayName: listed.displayName, listed: entry)
        }

        // The session must belong to the same identity key the envelope claims.
        var sessions = try database.sessions(with: sender)
        if case .preKey(let first) = content.message {
            guard first.identityKey == content.senderIdentityKey else { return .rejected }
        } else if !sessions.remoteIdentityKeys.allSatisfy({ $0 == content.senderIdentityKey }) {
            return .rejected
        }

        let decrypted: PeerSessions.Decrypted
        do {
            var keySource = SystemKeyPairSource()
            decrypted = try sessions.decrypt(
                content.message, localIdentity: identityKey, prekeys: { try self.prekeyPair(for: $0) }, using: &keySource)
        } catch SessionError.duplicate {
            return .duplicate
        } catch {
            logger.warning("dropping an envelope that does not decrypt", ["sender": .public(sender.userId), "error": .public("\(error)")])
            return .rejected
        }

        let payload: MessagePayload
        do {
            payload = try MessagePayload.decode(decrypted.plaintext)
        } catch {
            // The session advanced, so its state is kept even though the content is unusable.
            try database.saveSessions(sessions, with: sender)
            logger.warning("dropping content that does not decode", ["sender": .public(sender.userId), "error": .public("\(error)")])
            return .rejected
        }

        return try database.transaction { () -> Acceptance in
            try database.saveSessions(sessions, with: sender)
            if let used = decrypted.consumedOneTimePrekeyID { try database.deletePrekey(.oneTime, id: used) }
            return try store(payload, from: sender, name: device.displayName)
        }
    }

    private func store(_ payload: MessagePayload, from sender: DeviceAddress, name: String) throws -> Acceptance {
        let id = payload.messageID.bytes
        let sentAt = Date(timeIntervalSince1970: TimeInterval(payload.sentAt / 1000))
        var note: NoteContent
        switch payload.content {
        case .note(let content):
            note = NoteContent(messageId: id, threadId: content.threadID.bytes, inReplyTo: nil, subject: content.subject, body: content.body, attachments: [])
        case .reply(let reply):
            let original = try? message(Encoding.hex(reply.inReplyTo.bytes))
            note = NoteContent(
                messageId: id, threadId: reply.threadID.bytes, inReplyTo: reply.inReplyTo.bytes,
                subject: Self.replySubject(original?.content.subject ?? ""), body: reply.body, attachments: [])
        case .documentNote(let content):
            var attachments: [Attachment] = []
            var remote: [RemoteDocument] = []
            for document in content.documents {
                if !document.isInline {
                    remote.append(RemoteDocument(reference: document))
                    continue
                }
                do {
                    attachments.append(try Documents.decryptInline(document))
                } catch {
                    logger.warning("dropping a document that fails its checks", ["sender": .public(sender.userId), "error": .public("\(error)")])
                    return .rejected
                }
            }
            note = NoteContent(
                messageId: id, threadId: content.threadID.bytes, inReplyTo: content.inReplyTo?.bytes, subject: content.subject,
                body: content.body, attachments: attachments)
            note.remoteDocuments = remote
        case .deliveryReceipt(let ids), .readReceipt(let ids):
            let read: Bool
            if case .readReceipt = payload.content { read = true } else { read = false }
            for messageId in ids { try database.recordReceipt(Encoding.hex(messageId.bytes), read: read, at: sentAt) }
            return .receipt
        case .unknown(let kind, _):
            // A newer client's content kind: kept as a placeholder, never dropped silently.
            note = NoteContent(
                messageId: id, threadId: id, inReplyTo: nil, subject: "", body: "", attachments: [], unsupportedKind: kind)
        }
        let isNew = try database.insertMessage(
            StoredMessage(id: Encoding.hex(id), direction: .incoming, peer: sender, peerName: name, sentAt: sentAt, read: false, content: note))
        return isNew ? .stored(sender: sender, messageId: id) : .duplicate
    }

    /// Marks an incoming message as read and queues a read receipt to its sender.
    public func markRead(_ id: String) throws {
        let message = try message(id)
        guard message.direction == .incoming, !message.read else { return }
        try database.markRead(message.id)
        try queueReceipt([message.content.messageId], read: true, to: message.peer)
    }
}
