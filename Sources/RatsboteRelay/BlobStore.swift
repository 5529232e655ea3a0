import Foundation
import Glibc
import RatsboteCrypto
import RatsboteStorage
import RatsboteWire

/// Limits on document blobs, set in `relay.json` under `blobs`.
public struct BlobLimits: Codable, Sendable, Equatable {
    /// Largest blob in bytes (default 8 GiB of ciphertext).
    public var maximumBlobBytes: UInt64 = 8 << 30
    /// Blob bytes one device may keep on the relay at once, complete or not (default 32 GiB).
    public var maximumBytesPerDevice: UInt64 = 32 << 30
    /// Recipients one blob may name.
    public var maximumRecipients: UInt32 = 10_000
    /// Seconds a blob stays when not every recipient released it (default 30 days); a request
    /// may ask for less, never more.
    public var timeToLiveSeconds: UInt32 = 30 * 86400

    public init() {}

    public init(from decoder: any Decoder) throws {
        // Every field is optional in the file, so an operator writes only what differs.
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = BlobLimits()
        maximumBlobBytes = try container.decodeIfPresent(UInt64.self, forKey: .maximumBlobBytes) ?? defaults.maximumBlobBytes
        maximumBytesPerDevice = try container.decodeIfPresent(UInt64.self, forKey: .maximumBytesPerDevice) ?? defaults.maximumBytesPerDevice
        maximumRecipients = try container.decodeIfPresent(UInt32.self, forKey: .maximumRecipients) ?? defaults.maximumRecipients
        timeToLiveSeconds = try container.decodeIfPresent(UInt32.self, forKey: .timeToLiveSeconds) ?? defaults.timeToLiveSeconds
    }
}

/// Document blobs: ciphertext files under `blobs/` in the data folder and their metadata in
/// `blobs.sqlite`.
///
/// The relay stores per blob only its id, size, the uploading device (for the quota), the
/// recipient count, the devices that released it so far and the expiry: no file name or key,
/// and no recipient that has not fetched it yet. The
/// bytes received so far are the file's length, so an upload resumes where the file ends, also
/// after a restart. The last chunk is fsynced before it is acknowledged, and only then is the
/// blob marked complete and readable.
///
/// Metadata lives in its own database so that multi-gigabyte uploads never wait for the
/// envelope group commit, and blob work runs on its own thread (``BlobService``).
/// Use from one thread at a time.
public final class BlobStore {
    private let folder: String
    private let database: Database

    static let migrations = [
        """
        CREATE TABLE blobs (
            id BLOB PRIMARY KEY,
            size INTEGER NOT NULL,
            uploader_row INTEGER NOT NULL,
            recipient_count INTEGER NOT NULL,
            releases INTEGER NOT NULL DEFAULT 0,
            expires_at INTEGER NOT NULL,
            complete INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;
        CREATE INDEX blobs_by_uploader ON blobs (uploader_row);
        CREATE INDEX blobs_by_expiry ON blobs (expires_at);
        """,
        // `blobs.releases` keeps counting releases made before this table existed.
        """
        CREATE TABLE blob_releases (
            blob_id BLOB NOT NULL,
            device_row INTEGER NOT NULL,
            PRIMARY KEY (blob_id, device_row)
        ) WITHOUT ROWID;
        """,
    ]

    /// Opens or creates `blobs/` and `blobs.sqlite` inside the data folder at `dataPath`.
    public init(dataPath: String) throws {
        folder = dataPath + "/blobs"
        if !FileManager.default.fileExists(atPath: folder) {
            guard mkdir(folder, 0o700) == 0 || errno == EEXIST else {
                throw RelayError.fileFailed(path: folder, operation: "mkdir", errno: errno)
            }
        }
        do {
            database = try Database(path: dataPath + "/blobs.sqlite", walMode: true)
            try database.migrate(Self.migrations, name: "blobs")
        } catch let error as StorageError {
            throw RelayError.storage(error)
        }
    }

    /// One blob's metadata row.
    struct Record {
        var size: UInt64
        var recipientCount: Int64
        var releases: Int64
        var isComplete: Bool
    }

    private func path(_ id: [UInt8]) -> String { folder + "/" + Encoding.hex(id) }

    private func record(_ id: [UInt8]) throws -> Record {
        let rows = try database.query(
            "SELECT size, recipient_count, releases, complete FROM blobs WHERE id = ?", [.blob(id)])
        guard let row = rows.first else {
            throw RelayFailure(.notFound, "no blob \(Encoding.hex(id)); it expired, was released by every recipient, or never existed")
        }
        return Record(
            size: UInt64(row[0].int64 ?? 0), recipientCount: row[1].int64 ?? 0, releases: row[2].int64 ?? 0,
            isComplete: (row[3].int64 ?? 0) != 0)
    }

    private func receivedBytes(_ id: [UInt8]) -> UInt64 {
        var status = stat()
        guard stat(path(id), &status) == 0 else { return 0 }
        return UInt64(status.st_size)
    }

    // MARK: - Commands

    /// Reserves a blob and creates its empty file.
    ///
    /// - Throws: ``RelayFailure`` with `tooLarge` for a size or recipient count over the limits,
    ///   `blobQuotaExceeded` when the device would hold more than its quota.
    public func create(
        size: UInt64, recipientCount: UInt32, timeToLive: UInt32, uploaderRow: Int64, limits: BlobLimits, now: Int64
    ) throws -> (id: [UInt8], expiresAt: Int64) {
        guard size <= limits.maximumBlobBytes else {
            throw RelayFailure(.tooLarge, "a blob of \(size) bytes exceeds the maximum of \(limits.maximumBlobBytes)")
        }
        guard recipientCount >= 1, recipientCount <= limits.maximumRecipients else {
            throw RelayFailure(.tooLarge, "recipient count \(recipientCount) is outside 1...\(limits.maximumRecipients)")
        }
        let held = try database.query("SELECT coalesce(sum(size), 0) FROM blobs WHERE uploader_row = ?", [.integer(uploaderRow)])
        let heldBytes = UInt64(held.first?[0].int64 ?? 0)
        guard heldBytes + size <= limits.maximumBytesPerDevice else {
            throw RelayFailure(
                .blobQuotaExceeded,
                "this device holds \(heldBytes) blob bytes; \(size) more exceed the quota of \(limits.maximumBytesPerDevice) until recipients fetch them or they expire")
        }
        let seconds = timeToLive == 0 ? limits.timeToLiveSeconds : min(timeToLive, limits.timeToLiveSeconds)
        let expiresAt = now + Int64(seconds)
        let id = Random.bytes(count: WireLimits.blobId)

        let descriptor = open(path(id), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw RelayError.fileFailed(path: path(id), operation: "create", errno: errno) }
        Glibc.close(descriptor)
        do {
            _ = try database.query(
                "INSERT INTO blobs (id, size, uploader_row, recipient_count, expires_at, complete) VALUES (?, ?, ?, ?, ?, ?)",
                [.blob(id), .integer(Int64(size)), .integer(uploaderRow), .integer(Int64(recipientCount)), .integer(expiresAt),
                 .integer(size == 0 ? 1 : 0)])
        } catch {
            unlink(path(id))
            throw error
        }
        return (id, expiresAt)
    }

    /// Appends `bytes` at `offset`; the last chunk is fsynced before the blob counts as complete.
    ///
    /// A repeated last chunk of a complete blob returns the status again, so a client whose
    /// acknowledgement was lost can retry.
    ///
    /// - Throws: ``RelayFailure`` with `notFound`, `blobOffsetMismatch` (the reason names the
    ///   bytes held) or `tooLarge` for bytes past the announced size.
    public func upload(id: [UInt8], offset: UInt64, bytes: [UInt8]) throws -> BlobResponse {
        let record = try record(id)
        if record.isComplete { return .status(size: record.size, received: record.size, isComplete: true) }
        let received = receivedBytes(id)
        guard offset == received else {
            throw RelayFailure(.blobOffsetMismatch, "upload offset \(offset) differs from the \(received) bytes held; resume at \(received)")
        }
        guard UInt64(bytes.count) <= record.size - received else {
            throw RelayFailure(.tooLarge, "\(bytes.count) bytes at offset \(offset) exceed the blob size of \(record.size)")
        }

        let filePath = path(id)
        let descriptor = open(filePath, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard descriptor >= 0 else { throw RelayError.fileFailed(path: filePath, operation: "open", errno: errno) }
        defer { Glibc.close(descriptor) }
        try bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let count = write(descriptor, buffer.baseAddress! + done, buffer.count - done)
                if count < 0 {
                    if errno == EINTR { continue }
                    // Cut back to the last whole write, so the length stays the truth about what arrived.
                    _ = ftruncate(descriptor, off_t(received))
                    throw RelayError.fileFailed(path: filePath, operation: "write", errno: errno)
                }
                done += count
            }
        }
        let total = received + UInt64(bytes.count)
        guard total == record.size else { return .status(size: record.size, received: total, isComplete: false) }
        guard fsync(descriptor) == 0 else { throw RelayError.fileFailed(path: filePath, operation: "fsync", errno: errno) }
        _ = try database.query("UPDATE blobs SET complete = 1 WHERE id = ?", [.blob(id)])
        return .status(size: record.size, received: total, isComplete: true)
    }

    /// The size, the bytes held and whether the blob is complete.
    public func status(id: [UInt8]) throws -> BlobResponse {
        let record = try record(id)
        return .status(size: record.size, received: record.isComplete ? record.size : receivedBytes(id), isComplete: record.isComplete)
    }

    /// Reads up to `length` bytes from `offset` of a complete blob.
    public func download(id: [UInt8], offset: UInt64, length: UInt32) throws -> BlobResponse {
        let record = try record(id)
        guard record.isComplete else {
            throw RelayFailure(.blobIncomplete, "blob \(Encoding.hex(id)) is still being uploaded; retry later")
        }
        guard offset <= record.size else {
            throw RelayFailure(.tooLarge, "offset \(offset) is past the blob size of \(record.size)")
        }
        let count = Int(min(UInt64(min(length, UInt32(WireLimits.blobChunk))), record.size - offset))
        let filePath = path(id)
        let descriptor = open(filePath, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw RelayError.fileFailed(path: filePath, operation: "open", errno: errno) }
        defer { Glibc.close(descriptor) }
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                let got = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                if got < 0 && errno == EINTR { continue }
                if got < 0 {
                    failure = errno
                    break
                }
                // A file shorter than its record (damaged storage) is served as it is; the
                // recipient's size and hash checks reject it.
                if got == 0 { break }
                done += got
            }
            initialized = done
        }
        guard failure == 0 else { throw RelayError.fileFailed(path: filePath, operation: "read", errno: failure) }
        return .chunk(offset: offset, bytes: bytes)
    }

    /// Records that device `deviceRow` released the blob; the release of the last distinct
    /// device deletes it.
    ///
    /// A device counts once however often it releases, so a retried release (a lost reply, or
    /// `save` run twice) cannot delete the blob before the other recipients fetched it.
    ///
    /// - Returns: whether the blob was deleted.
    @discardableResult
    public func release(id: [UInt8], deviceRow: Int64) throws -> Bool {
        try database.transaction {
            let record = try record(id)
            _ = try database.query(
                "INSERT OR IGNORE INTO blob_releases (blob_id, device_row) VALUES (?, ?)", [.blob(id), .integer(deviceRow)])
            let distinct = try database.query("SELECT count(*) FROM blob_releases WHERE blob_id = ?", [.blob(id)])
            let releases = record.releases + (distinct.first?[0].int64 ?? 0)
            guard releases >= record.recipientCount else { return false }
            try delete(id)
            return true
        }
    }

    private func delete(_ id: [UInt8]) throws {
        _ = try database.query("DELETE FROM blob_releases WHERE blob_id = ?", [.blob(id)])
        _ = try database.query("DELETE FROM blobs WHERE id = ?", [.blob(id)])
        unlink(path(id))
    }

    /// Deletes expired blobs, complete or not.
    ///
    /// - Returns: the number deleted.
    public func sweepExpired(now: Int64) throws -> Int {
        let expired = try database.query("SELECT id FROM blobs WHERE expires_at <= ?", [.integer(now)])
        for row in expired {
            if let id = row[0].bytes { try database.transaction { try delete(id) } }
        }
        return expired.count
    }

    /// Stored blobs, for `ratsbote-relay stats` and tests.
    public struct Statistics: Codable, Sendable, Equatable {
        /// Blobs on the relay, complete or not.
        public var count: Int
        /// Announced sizes of those blobs in bytes, which the quota counts.
        public var bytes: UInt64
        /// Blobs whose upload has not completed yet.
        public var incompleteUploads: Int

        public init(count: Int, bytes: UInt64, incompleteUploads: Int) {
            self.count = count
            self.bytes = bytes
            self.incompleteUploads = incompleteUploads
        }
    }

    /// Counts stored blobs, their announced bytes and the uploads not yet complete.
    public func statistics() throws -> Statistics {
        let row = try database.query("SELECT count(*), coalesce(sum(size), 0), coalesce(sum(complete = 0), 0) FROM blobs").first
        return Statistics(count: Int(row?[0].int64 ?? 0), bytes: UInt64(row?[1].int64 ?? 0), incompleteUploads: Int(row?[2].int64 ?? 0))
    }
}
