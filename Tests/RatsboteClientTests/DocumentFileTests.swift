import Foundation
import RatsboteCrypto
import RatsboteTestSupport
import Testing

@testable import RatsboteClient

/// A folder with one plaintext file, its ciphertext and a target folder for decryption.
private final class DocumentFolder {
    let url: URL
    var plaintextPath: String { url.appendingPathComponent("plain.bin").path }
    var ciphertextPath: String { url.appendingPathComponent("cipher.bin").path }
    var outputFolder: URL { url.appendingPathComponent("out") }
    var targetPath: String { outputFolder.appendingPathComponent("saved.bin").path }

    init(plaintext: [UInt8]) throws {
        url = makeTemporaryFolder("ratsbote-document")
        try FileManager.default.createDirectory(at: outputFolder, withIntermediateDirectories: true)
        try Data(plaintext).write(to: URL(fileURLWithPath: plaintextPath))
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func ciphertext() throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: ciphertextPath))) }

    func replaceCiphertext(_ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: ciphertextPath)) }

    func outputFiles() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: outputFolder.path).sorted() }
}

private func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) } }

@Suite struct DocumentFileTests {
    static let chunk = SecretStream.chunkByteCount

    @Test(arguments: [0, 1, chunk - 1, chunk, 3 * chunk, chunk + 1, 16 * chunk + 5, 40 * chunk])
    func roundTripAtChunkBoundaries(size: Int) throws {
        let plaintext = pattern(size)
        let folder = try DocumentFolder(plaintext: plaintext)
        var reported: UInt64 = 0
        let sealed = try DocumentFile.encrypt(file: folder.plaintextPath, to: folder.ciphertextPath) { reported = $0 }
        #expect(reported == UInt64(size))

        let ciphertext = try folder.ciphertext()
        #expect(UInt64(ciphertext.count) == DocumentFile.ciphertextByteCount(plaintextByteCount: UInt64(size)))
        #expect(try BLAKE2b.hash(ciphertext) == sealed.ciphertextHash)
        #expect(Array(ciphertext.prefix(SecretStream.headerByteCount)) == sealed.header)
        #expect(sealed.size == UInt64(size))
        // The whole-buffer decryptor agrees with the file layout.
        #expect(try SecretStream.decrypt(ciphertext, using: sealed.key, plaintextByteCount: size) == plaintext)

        try DocumentFile.decrypt(file: folder.ciphertextPath, sealed: sealed, fileName: "plain.bin", to: folder.targetPath)
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: folder.targetPath))) == plaintext)
        #expect(try folder.outputFiles() == ["saved.bin"])
    }

    @Test func ciphertextSizeFormula() {
        #expect(DocumentFile.ciphertextByteCount(plaintextByteCount: 0) == 24 + 17)
        #expect(DocumentFile.ciphertextByteCount(plaintextByteCount: 65536) == 24 + 65536 + 17)
        #expect(DocumentFile.ciphertextByteCount(plaintextByteCount: 65537) == 24 + 65537 + 34)
    }

    @Test func existingTargetNeedsForce() throws {
        let folder = try DocumentFolder(plaintext: pattern(1000))
        let sealed = try DocumentFile.encrypt(file: folder.plaintextPath, to: folder.ciphertextPath)
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: folder.targetPath))

        expectClientError(.fileExists(path: folder.targetPath)) {
            try DocumentFile.decrypt(file: folder.ciphertextPath, sealed: sealed, fileName: "a", to: folder.targetPath)
        }
        #expect(try String(contentsOfFile: folder.targetPath, encoding: .utf8) == "keep me")

        try DocumentFile.decrypt(file: folder.ciphertextPath, sealed: sealed, fileName: "a", to: folder.targetPath, force: true)
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: folder.targetPath))) == pattern(1000))
        #expect(try folder.outputFiles() == ["saved.bin"])
    }

    @Test func encryptRefusesExistingDestination() throws {
        let folder = try DocumentFolder(plaintext: pattern(10))
        try Data([1]).write(to: URL(fileURLWithPath: folder.ciphertextPath))
        #expect(throws: ClientError.self) {
            try DocumentFile.encrypt(file: folder.plaintextPath, to: folder.ciphertextPath)
        }
        #expect(try folder.ciphertext() == [1])
    }

    /// Each damaged ciphertext, and the reason the decryption must give.
    enum Damage: CaseIterable, Sendable {
        case truncatedByOneByte, lastChunkDropped, extendedByOneByte, extendedByAChunk, chunksSwapped, byteFlipped, headerChanged,
            finalTagMissing, finalTagEarly
    }

    @Test(arguments: Damage.allCases)
    func damagedCiphertextLeavesNothing(damage: Damage) throws {
        let size = 3 * Self.chunk + 100
        let folder = try DocumentFolder(plaintext: pattern(size))
        var sealed = try DocumentFile.encrypt(file: folder.plaintextPath, to: folder.ciphertextPath)
        var bytes = try folder.ciphertext()
        let header = SecretStream.headerByteCount
        let sealedChunk = Self.chunk + SecretStream.overheadByteCount
        let expectedReason: String

        switch damage {
        case .truncatedByOneByte:
            bytes.removeLast()
            expectedReason = "the ciphertext is truncated: \(bytes.count) of \(bytes.count + 1) bytes"
        case .lastChunkDropped:
            bytes.removeLast(100 + SecretStream.overheadByteCount)
            expectedReason = "the ciphertext is truncated: \(bytes.count) of \(bytes.count + 117) bytes"
        case .extendedByOneByte:
            bytes.append(0)
            expectedReason = "the ciphertext has 1 bytes after its end"
        case .extendedByAChunk:
            bytes += bytes[header..<(header + sealedChunk)]
            expectedReason = "the ciphertext has \(sealedChunk) bytes after its end"
        case .chunksSwapped:
            let first = Array(bytes[header..<(header + sealedChunk)])
            let second = Array(bytes[(header + sealedChunk)..<(header + 2 * sealedChunk)])
            bytes.replaceSubrange(header..<(header + 2 * sealedChunk), with: second + first)
            expectedReason = "chunk at ciphertext offset 24 failed: authentication failed"
        case .byteFlipped:
            bytes[header + 2 * sealedChunk + 7] ^= 0x01
            expectedReason = "chunk at ciphertext offset \(header + 2 * sealedChunk) failed: authentication failed"
        case .headerChanged:
            bytes[3] ^= 0x80
            expectedReason = "the stream header does not match the message"
        case .finalTagMissing:
            (bytes, sealed) = try Self.craftStream(size: size, finalAt: nil)
            expectedReason = "the last chunk has no final tag"
        case .finalTagEarly:
            (bytes, sealed) = try Self.craftStream(size: size, finalAt: 1)
            expectedReason = "the final tag comes before the end of the ciphertext"
        }
        try folder.replaceCiphertext(bytes)

        do {
            try DocumentFile.decrypt(file: folder.ciphertextPath, sealed: sealed, fileName: "plan.pdf", to: folder.targetPath)
            Issue.record("a damaged ciphertext (\(damage)) was accepted")
        } catch let error as ClientError {
            guard case .documentRejected(let fileName, let reason) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(fileName == "plan.pdf")
            #expect(reason.hasPrefix(expectedReason) || reason.contains(expectedReason), "reason: \(reason)")
        }
        #expect(try folder.outputFiles().isEmpty)
    }

    /// An authentic stream of `size` bytes whose final tag sits on chunk `finalAt` (or nowhere),
    /// with a matching hash, as a sender with a broken encoder could produce it.
    static func craftStream(size: Int, finalAt: Int?) throws -> ([UInt8], DocumentFile.Sealed) {
        let key = SymmetricKey.generate()
        let encryptor = SecretStream.Encryptor(key: key)
        var bytes = encryptor.header
        let plaintext = pattern(size)
        var index = 0
        for start in stride(from: 0, to: size, by: chunk) {
            let isFinal = index == finalAt
            bytes += try encryptor.push(Array(plaintext[start..<min(start + chunk, size)]), isFinal: isFinal)
            if isFinal { break }
            index += 1
        }
        if finalAt != nil {
            // Pad with bytes so that the length matches and only the tag position is wrong.
            let expected = Int(DocumentFile.ciphertextByteCount(plaintextByteCount: UInt64(size)))
            bytes += [UInt8](repeating: 0, count: max(0, expected - bytes.count))
        }
        let sealed = DocumentFile.Sealed(key: key, header: encryptor.header, size: UInt64(size), ciphertextHash: try BLAKE2b.hash(bytes))
        return (bytes, sealed)
    }

    @Test func wrongHashIsRejected() throws {
        let folder = try DocumentFolder(plaintext: pattern(5000))
        var sealed = try DocumentFile.encrypt(file: folder.plaintextPath, to: folder.ciphertextPath)
        sealed.ciphertextHash[0] ^= 1
        expectClientError(.documentRejected(fileName: "x", reason: "the ciphertext hash does not match the message")) {
            try DocumentFile.decrypt(file: folder.ciphertextPath, sealed: sealed, fileName: "x", to: folder.targetPath)
        }
        #expect(try folder.outputFiles().isEmpty)
    }
}
