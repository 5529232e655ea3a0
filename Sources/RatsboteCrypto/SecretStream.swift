import Foundation
internal import CSodium

/// Authenticated encryption of a stream of chunks (`crypto_secretstream_xchacha20poly1305`).
///
/// An ``Encryptor`` produces a header and then one ciphertext chunk per ``Encryptor/push(_:isFinal:authenticating:)``;
/// the last chunk carries the final tag. A ``Decryptor`` takes the header and the chunks in the
/// same order. A reordered, dropped or duplicated chunk fails as ``CryptoError/authenticationFailure``.
/// A stream is complete only once the chunk with the final tag has been pulled. Before that,
/// ``Decryptor/finish()`` throws ``CryptoError/truncatedStream``, and any chunk after it throws
/// ``CryptoError/dataAfterFinalChunk``.
///
/// Documents use ``chunkByteCount`` bytes of plaintext per chunk, so every ciphertext chunk but the
/// last is `chunkByteCount + overheadByteCount` bytes long; ``encrypt(_:using:)`` and
/// ``decrypt(_:using:)`` apply that framing to a whole buffer.
public enum SecretStream {
    /// The plaintext size of every chunk but the last in a document (64 KiB).
    public static let chunkByteCount = 65536
    /// The header size in bytes (`crypto_secretstream_xchacha20poly1305_headerbytes()`, 24).
    public static let headerByteCount = Int(crypto_secretstream_xchacha20poly1305_headerbytes())
    /// Bytes each chunk adds to its plaintext: a tag byte and a 16-byte MAC
    /// (`crypto_secretstream_xchacha20poly1305_abytes()`, 17).
    public static let overheadByteCount = Int(crypto_secretstream_xchacha20poly1305_abytes())
    /// The key size in bytes (`crypto_secretstream_xchacha20poly1305_keybytes()`, 32).
    public static let keyByteCount = Int(crypto_secretstream_xchacha20poly1305_keybytes())

    static let messageTag = crypto_secretstream_xchacha20poly1305_tag_message()
    static let finalTag = crypto_secretstream_xchacha20poly1305_tag_final()

    /// The libsodium stream state, in its own allocation that is wiped on release.
    ///
    /// The state contains a key derived from the stream key, so it is secret.
    final class State {
        let pointer: UnsafeMutablePointer<crypto_secretstream_xchacha20poly1305_state>
        private let byteCount: Int

        init() {
            Sodium.ensureInitialized()
            byteCount = Swift.max(
                crypto_secretstream_xchacha20poly1305_statebytes(),
                MemoryLayout<crypto_secretstream_xchacha20poly1305_state>.size)
            let raw = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 16)
            sodium_memzero(raw, byteCount)
            pointer = raw.bindMemory(to: crypto_secretstream_xchacha20poly1305_state.self, capacity: 1)
        }

        deinit {
            sodium_memzero(pointer, byteCount)
            pointer.deallocate()
        }
    }

    // MARK: - Encryptor

    /// The sending side of a stream. Use one encryptor from one thread at a time.
    public final class Encryptor {
        /// The stream header: send or store it before the first chunk.
        public let header: [UInt8]
        private let state: State
        private var finished = false

        /// Starts a stream under `key` with a fresh random header.
        public init(key: SymmetricKey) {
            let state = State()
            self.state = state
            header = [UInt8](unsafeUninitializedCapacity: SecretStream.headerByteCount) { buffer, count in
                key.withUnsafeBytes { k in
                    _ = crypto_secretstream_xchacha20poly1305_init_push(state.pointer, buffer.baseAddress!, bytePointer(k))
                }
                count = SecretStream.headerByteCount
            }
        }

        /// Whether the chunk with the final tag has been pushed.
        public var isFinished: Bool { finished }

        /// Encrypts one chunk and returns it; pass `isFinal: true` for the last chunk of the stream.
        ///
        /// - Throws: ``CryptoError/dataAfterFinalChunk`` when the final chunk was already pushed.
        @inlinable
        public func push(
            _ chunk: some ContiguousBytes, isFinal: Bool = false, authenticating aad: some ContiguousBytes = [UInt8]()
        ) throws -> [UInt8] {
            try chunk.withUnsafeBytes { c in
                try aad.withUnsafeBytes { a in
                    try pushToArray(c, isFinal: isFinal, aad: a)
                }
            }
        }

        @usableFromInline
        func pushToArray(_ chunk: UnsafeRawBufferPointer, isFinal: Bool, aad: UnsafeRawBufferPointer) throws -> [UInt8] {
            try [UInt8](unsafeUninitializedCapacity: chunk.count + SecretStream.overheadByteCount) { buffer, count in
                count = 0
                count = try push(chunk, isFinal: isFinal, authenticating: aad, into: UnsafeMutableRawBufferPointer(buffer))
            }
        }

        /// Encrypts one chunk into a caller-provided buffer of at least `chunk.count + overheadByteCount` bytes.
        ///
        /// - Returns: the number of bytes written.
        /// - Throws: ``CryptoError/dataAfterFinalChunk`` when the final chunk was already pushed,
        ///   ``CryptoError/invalidLength(operation:field:expected:actual:)`` for a short buffer.
        public func push(
            _ chunk: UnsafeRawBufferPointer, isFinal: Bool,
            authenticating aad: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
            into output: UnsafeMutableRawBufferPointer
        ) throws -> Int {
            guard !finished else { throw CryptoError.dataAfterFinalChunk }
            let needed = chunk.count + SecretStream.overheadByteCount
            guard output.count >= needed, let out = output.baseAddress else {
                throw CryptoError.invalidLength(
                    operation: "SecretStream.push", field: "output buffer", expected: needed, actual: output.count)
            }

            var written: UInt64 = 0
            _ = crypto_secretstream_xchacha20poly1305_push(
                state.pointer, out.assumingMemoryBound(to: UInt8.self), &written,
                bytePointer(chunk), UInt64(chunk.count), bytePointer(aad), UInt64(aad.count),
                isFinal ? SecretStream.finalTag : SecretStream.messageTag)
            if isFinal { finished = true }
            return Int(written)
        }
    }

    // MARK: - Decryptor

    /// The receiving side of a stream. Use one decryptor from one thread at a time.
    ///
    /// After an authentication failure the decryptor rejects every later chunk, so a caller cannot
    /// skip a damaged chunk by accident.
    public final class Decryptor {
        private let state = State()
        private var finished = false
        private var failed = false

        /// Starts reading a stream under `key` from its header.
        ///
        /// - Throws: ``CryptoError/invalidLength(operation:field:expected:actual:)`` for a header
        ///   that is not ``SecretStream/headerByteCount`` bytes.
        public init(key: SymmetricKey, header: some ContiguousBytes) throws {
            let state = self.state
            try header.withUnsafeBytes { h in
                try checkLength(h.count, SecretStream.headerByteCount, "SecretStream.Decryptor", "header")
                let rc = key.withUnsafeBytes { k in
                    crypto_secretstream_xchacha20poly1305_init_pull(state.pointer, bytePointer(h), bytePointer(k))
                }
                // libsodium 1.0.18 always returns 0 here; a wrong header shows up when the first chunk fails.
                guard rc == 0 else { throw CryptoError.authenticationFailure }
            }
        }

        /// Whether the chunk with the final tag has been pulled.
        public var isFinished: Bool { finished }

        /// Decrypts one chunk and reports whether it was the final one.
        ///
        /// - Throws: ``CryptoError/authenticationFailure`` for a forged, reordered or foreign chunk,
        ///   ``CryptoError/dataAfterFinalChunk`` after the final chunk,
        ///   ``CryptoError/invalidLength(operation:field:expected:actual:)`` for a chunk shorter
        ///   than ``SecretStream/overheadByteCount``.
        /// - Note: the plaintext is an ordinary array; callers wipe it when it is secret.
        @inlinable
        public func pull(
            _ chunk: some ContiguousBytes, authenticating aad: some ContiguousBytes = [UInt8]()
        ) throws -> (plaintext: [UInt8], isFinal: Bool) {
            try chunk.withUnsafeBytes { c in
                try aad.withUnsafeBytes { a in
                    try pullToArray(c, aad: a)
                }
            }
        }

        @usableFromInline
        func pullToArray(_ chunk: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer) throws -> (plaintext: [UInt8], isFinal: Bool) {
            var isFinal = false
            let plaintext = try [UInt8](
                unsafeUninitializedCapacity: Swift.max(chunk.count - SecretStream.overheadByteCount, 0)
            ) { buffer, count in
                count = 0
                let result = try pull(chunk, authenticating: aad, into: UnsafeMutableRawBufferPointer(buffer))
                count = result.byteCount
                isFinal = result.isFinal
            }
            return (plaintext, isFinal)
        }

        /// Decrypts one chunk into a caller-provided buffer of at least `chunk.count - overheadByteCount` bytes.
        ///
        /// - Returns: the number of plaintext bytes written and whether the chunk was the final one.
        /// - Throws: the errors of ``pull(_:authenticating:)``, and
        ///   ``CryptoError/invalidLength(operation:field:expected:actual:)`` for a short buffer.
        public func pull(
            _ chunk: UnsafeRawBufferPointer,
            authenticating aad: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
            into output: UnsafeMutableRawBufferPointer
        ) throws -> (byteCount: Int, isFinal: Bool) {
            guard !failed else { throw CryptoError.authenticationFailure }
            guard !finished else { throw CryptoError.dataAfterFinalChunk }
            guard chunk.count >= SecretStream.overheadByteCount else {
                throw CryptoError.invalidLength(
                    operation: "SecretStream.pull", field: "chunk", expected: SecretStream.overheadByteCount,
                    actual: chunk.count)
            }
            let needed = chunk.count - SecretStream.overheadByteCount
            guard output.count >= needed else {
                throw CryptoError.invalidLength(
                    operation: "SecretStream.pull", field: "output buffer", expected: needed, actual: output.count)
            }

            var written: UInt64 = 0
            var tag: UInt8 = 0
            let m = output.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? emptyOutput
            let rc = crypto_secretstream_xchacha20poly1305_pull(
                state.pointer, m, &written, &tag, bytePointer(chunk), UInt64(chunk.count),
                bytePointer(aad), UInt64(aad.count))
            guard rc == 0 else {
                failed = true
                throw CryptoError.authenticationFailure
            }
            // Our encryptor writes only message and final tags; libsodium handles a rekey tag itself.
            if tag == SecretStream.finalTag { finished = true }
            return (Int(written), finished)
        }

        /// Confirms that the stream ended properly.
        ///
        /// - Throws: ``CryptoError/truncatedStream`` when the chunk with the final tag was never pulled.
        public func finish() throws {
            guard finished else { throw CryptoError.truncatedStream }
        }
    }

    // MARK: - Whole buffers

    /// Encrypts `plaintext` as header ‖ chunks of ``chunkByteCount`` plaintext bytes, the last
    /// marked final. An empty plaintext gives one empty final chunk.
    public static func encrypt(_ plaintext: some ContiguousBytes, using key: SymmetricKey) -> [UInt8] {
        plaintext.withUnsafeBytes { p in
            let chunkCount = Swift.max(1, (p.count + chunkByteCount - 1) / chunkByteCount)
            let total = headerByteCount + p.count + chunkCount * overheadByteCount
            let encryptor = Encryptor(key: key)
            return [UInt8](unsafeUninitializedCapacity: total) { buffer, count in
                let output = UnsafeMutableRawBufferPointer(buffer)
                output.copyBytes(from: encryptor.header)
                var written = headerByteCount
                var offset = 0
                for index in 0..<chunkCount {
                    let end = Swift.min(offset + chunkByteCount, p.count)
                    let chunk = UnsafeRawBufferPointer(rebasing: p[offset..<end])
                    // Each output slice has room for its chunk and the encryptor is not finished
                    // before the last chunk, so pushing cannot fail.
                    written += try! encryptor.push(
                        chunk, isFinal: index == chunkCount - 1,
                        into: UnsafeMutableRawBufferPointer(rebasing: output[written...]))
                    offset = end
                }
                count = written
            }
        }
    }

    /// Decrypts the output of ``encrypt(_:using:)``.
    ///
    /// Chunks are cut at ``chunkByteCount`` plus overhead. Bytes appended to a stream whose last
    /// chunk is shorter than that merge with the last chunk, which then fails as
    /// ``CryptoError/authenticationFailure``. Pass `plaintextByteCount` (for example the size in a
    /// document reference) to cut the last chunk exactly, so that such bytes throw
    /// ``CryptoError/dataAfterFinalChunk``.
    ///
    /// - Throws: ``CryptoError/invalidLength(operation:field:expected:actual:)`` for an input
    ///   shorter than a header, ``CryptoError/authenticationFailure`` for altered or reordered
    ///   chunks, ``CryptoError/truncatedStream`` when the final chunk is missing, and
    ///   ``CryptoError/dataAfterFinalChunk`` when bytes follow it.
    /// - Note: the plaintext is an ordinary array; callers wipe it when it is secret.
    public static func decrypt(
        _ stream: some ContiguousBytes, using key: SymmetricKey, plaintextByteCount: Int? = nil
    ) throws -> [UInt8] {
        try stream.withUnsafeBytes { s in
            guard s.count >= headerByteCount else {
                throw CryptoError.invalidLength(
                    operation: "SecretStream.decrypt", field: "header", expected: headerByteCount, actual: s.count)
            }
            let decryptor = try Decryptor(key: key, header: UnsafeRawBufferPointer(rebasing: s[0..<headerByteCount]))
            let body = UnsafeRawBufferPointer(rebasing: s[headerByteCount...])
            let sealedChunkByteCount = chunkByteCount + overheadByteCount
            // Every chunk carries at least the overhead, so the plaintext is never longer than this.
            let capacity = Swift.max(body.count - overheadByteCount, 0)
            var remainingPlaintext = plaintextByteCount

            return try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                count = 0
                let output = UnsafeMutableRawBufferPointer(buffer)
                var offset = 0
                var written = 0
                do {
                    while offset < body.count {
                        var frame = sealedChunkByteCount
                        if let remaining = remainingPlaintext, !decryptor.isFinished {
                            let take = Swift.min(Swift.max(remaining, 0), chunkByteCount)
                            frame = take + overheadByteCount
                            remainingPlaintext = remaining - take
                        }
                        let end = Swift.min(offset + frame, body.count)
                        let result = try decryptor.pull(
                            UnsafeRawBufferPointer(rebasing: body[offset..<end]),
                            into: UnsafeMutableRawBufferPointer(rebasing: output[written...]))
                        written += result.byteCount
                        offset = end
                    }
                    try decryptor.finish()
                } catch {
                    // The chunks before the failure did authenticate, but a broken stream must not
                    // leave their plaintext behind in freed memory.
                    if let base = output.baseAddress, written > 0 { sodium_memzero(base, written) }
                    throw error
                }
                count = written
            }
        }
    }
}
