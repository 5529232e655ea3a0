import Foundation
internal import CSodium

/// BLAKE2b (`crypto_generichash`), one-shot, keyed and streaming.
public enum BLAKE2b {
    /// The default digest size in bytes.
    public static let defaultOutputByteCount = 32
    /// The smallest and largest digest sizes libsodium allows (16 and 64).
    public static let outputByteRange = 16...64
    /// The largest key libsodium allows.
    public static let maximumKeyByteCount = 64

    /// Hashes `data`, optionally keyed, into `outputByteCount` bytes.
    ///
    /// - Throws: ``CryptoError/outOfRange(operation:field:minimum:maximum:actual:)`` for an
    ///   output size outside 16…64 or a key of 0 or more than 64 bytes.
    @inlinable
    public static func hash(
        _ data: some ContiguousBytes, outputByteCount: Int = defaultOutputByteCount, key: SecureBytes? = nil
    ) throws -> [UInt8] {
        try data.withUnsafeBytes { d in
            try hashToArray(d, outputByteCount: outputByteCount, key: key)
        }
    }

    @usableFromInline
    static func hashToArray(_ data: UnsafeRawBufferPointer, outputByteCount: Int, key: SecureBytes?) throws -> [UInt8] {
        try checkSizes(outputByteCount: outputByteCount, key: key)
        return [UInt8](unsafeUninitializedCapacity: outputByteCount) { buffer, count in
            computeUnchecked(data, key: key, into: buffer.baseAddress!, outputByteCount: outputByteCount)
            count = outputByteCount
        }
    }

    /// Hashes `data` into a caller-provided buffer; the digest size is `output.count` (16…64).
    ///
    /// - Throws: ``CryptoError/outOfRange(operation:field:minimum:maximum:actual:)`` for a buffer
    ///   size outside 16…64 or a key of 0 or more than 64 bytes.
    public static func hash(_ data: UnsafeRawBufferPointer, key: SecureBytes? = nil, into output: UnsafeMutableRawBufferPointer) throws {
        try checkSizes(outputByteCount: output.count, key: key)
        computeUnchecked(
            data, key: key, into: output.baseAddress!.assumingMemoryBound(to: UInt8.self), outputByteCount: output.count)
    }

    static func checkSizes(outputByteCount: Int, key: SecureBytes?) throws {
        Sodium.ensureInitialized()
        guard outputByteRange.contains(outputByteCount) else {
            throw CryptoError.outOfRange(
                operation: "BLAKE2b", field: "output size", minimum: outputByteRange.lowerBound,
                maximum: outputByteRange.upperBound, actual: outputByteCount)
        }
        if let key, key.count > maximumKeyByteCount || key.count == 0 {
            throw CryptoError.outOfRange(
                operation: "BLAKE2b", field: "key size", minimum: 1, maximum: maximumKeyByteCount, actual: key.count)
        }
    }

    /// One `crypto_generichash` call; the sizes have been checked.
    private static func computeUnchecked(
        _ data: UnsafeRawBufferPointer, key: SecureBytes?, into out: UnsafeMutablePointer<UInt8>, outputByteCount: Int
    ) {
        if let key {
            key.withUnsafeBytes { k in
                _ = crypto_generichash(out, outputByteCount, bytePointer(data), UInt64(data.count), bytePointer(k), k.count)
            }
        } else {
            _ = crypto_generichash(out, outputByteCount, bytePointer(data), UInt64(data.count), nil, 0)
        }
    }

    /// Incremental BLAKE2b over data that arrives in pieces.
    ///
    /// The C state is 64-byte aligned, so it lives in its own allocation, wiped on release.
    /// A hasher is used from one thread at a time.
    public final class Hasher {
        private let state: UnsafeMutableRawPointer
        private let stateSize: Int
        private let outputByteCount: Int
        private var finished = false

        /// Starts a hash of `outputByteCount` bytes, keyed when `key` is given.
        public init(outputByteCount: Int = BLAKE2b.defaultOutputByteCount, key: SecureBytes? = nil) throws {
            try BLAKE2b.checkSizes(outputByteCount: outputByteCount, key: key)

            self.stateSize = crypto_generichash_statebytes()
            self.state = UnsafeMutableRawPointer.allocate(byteCount: stateSize, alignment: 64)
            self.outputByteCount = outputByteCount
            let statePointer = OpaquePointer(state)
            if let key {
                key.withUnsafeBytes { k in
                    _ = crypto_generichash_init(statePointer, k.bindMemory(to: UInt8.self).baseAddress, k.count, outputByteCount)
                }
            } else {
                _ = crypto_generichash_init(statePointer, nil, 0, outputByteCount)
            }
        }

        deinit {
            sodium_memzero(state, stateSize)
            state.deallocate()
        }

        /// Adds `data` to the hash.
        @inlinable
        public func update(_ data: some ContiguousBytes) {
            data.withUnsafeBytes { update($0) }
        }

        /// Adds the bytes of a raw buffer to the hash.
        public func update(_ data: UnsafeRawBufferPointer) {
            precondition(!finished, "BLAKE2b.Hasher used after finalize()")
            guard let base = data.baseAddress, data.count > 0 else { return }
            _ = crypto_generichash_update(OpaquePointer(state), base.assumingMemoryBound(to: UInt8.self), UInt64(data.count))
        }

        /// Returns the digest. The hasher must not be used afterwards.
        public func finalize() -> [UInt8] {
            precondition(!finished, "BLAKE2b.Hasher finalized twice")
            finished = true
            return [UInt8](unsafeUninitializedCapacity: outputByteCount) { buffer, count in
                _ = crypto_generichash_final(OpaquePointer(state), buffer.baseAddress!, outputByteCount)
                count = outputByteCount
            }
        }

        /// Writes the digest into a caller-provided buffer of exactly the hasher's output size.
        /// The hasher must not be used afterwards.
        ///
        /// - Throws: ``CryptoError/invalidLength(operation:field:expected:actual:)`` for a buffer of another size.
        public func finalize(into output: UnsafeMutableRawBufferPointer) throws {
            precondition(!finished, "BLAKE2b.Hasher finalized twice")
            try checkLength(output.count, outputByteCount, "BLAKE2b.Hasher.finalize", "output buffer")
            finished = true
            _ = crypto_generichash_final(
                OpaquePointer(state), output.baseAddress!.assumingMemoryBound(to: UInt8.self), outputByteCount)
        }
    }
}
