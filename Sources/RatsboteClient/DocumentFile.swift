import Foundation
import Glibc
import RatsboteCrypto

/// Streaming encryption of a document file into a ciphertext file, and the checked way back.
///
/// The ciphertext layout is the one in protocol/documents.md: the 24-byte secretstream header,
/// then one sealed chunk per 64 KiB of plaintext, the last one shorter and tagged final. An empty
/// file gives one empty final chunk. Both directions use fixed buffers, so memory stays flat
/// whatever the file size.
public enum DocumentFile {
    /// The key, header, size and hash a recipient needs besides the ciphertext; they travel
    /// inside the session message.
    public struct Sealed: Sendable {
        /// The fresh secretstream key of this document.
        public var key: SymmetricKey
        /// The secretstream header, also the first 24 bytes of the ciphertext.
        public var header: [UInt8]
        /// The plaintext size in bytes.
        public var size: UInt64
        /// BLAKE2b-256 of the whole ciphertext, header included.
        public var ciphertextHash: [UInt8]

        public init(key: SymmetricKey, header: [UInt8], size: UInt64, ciphertextHash: [UInt8]) {
            self.key = key
            self.header = header
            self.size = size
            self.ciphertextHash = ciphertextHash
        }
    }

    /// Chunks read or written per system call; 16 chunks of 64 KiB keep the buffers near 2 MiB.
    static let chunksPerBatch = 16
    static let sealedChunkByteCount = SecretStream.chunkByteCount + SecretStream.overheadByteCount

    /// Returns the number of secretstream chunks for a plaintext of `size` bytes (at least one).
    public static func chunkCount(plaintextByteCount size: UInt64) -> UInt64 {
        let chunk = UInt64(SecretStream.chunkByteCount)
        return max(1, (size + chunk - 1) / chunk)
    }

    /// Returns the exact ciphertext size for a plaintext of `size` bytes.
    public static func ciphertextByteCount(plaintextByteCount size: UInt64) -> UInt64 {
        UInt64(SecretStream.headerByteCount) + size + chunkCount(plaintextByteCount: size) * UInt64(SecretStream.overheadByteCount)
    }

    // MARK: - Encrypt

    /// Encrypts `source` into a new file at `destination` under a fresh key.
    ///
    /// `destination` must not exist. `progress` receives the plaintext bytes done so far.
    ///
    /// - Throws: ``ClientError/attachmentUnreadable(path:reason:)`` when the source cannot be read
    ///   or changes size while it is read, ``ClientError/writeFailed(path:reason:)`` when the
    ///   ciphertext cannot be written. The partial ciphertext is deleted in both cases.
    public static func encrypt(
        file source: String, to destination: String, key: SymmetricKey = .generate(storage: .wiped),
        progress: ((UInt64) -> Void)? = nil
    ) throws -> Sealed {
        let input = try FileHandleIO(openForReading: source)
        defer { input.close() }
        let size = try input.size()
        let output = try FileHandleIO(createExclusive: destination)
        var succeeded = false
        defer {
            output.close()
            if !succeeded { unlink(destination) }
        }

        let encryptor = SecretStream.Encryptor(key: key)
        let hasher = try BLAKE2b.Hasher()
        hasher.update(encryptor.header)
        try output.writeAll(encryptor.header, path: destination)

        let chunk = SecretStream.chunkByteCount
        var plaintext = [UInt8](repeating: 0, count: chunk * chunksPerBatch)
        defer { wipe(&plaintext) }
        var ciphertext = [UInt8](repeating: 0, count: sealedChunkByteCount * chunksPerBatch)
        let totalChunks = chunkCount(plaintextByteCount: size)
        var chunksDone: UInt64 = 0
        var bytesDone: UInt64 = 0

        while chunksDone < totalChunks {
            let batchChunks = Int(min(UInt64(chunksPerBatch), totalChunks - chunksDone))
            let requested = Int(min(UInt64(batchChunks * chunk), size - bytesDone))
            let got = try plaintext.withUnsafeMutableBytes { try input.readFully(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<requested]), path: source) }
            guard got == requested else {
                throw ClientError.attachmentUnreadable(path: source, reason: "the file shrank to \(bytesDone + UInt64(got)) bytes while it was read")
            }
            var written = 0
            try plaintext.withUnsafeBytes { p in
                try ciphertext.withUnsafeMutableBytes { c in
                    var offset = 0
                    for index in 0..<batchChunks {
                        let end = min(offset + chunk, requested)
                        let isFinal = chunksDone + UInt64(index) + 1 == totalChunks
                        written += try encryptor.push(
                            UnsafeRawBufferPointer(rebasing: p[offset..<end]), isFinal: isFinal,
                            into: UnsafeMutableRawBufferPointer(rebasing: c[written...]))
                        offset = end
                    }
                    hasher.update(UnsafeRawBufferPointer(rebasing: c[0..<written]))
                    try output.writeAll(UnsafeRawBufferPointer(rebasing: c[0..<written]), path: destination)
                }
            }
            chunksDone += UInt64(batchChunks)
            bytesDone += UInt64(requested)
            progress?(bytesDone)
        }
        // A file that grew while it was read would leave its tail unsent without a word.
        guard try input.size() == size else {
            throw ClientError.attachmentUnreadable(path: source, reason: "the file changed size while it was read")
        }
        try output.sync(path: destination)
        succeeded = true
        return Sealed(key: key, header: encryptor.header, size: size, ciphertextHash: hasher.finalize())
    }

    // MARK: - Decrypt

    /// Decrypts the ciphertext file at `source` into `target`, all or nothing.
    ///
    /// The plaintext goes to a temporary file beside `target`, which is renamed into place only
    /// after the size, the header, every chunk, the final tag and the BLAKE2b-256 hash of the
    /// ciphertext all check out. On any failure the temporary file is deleted, so no partial
    /// plaintext remains. An existing `target` is replaced only when `force` is set.
    ///
    /// - Throws: ``ClientError/documentRejected(fileName:reason:)`` for a ciphertext that fails a
    ///   check, ``ClientError/fileExists(path:)`` for an existing target without `force`,
    ///   ``ClientError/writeFailed(path:reason:)`` when the plaintext cannot be written.
    public static func decrypt(
        file source: String, sealed: Sealed, fileName: String, to target: String, force: Bool = false,
        progress: ((UInt64) -> Void)? = nil
    ) throws {
        func reject(_ reason: String) -> ClientError { .documentRejected(fileName: fileName, reason: reason) }

        if !force && FileManager.default.fileExists(atPath: target) { throw ClientError.fileExists(path: target) }
        let input = try FileHandleIO(openForReading: source)
        defer { input.close() }
        let expected = ciphertextByteCount(plaintextByteCount: sealed.size)
        let actual = try input.size()
        guard actual == expected else {
            throw reject(actual < expected
                ? "the ciphertext is truncated: \(actual) of \(expected) bytes"
                : "the ciphertext has \(actual - expected) bytes after its end")
        }

        var header = [UInt8](repeating: 0, count: SecretStream.headerByteCount)
        let headerRead = try header.withUnsafeMutableBytes { try input.readFully(into: $0, path: source) }
        guard headerRead == header.count, constantTimeEqual(header, sealed.header) else {
            throw reject("the stream header does not match the message")
        }
        let decryptor: SecretStream.Decryptor
        do {
            decryptor = try SecretStream.Decryptor(key: sealed.key, header: header)
        } catch {
            throw reject("\(error)")
        }
        let hasher = try BLAKE2b.Hasher()
        hasher.update(header)

        let folder = (target as NSString).deletingLastPathComponent
        let temporary = (folder.isEmpty ? "." : folder) + "/.ratsbote-partial-" + Encoding.hex(Random.bytes(count: 8))
        let output = try FileHandleIO(createExclusive: temporary)
        var succeeded = false
        defer {
            output.close()
            if !succeeded { unlink(temporary) }
        }

        var ciphertext = [UInt8](repeating: 0, count: sealedChunkByteCount * chunksPerBatch)
        var plaintext = [UInt8](repeating: 0, count: SecretStream.chunkByteCount * chunksPerBatch)
        defer { wipe(&plaintext) }
        var remaining = expected - UInt64(SecretStream.headerByteCount)
        var bytesDone: UInt64 = 0

        while remaining > 0 {
            let requested = Int(min(UInt64(ciphertext.count), remaining))
            let got = try ciphertext.withUnsafeMutableBytes { try input.readFully(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<requested]), path: source) }
            guard got == requested else { throw reject("the ciphertext file shrank while it was read") }
            remaining -= UInt64(requested)
            var produced = 0
            try ciphertext.withUnsafeBytes { c in
                hasher.update(UnsafeRawBufferPointer(rebasing: c[0..<requested]))
                try plaintext.withUnsafeMutableBytes { p in
                    var offset = 0
                    while offset < requested {
                        let end = min(offset + sealedChunkByteCount, requested)
                        let result: (byteCount: Int, isFinal: Bool)
                        do {
                            result = try decryptor.pull(
                                UnsafeRawBufferPointer(rebasing: c[offset..<end]),
                                into: UnsafeMutableRawBufferPointer(rebasing: p[produced...]))
                        } catch {
                            throw reject("chunk at ciphertext offset \(UInt64(SecretStream.headerByteCount) + bytesDone + UInt64(offset)) failed: \(error)")
                        }
                        produced += result.byteCount
                        offset = end
                        let isLast = remaining == 0 && offset == requested
                        if result.isFinal != isLast {
                            throw reject(result.isFinal ? "the final tag comes before the end of the ciphertext" : "the last chunk has no final tag")
                        }
                    }
                }
            }
            try plaintext.withUnsafeBytes { try output.writeAll(UnsafeRawBufferPointer(rebasing: $0[0..<produced]), path: temporary) }
            bytesDone += UInt64(requested)
            progress?(min(bytesDone, sealed.size))
        }
        do {
            try decryptor.finish()
        } catch {
            throw reject("the stream ended without its final tag")
        }
        guard constantTimeEqual(hasher.finalize(), sealed.ciphertextHash) else {
            throw reject("the ciphertext hash does not match the message")
        }
        try output.sync(path: temporary)
        output.close()
        try moveIntoPlace(temporary, target, force: force)
        succeeded = true
    }

    /// Renames the checked plaintext to `target`; without `force` a hard link makes the step
    /// fail instead of replacing a file that appeared meanwhile.
    private static func moveIntoPlace(_ temporary: String, _ target: String, force: Bool) throws {
        if force {
            guard rename(temporary, target) == 0 else {
                throw ClientError.writeFailed(path: target, reason: String(cString: strerror(errno)))
            }
            return
        }
        guard link(temporary, target) == 0 else {
            if errno == EEXIST { throw ClientError.fileExists(path: target) }
            throw ClientError.writeFailed(path: target, reason: String(cString: strerror(errno)))
        }
        unlink(temporary)
    }
}

/// A file descriptor with the read and write loops the document code needs.
final class FileHandleIO {
    private(set) var descriptor: Int32

    init(openForReading path: String) throws {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ClientError.attachmentUnreadable(path: path, reason: String(cString: strerror(errno)))
        }
    }

    /// Creates a new file with mode 0600; fails when it exists.
    init(createExclusive path: String) throws {
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw ClientError.writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
    }

    /// Opens a file for appending, creating it when missing.
    init(openForAppending path: String) throws {
        descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw ClientError.writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
    }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    deinit { close() }

    func size() throws -> UInt64 {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw ClientError.attachmentUnreadable(path: "descriptor \(descriptor)", reason: String(cString: strerror(errno)))
        }
        return UInt64(status.st_size)
    }

    func seek(to offset: UInt64) throws {
        guard lseek(descriptor, off_t(offset), SEEK_SET) >= 0 else {
            throw ClientError.attachmentUnreadable(path: "descriptor \(descriptor)", reason: String(cString: strerror(errno)))
        }
    }

    /// Reads until `buffer` is full or the file ends; returns the bytes read.
    func readFully(into buffer: UnsafeMutableRawBufferPointer, path: String) throws -> Int {
        var done = 0
        while done < buffer.count {
            let count = read(descriptor, buffer.baseAddress! + done, buffer.count - done)
            if count < 0 {
                if errno == EINTR { continue }
                throw ClientError.attachmentUnreadable(path: path, reason: String(cString: strerror(errno)))
            }
            if count == 0 { break }
            done += count
        }
        return done
    }

    func writeAll(_ bytes: some ContiguousBytes, path: String) throws {
        try bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let count = write(descriptor, buffer.baseAddress! + done, buffer.count - done)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw ClientError.writeFailed(path: path, reason: String(cString: strerror(errno)))
                }
                done += count
            }
        }
    }

    func sync(path: String) throws {
        guard fsync(descriptor) == 0 else {
            throw ClientError.writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
    }
}
