import Foundation
import RatsboteCrypto
import RatsboteSession
import RatsboteWire

/// Writing messages: sessions per recipient device, sealed sender, the outbox.
extension Account {
    /// Writes a note to `recipient` (a user id or a name), encrypts it in a session with every
    /// device of the recipient, stores it as sent, and delivers the envelopes; what the relay does
    /// not accept now stays in the outbox for ``sync()``.
    ///
    /// When the relay cannot be reached, a note to a contact that already has sessions is still
    /// encrypted and kept in the outbox; ``SendReport/queued`` counts it. When it can, interrupted
    /// document sends continue first.
    ///
    /// `recipient` may name a group of the organisation (its id or name): the note then goes to
    /// every current member's devices except this user's, under one message id. Every member is
    /// resolved and checked before anything is encrypted, so a refused member stops the whole send.
    public func send(
        to recipient: String, subject: String, body: String, attachments: [Attachment] = [], inReplyTo: String? = nil
    ) throws -> SendReport {
        var connection: RelayConnection?
        var offlineReason: ClientError?
        do {
            connection = try connect()
        } catch let error as ClientError {
            guard case .relayUnreachable = error else { throw error }
            offlineReason = error
        }

        if var open = connection {
            try refreshTrust(over: open)
            _ = resumePendingSends(connection: &open, progress: nil)
            connection = open
        }
        let (group, targets) = try resolveTargets(recipient, over: connection, offlineError: offlineReason)
        return try deliverNote(
            to: targets, group: group, subject: subject, body: body, attachments: attachments, remoteDocuments: [],
            inReplyTo: inReplyTo, over: connection)
    }

    /// Resolves a user or a group to the recipients whose devices get the note.
    func resolveTargets(
        _ recipient: String, over connection: RelayConnection?, offlineError: ClientError?
    ) throws -> (group: GroupDefinition?, targets: [Recipient]) {
        let group = try group(named: recipient)
        if let group {
            let members = group.members.filter { $0 != settings.address.userId }
            guard !members.isEmpty else { throw ClientError.groupEmpty(group.groupId) }
            return (group, try members.map { try resolveRecipient($0, over: connection, offlineError: offlineError) })
        }
        return (nil, [try resolveRecipient(recipient, over: connection, offlineError: offlineError)])
    }

    /// Encrypts one note for every device of `targets`, stores it as sent and flushes the outbox.
    ///
    /// `whileStoring` runs in the transaction that stores the sent message, so a caller's own
    /// bookkeeping (a pending document send) changes together with it or not at all.
    func deliverNote(
        to targets: [Recipient], group: GroupDefinition?, subject: String, body: String, attachments: [Attachment],
        remoteDocuments: [RemoteDocument], inReplyTo: String?, over connection: RelayConnection?,
        messageId fixedMessageId: [UInt8]? = nil, whileStoring: (() throws -> Void)? = nil
    ) throws -> SendReport {
        let target = targets[0]
        let original = try inReplyTo.map { try message($0) }
        let messageId = fixedMessageId ?? Random.bytes(count: 16)
        let threadId = original?.content.threadId ?? messageId
        var stored = NoteContent(
            messageId: messageId, threadId: threadId, inReplyTo: original?.content.messageId, subject: subject, body: body,
            attachments: attachments)
        stored.remoteDocuments = remoteDocuments
        let content = try sessionContent(for: stored, original: original)
        let payload = try MessagePayload(messageID: try MessageID(bytes: messageId), sentAt: now * 1000, content: content).encode()

        let idHex = Encoding.hex(messageId)
        for target in targets { try encryptAndQueue(payload, messageId: idHex, to: target, over: connection) }
        try database.transaction {
            try database.insertMessage(
                StoredMessage(
                    id: idHex, direction: .outgoing, peer: target.devices[0].address, peerName: group?.name ?? target.displayName,
                    sentAt: Date(timeIntervalSince1970: TimeInterval(now)), read: true, content: stored))
            try whileStoring?()
        }

        var delivered = 0
        if let connection { delivered = try flushOutbox(over: connection).delivered }
        let pending = try database.outboxCount()
        let named: DirectoryEntry
        if let group {
            named = DirectoryEntry(
                userId: group.groupId, displayName: group.name, role: group.kind == .committee ? "committee" : "unit", unit: "", devices: [])
        } else {
            named = DirectoryEntry(userId: target.userId, displayName: target.displayName, role: target.role, unit: target.unit, devices: [])
        }
        return SendReport(
            messageId: idHex, recipient: named, groupMembers: group == nil ? [] : targets.map(\.userId), delivered: delivered,
            queued: pending)
    }

    /// The session content for a message: a plain note or reply when that carries everything,
    /// otherwise a note with documents (which also carries a reply's own subject).
    private func sessionContent(for note: NoteContent, original: StoredMessage?) throws -> Content {
        let threadID = try MessageID(bytes: note.threadId)
        let replyTo = try note.inReplyTo.map { try MessageID(bytes: $0) }
        if note.attachments.isEmpty && note.remoteDocuments.isEmpty {
            guard let replyTo, let original else {
                return .note(Note(subject: note.subject, body: note.body, threadID: threadID))
            }
            if note.subject == Self.replySubject(original.content.subject) {
                return .reply(Reply(inReplyTo: replyTo, threadID: threadID, body: note.body))
            }
        }
        let inline = try note.attachments.map { try Documents.encryptInline($0) }
        let total = inline.reduce(0) { $0 + $1.inlineCiphertext.count }
        guard total <= Documents.maximumInlineBytes else {
            throw ClientError.attachmentTooLarge(path: note.attachments.map(\.fileName).joined(separator: ", "), size: total, maximum: Documents.maximumInlineBytes)
        }
        let documents = inline + note.remoteDocuments.map(\.reference)
        return .documentNote(DocumentNote(threadID: threadID, inReplyTo: replyTo, subject: note.subject, body: note.body, documents: documents))
    }

    /// The subject a reply gets by default: the original's, with "Re: " unless it has one.
    public static func replySubject(_ subject: String) -> String {
        let lowered = subject.lowercased()
        return lowered.hasPrefix("re:") || lowered.hasPrefix("aw:") ? subject : "Re: " + subject
    }

    /// A recipient resolved to devices with pinned keys.
    struct Recipient {
        var userId: String
        var displayName: String
        var role: String
        var unit: String
        var devices: [ContactDevice]
    }

    /// Resolves through the relay's directory when connected, else from the contacts already known.
    func resolveRecipient(_ recipient: String, over connection: RelayConnection?, offlineError: ClientError?) throws -> Recipient {
        guard let connection else {
            let known = try database.contactDevices(of: recipient)
            // Without the relay there is no prekey bundle, so nothing can be encrypted or kept.
            guard !known.isEmpty else { throw ClientError.noSessionOffline(userId: recipient) }
            // The revocation list from the last refresh stops encryption to revoked devices even offline.
            let usable = try known.filter { try !isRevokedOrExpired($0.address) }
            guard !usable.isEmpty else { throw ClientError.recipientRevoked(recipient) }
            return Recipient(userId: recipient, displayName: usable[0].displayName, role: "", unit: "", devices: usable)
        }
        let entry: DirectoryEntry
        do {
            entry = try resolve(recipient, over: connection)
        } catch ClientError.recipientNotFound(let name) {
            // The relay lists no revoked participant; a known contact that vanished is named as revoked.
            let known = try database.contactDevices(of: name)
            if !known.isEmpty, try known.allSatisfy({ try isRevokedOrExpired($0.address) }) { throw ClientError.recipientRevoked(name) }
            throw ClientError.recipientNotFound(name)
        }
        guard !entry.devices.isEmpty else { throw ClientError.recipientHasNoDevice(entry.userId) }
        var devices: [ContactDevice] = []
        for device in entry.devices {
            devices.append(try checkedDevice(userId: entry.userId, displayName: entry.displayName, listed: device))
        }
        return Recipient(userId: entry.userId, displayName: entry.displayName, role: entry.role, unit: entry.unit, devices: devices)
    }

    /// Compares a listed device with the pinned one: pins it on first contact, refuses a changed key.
    ///
    /// - Throws: ``ClientError/identityKeyChanged(userId:)`` when the identity key differs from
    ///   the pinned one, or a changed key is still waiting for the user's confirmation.
    func checkedDevice(userId: String, displayName: String, listed: DeviceKeys) throws -> ContactDevice {
        let address = DeviceAddress(userId: userId, deviceId: listed.deviceId)
        if let pinned = try database.contactDevice(address) {
            guard constantTimeEqual(pinned.identityKey, listed.identityKey) else {
                try database.recordChangedKey(address, identityKey: listed.identityKey, envelopeKey: listed.envelopeKey)
                throw ClientError.identityKeyChanged(userId: userId)
            }
            guard pinned.pendingIdentityKey == nil else { throw ClientError.identityKeyChanged(userId: userId) }
            if !listed.certificate.isEmpty { try database.setSetting(Self.contactCertificateSetting(address), listed.certificate) }
            var refreshed = pinned
            refreshed.displayName = displayName
            refreshed.envelopeKey = listed.envelopeKey
            try database.pin(refreshed)
            return refreshed
        }
        let device = ContactDevice(
            address: address, displayName: displayName, identityKey: listed.identityKey, envelopeKey: listed.envelopeKey,
            pendingIdentityKey: nil, verified: false)
        try database.pin(device)
        if !listed.certificate.isEmpty { try database.setSetting(Self.contactCertificateSetting(address), listed.certificate) }
        return device
    }

    /// Encrypts a payload for every device of the recipient and puts the envelopes in the outbox.
    ///
    /// Devices without a session get one first, from prekey bundles the relay hands out. Each
    /// device's new session state and its outbox entry are written in one transaction.
    func encryptAndQueue(_ payload: [UInt8], messageId: String, to recipient: Recipient, over connection: RelayConnection?) throws {
        var bundles: [UInt32: DevicePrekeyBundle]?
        let certificate = try ownCertificate()
        for device in recipient.devices {
            var sessions = try database.sessions(with: device.address)
            if sessions.active == nil {
                guard let connection else { throw ClientError.noSessionOffline(userId: recipient.userId) }
                if bundles == nil { bundles = try claimBundles(recipient.userId, over: connection) }
                guard let wire = bundles?[device.address.deviceId] else { throw ClientError.recipientNotReady(recipient.userId) }
                let bundle: PrekeyBundle
                do {
                    bundle = try PrekeyBundle(wire)
                } catch {
                    throw ClientError.recipientNotReady(recipient.userId)
                }
                guard constantTimeEqual(bundle.identityKey.rawRepresentation, device.identityKey) else {
                    // The relay served a bundle for another identity than the one pinned.
                    throw ClientError.identityKeyChanged(userId: recipient.userId)
                }
                sessions.add(initiated: try X3DH.initiate(localIdentity: identityKey, bundle: bundle))
            }

            let message = try sessions.encrypt(payload)
            let sealed = SealedSender.seal(
                SealedSenderContent(sender: settings.address, senderIdentityKey: identityKey.publicKey, certificate: certificate, message: message),
                to: try X25519PublicKey(rawRepresentation: device.envelopeKey))
            try database.transaction {
                try database.saveSessions(sessions, with: device.address)
                try database.enqueue(messageId: messageId, recipient: device.address, sealed: sealed)
            }
        }
    }

    private func claimBundles(_ userId: String, over connection: RelayConnection) throws -> [UInt32: DevicePrekeyBundle] {
        guard case .prekeys(let bundles) = try connection.request(.claimPrekeys(userId: userId)) else {
            throw ClientError.protocolViolation("unexpected response to claimPrekeys")
        }
        return Dictionary(bundles.map { ($0.address.deviceId, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Sends every outbox entry in order.
    ///
    /// - Returns: how many envelopes of messages (receipts not counted) the relay accepted, and
    ///   how many entries of any kind remain.
    func flushOutbox(over connection: RelayConnection) throws -> (delivered: Int, pending: Int) {
        var delivered = 0
        let items = try database.outbox()
        let messageIds = try database.outgoingMessageIds()
        for item in items {
            try database.noteAttempt(item.seq)
            do {
                let request = SendRequest(recipient: item.recipient, idempotencyId: item.idempotencyId, sealed: item.sealed)
                guard case .stored = try connection.request(.send(request)) else {
                    throw ClientError.protocolViolation("unexpected response to send")
                }
                try database.removeFromOutbox(item.seq)
                if messageIds.contains(item.messageId) { delivered += 1 }
            } catch ClientError.relay(let failure) where failure.code == .unknownRecipient || failure.code == .revoked {
                // The device is gone for good; retrying cannot succeed.
                logger.warning("dropping envelope for a removed device", ["recipient": .public(item.recipient.description)])
                try database.removeFromOutbox(item.seq)
            }
        }
        return (delivered, try database.outboxCount())
    }

    /// Queues a receipt to one device; receipts are sent with the next outbox flush.
    func queueReceipt(_ ids: [[UInt8]], read: Bool, to address: DeviceAddress) throws {
        guard let device = try database.contactDevice(address), !ids.isEmpty else { return }
        let messageIds = try ids.map { try MessageID(bytes: $0) }
        let content: Content = read ? .readReceipt(messageIds) : .deliveryReceipt(messageIds)
        let receiptId = Random.bytes(count: 16)
        let payload = try MessagePayload(messageID: try MessageID(bytes: receiptId), sentAt: now * 1000, content: content).encode()
        let recipient = Recipient(userId: address.userId, displayName: device.displayName, role: "", unit: "", devices: [device])
        do {
            try encryptAndQueue(payload, messageId: Encoding.hex(receiptId), to: recipient, over: nil)
        } catch ClientError.noSessionOffline {
            // Without a session no receipt can be encrypted; the message itself arrived anyway.
        }
    }
}
