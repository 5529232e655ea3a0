import Foundation
internal import CSodium

/// HMAC-SHA-256 (`crypto_auth_hmacsha256_*`) with keys of any length.
public enum HMACSHA256 {
    /// The tag size in bytes.
    public static let byteCount = 32

    /// Computes the 32-byte tag of `message` under `key`.
    public static func authenticationCode(for message: some ContiguousBytes, key: some ContiguousBytes) -> [UInt8] {
        Sodium.ensureInitialized()
        var state = crypto_auth_hmacsha256_state()
        var tag = [UInt8](repeating: 0, count: byteCount)
        key.withUnsafeBytes { k in
            _ = crypto_auth_hmacsha256_init(&state, k.bindMemory(to: UInt8.self).baseAddress ?? emptyInput, k.count)
        }
        message.withUnsafeBytes { m in
            if let base = m.baseAddress, m.count > 0 {
                _ = crypto_auth_hmacsha256_update(&state, base.assumingMemoryBound(to: UInt8.self), UInt64(m.count))
            }
        }
        tag.withUnsafeMutableBufferPointer { _ = crypto_auth_hmacsha256_final(&state, $0.baseAddress!) }
        withUnsafeMutableBytes(of: &state) { sodium_memzero($0.baseAddress!, $0.count) }
        return tag
    }

    /// Checks a tag in constant time.
    public static func isValidAuthenticationCode(
        _ tag: some ContiguousBytes, for message: some ContiguousBytes, key: some ContiguousBytes
    ) -> Bool {
        constantTimeEqual(authenticationCode(for: message, key: key), tag)
    }
}

/// HKDF-SHA-256 (RFC 5869) on HMAC-SHA-256; libsodium 1.0.18 has no HKDF of its own.
public enum HKDFSHA256 {
    /// The largest output RFC 5869 allows: 255 blocks of 32 bytes.
    public static let maximumOutputByteCount = 255 * 32

    /// The extract step: `PRK = HMAC(salt, ikm)`, with an empty salt meaning 32 zero bytes.
    public static func extract(salt: some ContiguousBytes, inputKeyMaterial ikm: SecureBytes) -> SecureBytes {
        var saltBytes = salt.withUnsafeBytes { Array($0) }
        if saltBytes.isEmpty { saltBytes = [UInt8](repeating: 0, count: 32) }
        var prk = ikm.withUnsafeBytes { HMACSHA256.authenticationCode(for: $0, key: saltBytes) }
        defer { wipe(&prk) }
        return SecureBytes(copying: prk, storage: .wiped)
    }

    /// The expand step: `outputByteCount` bytes of `T(1) ‖ T(2) ‖ …`.
    ///
    /// - Throws: ``CryptoError/outOfRange(operation:field:minimum:maximum:actual:)`` above 8160 bytes.
    public static func expand(
        pseudoRandomKey prk: SecureBytes, info: some ContiguousBytes, outputByteCount: Int,
        storage: SecureBytes.Storage = .wiped
    ) throws -> SecureBytes {
        guard (0...maximumOutputByteCount).contains(outputByteCount) else {
            throw CryptoError.outOfRange(
                operation: "HKDF-SHA-256", field: "output size", minimum: 0, maximum: maximumOutputByteCount,
                actual: outputByteCount)
        }
        let infoBytes = info.withUnsafeBytes { Array($0) }
        return SecureBytes(count: outputByteCount, storage: storage) { output in
            var previous: [UInt8] = []
            var written = 0
            var counter: UInt8 = 1
            while written < outputByteCount {
                var block = previous + infoBytes + [counter]
                let t = prk.withUnsafeBytes { HMACSHA256.authenticationCode(for: block, key: $0) }
                wipe(&block)
                let take = Swift.min(t.count, outputByteCount - written)
                for index in 0..<take { output[written + index] = t[index] }
                written += take
                wipe(&previous)
                previous = t
                counter &+= 1
            }
            wipe(&previous)
        }
    }

    /// Extract then expand.
    public static func deriveKey(
        inputKeyMaterial ikm: SecureBytes, salt: some ContiguousBytes, info: some ContiguousBytes, outputByteCount: Int,
        storage: SecureBytes.Storage = .wiped
    ) throws -> SecureBytes {
        let prk = extract(salt: salt, inputKeyMaterial: ikm)
        return try expand(pseudoRandomKey: prk, info: info, outputByteCount: outputByteCount, storage: storage)
    }
}
