import Foundation
import Testing
import RatsboteCrypto

@Suite("SecretStream")
struct SecretStreamTests {
    let key = SymmetricKey.generate(storage: .wiped)
    let chunk = SecretStream.chunkByteCount
    var sealedChunk: Int { SecretStream.chunkByteCount + SecretStream.overheadByteCount }

    /// Deterministic, position-dependent plaintext, so that a swapped or dropped chunk would be visible.
    func plaintext(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
    }

    @Test func sizesMatchLibsodium() {
        #expect(SecretStream.chunkByteCount == 65536)
        #expect(SecretStream.headerByteCount == 24)
        #expect(SecretStream.overheadByteCount == 17)
        #expect(SecretStream.keyByteCount == SymmetricKey.byteCount)
    }

    @Test(arguments: [
        ("empty input", 0, 1),
        ("one byte", 1, 1),
        ("exactly one chunk", 65536, 1),
        ("exact multiple of the chunk size", 3 * 65536, 3),
        ("one byte over a chunk", 65536 + 1, 2),
    ])
    func roundTrip(_ name: String, size: Int, chunks: Int) throws {
        let message = plaintext(size)
        let stream = SecretStream.encrypt(message, using: key)
        #expect(stream.count == SecretStream.headerByteCount + size + chunks * SecretStream.overheadByteCount, "\(name)")
        let decrypted = try SecretStream.decrypt(stream, using: key)
        #expect(decrypted == message, "\(name)")
    }

    @Test func truncationAtEveryChunkBoundary() throws {
        let message = plaintext(3 * chunk + 100)
        let stream = SecretStream.encrypt(message, using: key)
        // Cut after the header and after each of the three full chunks; the final chunk is then missing.
        for keptChunks in 0..<4 {
            let cut = Array(stream.prefix(SecretStream.headerByteCount + keptChunks * sealedChunk))
            #expect(throws: CryptoError.truncatedStream, "cut after \(keptChunks) chunks") {
                try SecretStream.decrypt(cut, using: key)
            }
        }
    }

    @Test func truncationInsideChunk() throws {
        let stream = SecretStream.encrypt(plaintext(2 * chunk), using: key)
        #expect(throws: CryptoError.authenticationFailure) {
            try SecretStream.decrypt(Array(stream.dropLast(1)), using: key)
        }
        #expect(throws: CryptoError.invalidLength(operation: "SecretStream.decrypt", field: "header", expected: 24, actual: 23)) {
            try SecretStream.decrypt(Array(stream.prefix(23)), using: key)
        }
    }

    @Test func swappedChunksFail() throws {
        let stream = SecretStream.encrypt(plaintext(3 * chunk), using: key)
        let header = SecretStream.headerByteCount
        var swapped = Array(stream[0..<header])
        swapped += stream[(header + sealedChunk)..<(header + 2 * sealedChunk)]
        swapped += stream[header..<(header + sealedChunk)]
        swapped += stream[(header + 2 * sealedChunk)...]
        #expect(swapped.count == stream.count)
        #expect(throws: CryptoError.authenticationFailure) { try SecretStream.decrypt(swapped, using: key) }
    }

    @Test(arguments: [1, 17, 100])
    func bytesAfterFullFinalChunkFail(extra: Int) throws {
        let stream = SecretStream.encrypt(plaintext(2 * chunk), using: key)
        let extended = stream + [UInt8](repeating: 0xa5, count: extra)
        #expect(throws: CryptoError.dataAfterFinalChunk) { try SecretStream.decrypt(extended, using: key) }
    }

    @Test(arguments: [1, 17, 100])
    func bytesAfterShortFinalChunkFail(extra: Int) throws {
        let message = plaintext(chunk + 5)
        let stream = SecretStream.encrypt(message, using: key)
        let extended = stream + [UInt8](repeating: 0xa5, count: extra)
        // With the plaintext size known, the last chunk is cut exactly and the extra bytes stand alone.
        #expect(throws: CryptoError.dataAfterFinalChunk) {
            try SecretStream.decrypt(extended, using: key, plaintextByteCount: message.count)
        }
        // Without it, the extra bytes merge with the short last chunk, whose tag then fails.
        #expect(throws: CryptoError.authenticationFailure) { try SecretStream.decrypt(extended, using: key) }
        #expect(try SecretStream.decrypt(stream, using: key, plaintextByteCount: message.count) == message)
    }

    @Test func validChunkAfterFinalFails() throws {
        let encryptor = SecretStream.Encryptor(key: key)
        let first = try encryptor.push([1, 2, 3], isFinal: true)
        let decryptor = try SecretStream.Decryptor(key: key, header: encryptor.header)
        let result = try decryptor.pull(first)
        #expect(result.plaintext == [1, 2, 3])
        #expect(result.isFinal)
        #expect(throws: CryptoError.dataAfterFinalChunk) { try decryptor.pull(first) }
        #expect(throws: CryptoError.dataAfterFinalChunk) { try encryptor.push([4], isFinal: true) }
        try decryptor.finish()
    }

    @Test func streamingAPIRoundTrip() throws {
        let encryptor = SecretStream.Encryptor(key: key)
        #expect(encryptor.header.count == SecretStream.headerByteCount)
        let parts: [[UInt8]] = [plaintext(10), [], plaintext(chunk), plaintext(3)]
        var sealed: [[UInt8]] = []
        for (index, part) in parts.enumerated() {
            sealed.append(try encryptor.push(part, isFinal: index == parts.count - 1, authenticating: [UInt8(index)]))
        }
        #expect(encryptor.isFinished)

        let decryptor = try SecretStream.Decryptor(key: key, header: encryptor.header)
        for (index, chunk) in sealed.enumerated() {
            #expect(throws: CryptoError.truncatedStream) { try decryptor.finish() }
            let result = try decryptor.pull(chunk, authenticating: [UInt8(index)])
            #expect(result.plaintext == parts[index])
            #expect(result.isFinal == (index == parts.count - 1))
        }
        #expect(decryptor.isFinished)
        try decryptor.finish()
    }

    @Test func callerBufferRoundTrip() throws {
        let message = plaintext(chunk)
        var sealed = [UInt8](repeating: 0, count: chunk + SecretStream.overheadByteCount)
        var opened = [UInt8](repeating: 0, count: chunk)
        let encryptor = SecretStream.Encryptor(key: key)
        let written = try message.withUnsafeBytes { input in
            try sealed.withUnsafeMutableBytes { try encryptor.push(input, isFinal: true, into: $0) }
        }
        #expect(written == sealed.count)

        let decryptor = try SecretStream.Decryptor(key: key, header: encryptor.header)
        let result = try sealed.withUnsafeBytes { input in
            try opened.withUnsafeMutableBytes { try decryptor.pull(input, into: $0) }
        }
        #expect(result.byteCount == chunk)
        #expect(result.isFinal)
        #expect(opened == message)
    }

    @Test func callerBufferTooSmall() throws {
        let encryptor = SecretStream.Encryptor(key: key)
        var small = [UInt8](repeating: 0, count: 19)
        #expect(throws: CryptoError.invalidLength(operation: "SecretStream.push", field: "output buffer", expected: 20, actual: 19)) {
            try [UInt8](repeating: 1, count: 3).withUnsafeBytes { input in
                try small.withUnsafeMutableBytes { try encryptor.push(input, isFinal: false, into: $0) }
            }
        }
    }

    @Test func negativeCases() throws {
        let encryptor = SecretStream.Encryptor(key: key)
        let sealed = try encryptor.push(plaintext(100), isFinal: true, authenticating: [7])

        // A flipped tag byte.
        var flipped = sealed
        flipped[flipped.count - 1] ^= 0x01
        let flippedReader = try SecretStream.Decryptor(key: key, header: encryptor.header)
        #expect(throws: CryptoError.authenticationFailure) { try flippedReader.pull(flipped, authenticating: [7]) }
        // After a failure every later chunk is rejected, even the genuine one.
        #expect(throws: CryptoError.authenticationFailure) { try flippedReader.pull(sealed, authenticating: [7]) }

        // Truncated input: shorter than the overhead, and one byte short.
        let truncatedReader = try SecretStream.Decryptor(key: key, header: encryptor.header)
        #expect(throws: CryptoError.invalidLength(operation: "SecretStream.pull", field: "chunk", expected: 17, actual: 16)) {
            try truncatedReader.pull(Array(sealed.prefix(16)))
        }
        #expect(throws: CryptoError.authenticationFailure) { try truncatedReader.pull(Array(sealed.dropLast()), authenticating: [7]) }

        // A wrong key.
        let wrongKeyReader = try SecretStream.Decryptor(key: SymmetricKey.generate(storage: .wiped), header: encryptor.header)
        #expect(throws: CryptoError.authenticationFailure) { try wrongKeyReader.pull(sealed, authenticating: [7]) }

        // Wrong associated data.
        let wrongADReader = try SecretStream.Decryptor(key: key, header: encryptor.header)
        #expect(throws: CryptoError.authenticationFailure) { try wrongADReader.pull(sealed, authenticating: [8]) }

        // A header of the wrong length.
        #expect(throws: CryptoError.invalidLength(operation: "SecretStream.Decryptor", field: "header", expected: 24, actual: 23)) {
            try SecretStream.Decryptor(key: key, header: Array(encryptor.header.prefix(23)))
        }

        // A stream decrypted under another key.
        let stream = SecretStream.encrypt(plaintext(10), using: key)
        #expect(throws: CryptoError.authenticationFailure) {
            try SecretStream.decrypt(stream, using: SymmetricKey.generate(storage: .wiped))
        }
    }
}
