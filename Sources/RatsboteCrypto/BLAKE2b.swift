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
    ///   output size outside 16…64 or a key longer than 64 bytes.
    public static func hash(
        _ data: some ContiguousBytes, outputByteCount: Int = defaultOutputByteCount, key: SecureBytes? = nil
    ) throws -> [UInt8] {
        let hasher = try Hasher(outputByteCount: outputByteCount, key: key)
        hasher.update(data)
        return hasher.finalize()
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
            Sodium.ensureInitialized()
            guard BLAKE2b.outputByteRange.contains(outputByteCount) else {
                throw CryptoError.outOfRange(
                    operation: "BLAKE2b", field: "output size", minimum: 16, maximum: 64, actual: outputByteCount)
            }
            if let key, key.count > BLAKE2b.maximumKeyByteCount || key.count == 0 {
                throw CryptoError.outOfRange(operation: "BLAKE2b", field: "key size", minimum: 1, maximum: 64, actual: key.count)
            }

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
            var digest = [UInt8](repeating: 0, count: outputByteCount)
            digest.withUnsafeMutableBufferPointer {
                _ = crypto_generichash_final(OpaquePointer(state), $0.baseAddress!, outputByteCount)
            }
            return digest
        }
    }
}
