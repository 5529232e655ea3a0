import Foundation
internal import CSodium

/// HMAC-SHA-256 (`crypto_auth_hmacsha256_*`) with keys of any length.
public enum HMACSHA256 {
    /// The tag size in bytes.
    public static let byteCount = 32

    /// Computes the 32-byte tag of `message` under `key`.
    @inlinable
    public static func authenticationCode(for message: some ContiguousBytes, key: some ContiguousBytes) -> [UInt8] {
        message.withUnsafeBytes { m in
            key.withUnsafeBytes { k in
                authenticationCodeArray(message: m, key: k)
            }
        }
    }

    @usableFromInline
    static func authenticationCodeArray(message: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, count in
            HMACCore.compute(key: key, message: message, into: buffer.baseAddress!)
            count = byteCount
        }
    }

    /// Computes the tag of `message` under a secret key and keeps it in secure storage, for
    /// chain keys and message keys that are themselves secrets.
    @inlinable
    public static func authenticationCode(
        for message: some ContiguousBytes, key: SecureBytes, storage: SecureBytes.Storage = .wiped
    ) -> SecureBytes {
        message.withUnsafeBytes { m in
            secureAuthenticationCode(message: m, key: key, storage: storage)
        }
    }

    @usableFromInline
    static func secureAuthenticationCode(
        message: UnsafeRawBufferPointer, key: SecureBytes, storage: SecureBytes.Storage
    ) -> SecureBytes {
        SecureBytes(count: byteCount, storage: storage) { out in
            key.withUnsafeBytes { k in
                HMACCore.compute(key: k, message: message, into: out.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
    }

    /// Computes the tag into a caller-provided buffer of at least 32 bytes.
    ///
    /// - Throws: ``CryptoError/invalidLength(operation:field:expected:actual:)`` for a short buffer.
    public static func authenticationCode(
        for message: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws {
        guard output.count >= byteCount, let out = output.baseAddress else {
            throw CryptoError.invalidLength(
                operation: "HMACSHA256", field: "output buffer", expected: byteCount, actual: output.count)
        }
        HMACCore.compute(key: key, message: message, into: out.assumingMemoryBound(to: UInt8.self))
    }

    /// Checks a 32-byte tag in constant time.
    public static func isValidAuthenticationCode(
        _ tag: some ContiguousBytes, for message: some ContiguousBytes, key: some ContiguousBytes
    ) -> Bool {
        var expected = authenticationCode(for: message, key: key)
        defer { wipe(&expected) }
        return constantTimeEqual(expected, tag)
    }
}

/// HMAC-SHA-256 on raw memory, with the C state on the stack and wiped after use.
enum HMACCore {
    typealias State = crypto_auth_hmacsha256_state

    static func compute(key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt8>) {
        Sodium.ensureInitialized()
        var state = State()
        _ = crypto_auth_hmacsha256_init(&state, bytePointer(key), key.count)
        _ = crypto_auth_hmacsha256_update(&state, bytePointer(message), UInt64(message.count))
        _ = crypto_auth_hmacsha256_final(&state, out)
        wipeState(&state)
    }

    @inline(__always)
    static func wipeState(_ state: inout State) {
        withUnsafeMutableBytes(of: &state) { sodium_memzero($0.baseAddress!, $0.count) }
    }
}

/// HKDF-SHA-256 (RFC 5869) on HMAC-SHA-256; libsodium 1.0.18 has no HKDF of its own.
public enum HKDFSHA256 {
    /// The largest output RFC 5869 allows: 255 blocks of 32 bytes.
    public static let maximumOutputByteCount = 255 * 32

    /// The extract step: `PRK = HMAC(salt, ikm)`.
    ///
    /// An empty salt means 32 zero bytes, as RFC 5869 says; HMAC pads any key shorter than a
    /// SHA-256 block with zeros, so the empty key gives the same PRK without a special case.
    public static func extract(
        salt: some ContiguousBytes, inputKeyMaterial ikm: SecureBytes, storage: SecureBytes.Storage = .wiped
    ) -> SecureBytes {
        salt.withUnsafeBytes { s in
            SecureBytes(count: HMACSHA256.byteCount, storage: storage) { out in
                ikm.withUnsafeBytes { k in
                    HMACCore.compute(key: s, message: k, into: out.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
    }

    /// The expand step: the first `outputByteCount` bytes of `T(1) ‖ T(2) ‖ …`.
    ///
    /// - Throws: ``CryptoError/outOfRange(operation:field:minimum:maximum:actual:)`` for a size
    ///   below 0 or above 8160 bytes (255 blocks), the limit in RFC 5869.
    public static func expand(
        pseudoRandomKey prk: SecureBytes, info: some ContiguousBytes, outputByteCount: Int,
        storage: SecureBytes.Storage = .wiped
    ) throws -> SecureBytes {
        try checkOutputSize(outputByteCount)
        return info.withUnsafeBytes { i in
            SecureBytes(count: outputByteCount, storage: storage) { output in
                prk.withUnsafeBytes { k in
                    expand(prk: k, info: i, into: output)
                }
            }
        }
    }

    /// The expand step into a caller-provided buffer, filled completely.
    ///
    /// - Throws: ``CryptoError/outOfRange(operation:field:minimum:maximum:actual:)`` for a buffer
    ///   larger than 8160 bytes.
    public static func expand(
        pseudoRandomKey prk: SecureBytes, info: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws {
        try checkOutputSize(output.count)
        prk.withUnsafeBytes { k in
            expand(prk: k, info: info, into: output)
        }
    }

    /// Extract then expand.
    ///
    /// - Throws: ``CryptoError/outOfRange(operation:field:minimum:maximum:actual:)`` above 8160 bytes.
    @inlinable
    public static func deriveKey(
        inputKeyMaterial ikm: SecureBytes, salt: some ContiguousBytes, info: some ContiguousBytes, outputByteCount: Int,
        storage: SecureBytes.Storage = .wiped
    ) throws -> SecureBytes {
        // Inlinable, so callers in other modules get a copy specialised for their salt and info
        // types. Unspecialised generic code cost 3 to 4 % of a 32-byte derivation (`hkdf-sha256.32B`).
        try salt.withUnsafeBytes { s in
            try info.withUnsafeBytes { i in
                try deriveKey(inputKeyMaterial: ikm, salt: s, info: i, outputByteCount: outputByteCount, storage: storage)
            }
        }
    }

    /// Extract then expand on raw buffers; the generic form calls this.
    @usableFromInline
    static func deriveKey(
        inputKeyMaterial ikm: SecureBytes, salt: UnsafeRawBufferPointer, info: UnsafeRawBufferPointer, outputByteCount: Int,
        storage: SecureBytes.Storage
    ) throws -> SecureBytes {
        try checkOutputSize(outputByteCount)

        // The PRK lives only for this call, so it stays on the stack and is wiped there instead of
        // costing a SecureBytes allocation of its own.
        return withUnsafeTemporaryAllocation(byteCount: HMACSHA256.byteCount, alignment: 16) { prk in
            defer { sodium_memzero(prk.baseAddress!, prk.count) }
            ikm.withUnsafeBytes { k in
                HMACCore.compute(key: salt, message: k, into: prk.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            return SecureBytes(count: outputByteCount, storage: storage) { output in
                expand(prk: UnsafeRawBufferPointer(prk), info: info, into: output)
            }
        }
    }

    private static func checkOutputSize(_ count: Int) throws {
        guard (0...maximumOutputByteCount).contains(count) else {
            throw CryptoError.outOfRange(
                operation: "HKDF-SHA-256", field: "output size", minimum: 0, maximum: maximumOutputByteCount,
                actual: count)
        }
    }

    /// Writes `T(1) ‖ T(2) ‖ …` into `output`, whose size has been checked.
    ///
    /// The HMAC state keyed with the PRK is computed once and copied for every block, which saves
    /// the two key-block compressions per block. Full blocks go straight into `output` and serve as
    /// `T(i-1)` for the next block from there, so only a final partial block needs scratch memory.
    /// An output of at most 32 bytes costs a single HMAC.
    private static func expand(prk: UnsafeRawBufferPointer, info: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) {
        Sodium.ensureInitialized()
        guard let base = output.baseAddress?.assumingMemoryBound(to: UInt8.self), output.count > 0 else { return }
        let blockSize = HMACSHA256.byteCount

        var keyed = HMACCore.State()
        _ = crypto_auth_hmacsha256_init(&keyed, bytePointer(prk), prk.count)
        var previous: UnsafePointer<UInt8>? = nil
        var counter: UInt8 = 1
        var written = 0

        while written < output.count {
            var state = keyed
            if let previous {
                _ = crypto_auth_hmacsha256_update(&state, previous, UInt64(blockSize))
            }
            _ = crypto_auth_hmacsha256_update(&state, bytePointer(info), UInt64(info.count))
            _ = crypto_auth_hmacsha256_update(&state, &counter, 1)

            let remaining = output.count - written
            if remaining >= blockSize {
                _ = crypto_auth_hmacsha256_final(&state, base + written)
                previous = UnsafePointer(base + written)
                written += blockSize
            } else {
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: blockSize) { block in
                    _ = crypto_auth_hmacsha256_final(&state, block.baseAddress!)
                    (base + written).update(from: block.baseAddress!, count: remaining)
                    sodium_memzero(block.baseAddress!, blockSize)
                }
                written += remaining
            }
            HMACCore.wipeState(&state)
            counter &+= 1
        }
        HMACCore.wipeState(&keyed)
    }
}
