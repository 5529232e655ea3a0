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
        var resolved: [(group: GroupDefinition?, targets: [Recipient])] = []
        for recipient in recipients {
            resolved.append(try resolveTargets(recipient, over: connection, offlineError: nil))
        }
        let deviceCount = resolved.reduce(0) { total, entry in total + entry.targets.reduce(0) { $0 + $1.devices.count } }
        var documents: [RemoteDocument] = []
        for file in files {
            documents.append(try uploadDocument(file, recipientCount: deviceCount, connection: &connection, progress: progress))
        }
        return try resolved.map { entry in
            try deliverNote(
                to: entry.targets, group: entry.group, subject: subject, body: body, attachments: [], remoteDocuments: documents,
                inReplyTo: inReplyTo, over: connection)
        }
    }

    // MARK: - Upload

    /// Encrypts `path` into the account's outgoing folder and uploads the ciphertext as a blob
    /// that `recipientCount` releases delete.
    ///
    /// After a dropped connection or a relay restart the upload reconnects, requests the blob
    /// status, and continues at the bytes the relay received.
    func uploadDocument(
        _ path: String, recipientCount: Int, connection: inout RelayConnection, progress: ((TransferProgress) -> Void)?
    ) throws -> RemoteDocument {
        try createFolder(outgoingFolder)
        let fileName = URL(fileURLWithPath: path).lastPathComponent
        let ciphertextPath = outgoingFolder + "/" + Encoding.hex(Random.bytes(count: 16)) + ".cipher"
        defer { unlink(ciphertextPath) }

        let plaintextSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? 0
        let sealed = try DocumentFile.encrypt(file: path, to: ciphertextPath) { done in
            progress?(TransferProgress(phase: .encrypting, fileName: fileName, done: done, total: plaintextSize))
        }
        let size = DocumentFile.ciphertextByteCount(plaintextByteCount: sealed.size)
        let created = try connection.request(.blob(.create(size: size, recipientCount: UInt32(clamping: recipientCount), timeToLive: 0)))
        guard case .blob(.created(let blobId, _)) = created else {
            throw ClientError.protocolViolation("expected a created blob, got \(created)")
        }

        let input = try FileHandleIO(openForReading: ciphertextPath)
        defer { input.close() }
        var buffer = [UInt8](repeating: 0, count: Self.blobChunkByteCount)
        var offset: UInt64 = 0
        var isComplete = false
        var reconnects = 0
        while !isComplete {
            do {
                let count = Int(min(UInt64(buffer.count), size - offset))
                try input.seek(to: offset)
                let got = try buffer.withUnsafeMutableBytes {
                    try input.readFully(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<count]), path: ciphertextPath)
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
        return RemoteDocument(
            fileName: fileName, mediaType: Self.mediaType(forExtension: URL(fileURLWithPath: path).pathExtension), size: sealed.size,
            key: sealed.key.withUnsafeBytes { Array($0) }, header: sealed.header, ciphertextHash: sealed.ciphertextHash, blobId: blobId)
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
