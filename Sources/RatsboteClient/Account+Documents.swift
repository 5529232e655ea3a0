import Foundation
import Glibc
import RatsboteCrypto
import RatsboteSession
import RatsboteWire

/// How far a document transfer is, for progress bars.
public struct TransferProgress: Sendable, Equatable {
    public enum Phase: Sendable, Equatable {
        case encrypting, uploading, downloading
    }

    public var phase: Phase
    public var fileName: String
    /// Bytes done: plaintext while encrypting, ciphertext while uploading or downloading.
    public var done: UInt64
    public var total: UInt64
}

extension RemoteDocument {
    init(reference: DocumentReference) {
        self.init(
            fileName: reference.fileName, mediaType: reference.mediaType, size: reference.size, key: reference.key,
            header: reference.header, ciphertextHash: reference.ciphertextHash, blobId: reference.blobID)
    }

    /// The session-layer reference that carries this document to one recipient device.
    var reference: DocumentReference {
        DocumentReference(
            fileName: fileName, mediaType: mediaType, size: size, key: key, header: header, ciphertextHash: ciphertextHash,
            blobID: blobId)
    }
}

/// Documents as relay blobs: encrypt once, upload once in resumable chunks, and hand each
/// recipient device the key inside its own session message.
extension Account {
    /// Ciphertext bytes per upload or download request.
    static let blobChunkByteCount = WireLimits.blobChunk
    /// Reconnects one transfer may make before it gives up.
    static let maximumTransferReconnects = 20

    var outgoingFolder: String { home.folder + "/documents/outgoing" }
    var incomingFolder: String { home.folder + "/documents/incoming" }

    /// Sends one note with files to several recipients (users or groups), uploading each file
    /// only once.
    ///
    /// Every file travels as a relay blob, whatever its size, so that one code path serves a
    /// one-page letter and a 4 GiB plan set. Each recipient gets its own message, and every
    /// device of every recipient gets the document keys inside its own session message.
    ///
    /// The encrypted files and the note are stored as a pending send before the first upload.
    /// A send interrupted by a dropped connection, a relay restart or the end of this process
    /// continues with the next ``send(to:subject:body:files:inReplyTo:progress:)`` or
    /// ``sync()``, at the bytes the relay holds. The note goes out only after every upload is
    /// complete. A failure that a retry cannot fix (for example a blob quota) discards the
    /// pending send before it is thrown.
    ///
    /// - Throws: ``ClientError/relayUnreachable(address:reason:)`` when the relay cannot be
    ///   reached (documents need it), ``ClientError/attachmentUnreadable(path:reason:)`` for a
    ///   file that cannot be read, and the errors of ``send(to:subject:body:attachments:inReplyTo:)``.
    public func send(
        to recipients: [String], subject: String, body: String, files: [String], inReplyTo: String? = nil,
        progress: ((TransferProgress) -> Void)? = nil
    ) throws -> [SendReport] {
        guard files.count <= NoteContent.maximumAttachments else {
            throw ClientError.attachmentTooLarge(
                path: files.joined(separator: ", "), size: files.count, maximum: NoteContent.maximumAttachments)
        }
        var connection = try connect()
        try refreshTrust(over: connection)
        _ = resumePendingSends(connection: &connection, progress: progress)

        var resolved: [(group: GroupDefinition?, targets: [Recipient])] = []
        for recipient in recipients {
            resolved.append(try resolveTargets(recipient, over: connection, offlineError: nil))
        }
        let devices = resolved.flatMap { entry in entry.targets.flatMap { $0.devices.map(\.address) } }
        let pending = try preparePendingSend(
            recipients: recipients, subject: subject, body: body, files: files, inReplyTo: inReplyTo, devices: devices,
            progress: progress)
        do {
            return try completePendingSend(pending, resolved: resolved, connection: &connection, progress: progress)
        } catch let error as ClientError where !Self.isTransient(error) {
            discardPendingSend(pending)
            throw error
        }
    }

    // MARK: - Pending sends

    /// Encrypts every file into the outgoing folder and stores the note and the document keys
    /// as one pending send.
    func preparePendingSend(
        recipients: [String], subject: String, body: String, files: [String], inReplyTo: String?, devices: [DeviceAddress],
        progress: ((TransferProgress) -> Void)?
    ) throws -> PendingSend {
        try createFolder(outgoingFolder)
        var pending = PendingSend(
            id: Encoding.hex(Random.bytes(count: 16)), recipients: recipients, subject: subject, body: body, inReplyTo: inReplyTo,
            deviceCount: UInt32(clamping: devices.count), devices: devices, documents: [])
        var succeeded = false
        defer { if !succeeded { removeCiphertexts(of: pending) } }
        for (position, path) in files.enumerated() {
            let url = URL(fileURLWithPath: path)
            let fileName = url.lastPathComponent
            let fileId = Encoding.hex(Random.bytes(count: 16))
            let plaintextSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? 0
            let sealed = try DocumentFile.encrypt(file: path, to: ciphertextPath(fileId)) { done in
                progress?(TransferProgress(phase: .encrypting, fileName: fileName, done: done, total: plaintextSize))
            }
            let document = RemoteDocument(
                fileName: fileName, mediaType: Self.mediaType(forExtension: url.pathExtension), size: sealed.size,
                key: sealed.key.withUnsafeBytes { Array($0) }, header: sealed.header, ciphertextHash: sealed.ciphertextHash,
                blobId: [])
            pending.documents.append(
                PendingDocument(
                    position: position, fileId: fileId, ciphertextSize: DocumentFile.ciphertextByteCount(plaintextByteCount: sealed.size),
                    blobId: nil, document: document))
        }
        try database.insertPendingSend(pending)
        succeeded = true
        return pending
    }

    /// Uploads what is missing of each document, then sends the note to every recipient that
    /// has not received it, and deletes the pending send and its ciphertext files.
    ///
    /// Each recipient is removed from the pending send in the transaction that stores its
    /// message, so an interruption between two recipients sends no recipient the note twice.
    ///
    /// A process end between the per-device outbox writes of one recipient and the storing of
    /// its message queues that recipient's earlier devices again when the send resumes. The
    /// message id is derived from the pending send and the recipient, so the second copy carries
    /// the same id and the recipient's inbox keeps only one.
    func completePendingSend(
        _ pending: PendingSend, resolved: [(group: GroupDefinition?, targets: [Recipient])]?, connection: inout RelayConnection,
        progress: ((TransferProgress) -> Void)?
    ) throws -> [SendReport] {
        var documents: [RemoteDocument] = []
        for var item in pending.documents {
            if item.blobId == nil {
                let created = try connection.request(
                    .blob(.create(size: item.ciphertextSize, recipientCount: max(1, pending.deviceCount), timeToLive: 0)))
                guard case .blob(.created(let blobId, _)) = created else {
                    throw ClientError.protocolViolation("expected a created blob, got \(created)")
                }
                try database.setPendingBlobId(blobId, send: pending.id, position: item.position)
                item.blobId = blobId
            }
            let blobId = item.blobId ?? []
            try uploadCiphertext(
                ciphertextPath(item.fileId), size: item.ciphertextSize, blobId: blobId, fileName: item.document.fileName,
                connection: &connection, progress: progress)
            var document = item.document
            document.blobId = blobId
            documents.append(document)
        }

        var remaining = pending
        var reports: [SendReport] = []
        for (index, recipient) in pending.recipients.enumerated() {
            // A fresh send passes the targets it resolved for the device count. A resumed one
            // resolves them again, so it uses the current directory and trust state. It keeps only
            // the devices the blobs were counted for. A device enrolled since then gets no note, so
            // it cannot take a release that a counted device still needs.
            var entry = try resolved?[index] ?? resolveTargets(recipient, over: connection, offlineError: nil)
            if resolved == nil && !pending.devices.isEmpty {
                let counted = Set(pending.devices)
                entry.targets = entry.targets.map { target in
                    var countedOnly = target
                    countedOnly.devices.removeAll { !counted.contains($0.address) }
                    // A recipient none of whose counted devices is left (all replaced) still gets
                    // the note on its current ones, which take the releases of the devices that went.
                    return countedOnly.devices.isEmpty ? target : countedOnly
                }
            }
            remaining.recipients.removeFirst()
            let isLast = remaining.recipients.isEmpty
            reports.append(
                try deliverNote(
                    to: entry.targets, group: entry.group, subject: pending.subject, body: pending.body, attachments: [],
                    remoteDocuments: documents, inReplyTo: pending.inReplyTo, over: connection,
                    messageId: try Self.pendingMessageId(send: pending.id, recipient: recipient)
                ) { [database, pendingDeliveryHook] in
                    try pendingDeliveryHook?()
                    if isLast {
                        try database.deletePendingSend(pending.id)
                    } else {
                        try database.updatePendingRecipients(remaining)
                    }
                })
        }
        if pending.recipients.isEmpty { try database.deletePendingSend(pending.id) }
        removeCiphertexts(of: pending)
        return reports
    }

    /// Returns the message id of one recipient's note in a pending send: the same on every
    /// attempt, and as unpredictable as the random send id.
    static func pendingMessageId(send: String, recipient: String) throws -> [UInt8] {
        try BLAKE2b.hash(Array("ratsbote pending send\u{0}\(send)\u{0}\(recipient)".utf8), outputByteCount: 16)
    }

    /// Continues every pending send, oldest first, and returns the envelopes delivered and the
    /// sends still pending.
    ///
    /// A send that fails is logged and stays pending for the next attempt. A send whose blob
    /// expired on the relay or whose ciphertext file was deleted can never complete, so it is
    /// discarded and logged as an error.
    func resumePendingSends(connection: inout RelayConnection, progress: ((TransferProgress) -> Void)?) -> (delivered: Int, pending: Int) {
        var delivered = 0
        let sends: [PendingSend]
        do {
            sends = try database.pendingSends()
        } catch {
            logger.error("pending document sends could not be read", ["error": .public("\(error)")])
            return (0, 0)
        }
        removeOrphanedCiphertexts(keeping: Set(sends.flatMap { $0.documents.map(\.fileId) }))
        for pending in sends {
            do {
                let reports = try completePendingSend(pending, resolved: nil, connection: &connection, progress: progress)
                delivered += reports.reduce(0) { $0 + $1.delivered }
                logger.info("pending document send completed", ["send": .public(pending.id)])
            } catch let error as ClientError where Self.isUnrecoverable(error) {
                logger.error("discarding a pending document send that cannot complete", ["send": .public(pending.id), "error": .public("\(error)")])
                discardPendingSend(pending)
            } catch {
                logger.warning("pending document send failed; it is retried later", ["send": .public(pending.id), "error": .public("\(error)")])
                if case ClientError.relayUnreachable = error { break }
            }
        }
        return (delivered, (try? database.pendingSendCount()) ?? 0)
    }

    /// Returns whether a send that failed with `error` may succeed when it is tried again later.
    static func isTransient(_ error: ClientError) -> Bool {
        if case .relayUnreachable = error { return true }
        if case .storage = error { return true }
        return isResumable(error)
    }

    /// Returns whether a pending send can never complete after `error`.
    private static func isUnrecoverable(_ error: ClientError) -> Bool {
        switch error {
        case .relay(let failure): return failure.code == .notFound
        case .attachmentUnreadable: return true
        default: return false
        }
    }

    private func discardPendingSend(_ pending: PendingSend) {
        do {
            try database.deletePendingSend(pending.id)
        } catch {
            logger.error("pending document send could not be deleted", ["send": .public(pending.id), "error": .public("\(error)")])
        }
        removeCiphertexts(of: pending)
    }

    private func ciphertextPath(_ fileId: String) -> String { outgoingFolder + "/" + fileId + ".cipher" }

    private func removeCiphertexts(of pending: PendingSend) {
        for document in pending.documents { unlink(ciphertextPath(document.fileId)) }
    }

    /// Seconds after its last write that an unreferenced ciphertext file counts as left over.
    static let orphanedCiphertextAge: TimeInterval = 3600

    /// Deletes ciphertext files in the outgoing folder that no pending send refers to, such as
    /// the partial file of a process that ended while encrypting.
    ///
    /// Another process on the same account may be encrypting right now, and its file is not yet
    /// in the database, so only files untouched for ``orphanedCiphertextAge`` are deleted.
    func removeOrphanedCiphertexts(keeping fileIds: Set<String>, now: Date = Date()) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: outgoingFolder) else { return }
        for name in names where name.hasSuffix(".cipher") && !fileIds.contains(String(name.dropLast(".cipher".count))) {
            let path = outgoingFolder + "/" + name
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                now.timeIntervalSince(modified) > Self.orphanedCiphertextAge
            else { continue }
            if unlink(path) == 0 {
                logger.info("left-over document ciphertext deleted", ["file": .public(name)])
            }
        }
    }

    // MARK: - Upload

    /// Uploads the ciphertext file at `path` into the blob `blobId`, starting at the bytes the
    /// relay already holds.
    ///
    /// After a dropped connection or a relay restart the upload reconnects, requests the blob
    /// status, and continues at the bytes the relay received.
    func uploadCiphertext(
        _ path: String, size: UInt64, blobId: [UInt8], fileName: String, connection: inout RelayConnection,
        progress: ((TransferProgress) -> Void)?
    ) throws {
        let input = try FileHandleIO(openForReading: path)
        defer { input.close() }
        guard try input.size() == size else {
            throw ClientError.attachmentUnreadable(path: path, reason: "the ciphertext has \(try input.size()) bytes instead of \(size)")
        }
        var buffer = [UInt8](repeating: 0, count: Self.blobChunkByteCount)
        var (offset, isComplete) = try Self.blobStatus(try connection.request(.blob(.status(id: blobId))), expectedSize: size)
        var reconnects = 0
        while !isComplete {
            do {
                let count = Int(min(UInt64(buffer.count), size - offset))
                try input.seek(to: offset)
                let got = try buffer.withUnsafeMutableBytes {
                    try input.readFully(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<count]), path: path)
                }
                let response = try connection.request(.blob(.upload(id: blobId, offset: offset, bytes: Array(buffer[0..<got]))))
                (offset, isComplete) = try Self.blobStatus(response, expectedSize: size)
                progress?(TransferProgress(phase: .uploading, fileName: fileName, done: offset, total: size))
                try blobChunkHook?(connection, offset)
            } catch let error as ClientError where Self.isResumable(error) && reconnects < Self.maximumTransferReconnects {
                reconnects += 1
                logger.info("resuming upload", ["offset": .public(String(offset)), "attempt": .public(String(reconnects)), "error": .public("\(error)")])
                if case .relay = error {} else { connection = try connect(attempts: 8) }
                (offset, isComplete) = try Self.blobStatus(try connection.request(.blob(.status(id: blobId))), expectedSize: size)
            }
        }
    }

    /// Returns whether a transfer can continue after `error` by requesting the blob status.
    static func isResumable(_ error: ClientError) -> Bool {
        switch error {
        case .relayUnreachable, .protocolViolation: return true
        case .relay(let failure): return failure.code == .blobOffsetMismatch || failure.code == .shuttingDown
        default: return false
        }
    }

    private static func blobStatus(_ response: RelayResponse, expectedSize: UInt64) throws -> (received: UInt64, isComplete: Bool) {
        guard case .blob(.status(let size, let received, let isComplete)) = response, size == expectedSize, received <= size else {
            throw ClientError.protocolViolation("expected the status of a blob of \(expectedSize) bytes, got \(response)")
        }
        return (received, isComplete)
    }

    // MARK: - Download

    /// Downloads, checks and decrypts one blob document to `target`, then releases the blob.
    ///
    /// The ciphertext collects in the account's incoming folder, named by the blob id, so an
    /// interrupted download continues where that file ends, also after a restart. A document
    /// that fails its checks leaves neither plaintext nor ciphertext behind.
    func downloadDocument(
        _ document: RemoteDocument, to target: String, force: Bool, connection: inout RelayConnection,
        progress: ((TransferProgress) -> Void)?
    ) throws {
        try createFolder(incomingFolder)
        let partialPath = incomingFolder + "/" + Encoding.hex(document.blobId) + ".cipher"
        let size = DocumentFile.ciphertextByteCount(plaintextByteCount: document.size)
        func reject(_ reason: String) -> ClientError {
            unlink(partialPath)
            return .documentRejected(fileName: document.fileName, reason: reason)
        }

        let statusResponse = try connection.request(.blob(.status(id: document.blobId)))
        guard case .blob(.status(let held, _, let isComplete)) = statusResponse else {
            throw ClientError.protocolViolation("expected a blob status, got \(statusResponse)")
        }
        guard held == size else {
            throw reject("the relay stores \(held) bytes of ciphertext, but the message announced \(size)")
        }
        guard isComplete else {
            throw ClientError.relay(RelayFailure(.blobIncomplete, "the sender's upload of \(document.fileName) is not complete yet; try again later"))
        }

        let output = try FileHandleIO(openForAppending: partialPath)
        defer { output.close() }
        var offset = try output.size()
        if offset > size {
            guard ftruncate(output.descriptor, 0) == 0 else {
                throw ClientError.writeFailed(path: partialPath, reason: String(cString: strerror(errno)))
            }
            offset = 0
        }
        var reconnects = 0
        while offset < size {
            do {
                let length = UInt32(min(UInt64(Self.blobChunkByteCount), size - offset))
                let response = try connection.request(.blob(.download(id: document.blobId, offset: offset, length: length)))
                guard case .blob(.chunk(let chunkOffset, let bytes)) = response, chunkOffset == offset else {
                    throw ClientError.protocolViolation("expected blob bytes at offset \(offset), got \(response)")
                }
                guard !bytes.isEmpty, UInt64(bytes.count) <= size - offset else {
                    throw reject("the relay returned \(bytes.count) bytes at offset \(offset) of \(size)")
                }
                try output.writeAll(bytes, path: partialPath)
                offset += UInt64(bytes.count)
                progress?(TransferProgress(phase: .downloading, fileName: document.fileName, done: offset, total: size))
                try blobChunkHook?(connection, offset)
            } catch let error as ClientError where Self.isResumable(error) && reconnects < Self.maximumTransferReconnects {
                reconnects += 1
                logger.info(
                    "resuming download",
                    ["offset": .public(String(offset)), "attempt": .public(String(reconnects)), "error": .public("\(error)")])
                connection = try connect(attempts: 8)
            }
        }
        try output.sync(path: partialPath)
        output.close()

        let sealed = DocumentFile.Sealed(
            key: try SymmetricKey(copying: document.key, storage: .wiped), header: document.header, size: document.size,
            ciphertextHash: document.ciphertextHash)
        do {
            try DocumentFile.decrypt(file: partialPath, sealed: sealed, fileName: document.fileName, to: target, force: force)
        } catch let error as ClientError {
            if case .documentRejected = error { unlink(partialPath) }
            throw error
        }
        unlink(partialPath)

        do {
            _ = try connection.request(.blob(.release(id: document.blobId)))
        } catch {
            // The document is saved; a blob that is not released only waits for its expiry.
            logger.warning("blob release failed", ["error": .public("\(error)")])
        }
    }

    private func createFolder(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ClientError.writeFailed(path: path, reason: (error as NSError).localizedDescription)
        }
    }
}
