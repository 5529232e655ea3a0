import RatsboteCrypto

/// HASH, HMAC-HASH and HKDF as Noise revision 34 (section 4.3) defines them for BLAKE2b.
///
/// Noise fixes BLAKE2b at its full 64-byte output (HASHLEN) with a 128-byte block (BLOCKLEN), and
/// builds HMAC from it as RFC 2104 does. Keyed BLAKE2b is a different function, so it is not used.
enum NoiseHash {
    /// HASHLEN: the BLAKE2b-512 digest size.
    static let hashLength = 64
    /// BLOCKLEN: the BLAKE2b block size, which sets the HMAC pad length.
    static let blockLength = 128

    /// Returns BLAKE2b-512 of the concatenation of `parts`.
    static func hash(_ parts: [UnsafeRawBufferPointer]) throws -> [UInt8] {
        let hasher = try mappingCryptoErrors(field: "hash") { try BLAKE2b.Hasher(outputByteCount: hashLength) }
        for part in parts { hasher.update(part) }
        return hasher.finalize()
    }

    /// Computes HMAC-BLAKE2b of the concatenation of `parts` under `key` (at most 64 bytes here).
    ///
    /// The pads and the inner digest are key material, so they live in wiped memory.
    static func hmac(key: UnsafeRawBufferPointer, _ parts: [UnsafeRawBufferPointer]) throws -> SecureBytes {
        // Noise only keys HMAC with chaining keys and HKDF temporary keys, both HASHLEN bytes,
        // so the RFC 2104 step that hashes a key longer than a block never applies.
        guard key.count <= hashLength else {
            throw NoiseError.tooLarge(field: "HMAC key", maximum: hashLength, actual: key.count)
        }

        let innerPad = makePad(key: key, byte: 0x36)
        let outerPad = makePad(key: key, byte: 0x5c)

        let inner = try mappingCryptoErrors(field: "hash") { try BLAKE2b.Hasher(outputByteCount: hashLength) }
        innerPad.withUnsafeBytes { inner.update($0) }
        for part in parts { inner.update(part) }
        var innerDigest = inner.finalize()
        defer { wipe(&innerDigest) }

        let outer = try mappingCryptoErrors(field: "hash") { try BLAKE2b.Hasher(outputByteCount: hashLength) }
        outerPad.withUnsafeBytes { outer.update($0) }
        outer.update(innerDigest)
        var digest = outer.finalize()
        defer { wipe(&digest) }

        return SecureBytes(copying: digest, storage: .wiped)
    }

    /// Computes HKDF(chaining_key, input_key_material, 2 or 3) from Noise section 4.3.
    ///
    /// - Returns: two or three outputs of HASHLEN bytes; `third` is `nil` unless requested.
    static func hkdf(
        chainingKey: SecureBytes, inputKeyMaterial: UnsafeRawBufferPointer, outputs: Int
    ) throws -> (first: SecureBytes, second: SecureBytes, third: SecureBytes?) {
        let temporaryKey = try chainingKey.withUnsafeBytes { try hmac(key: $0, [inputKeyMaterial]) }

        return try temporaryKey.withUnsafeBytes { key in
            let first = try withUnsafeBytes(of: UInt8(1)) { try hmac(key: key, [$0]) }
            let second = try first.withUnsafeBytes { previous in
                try withUnsafeBytes(of: UInt8(2)) { try hmac(key: key, [previous, $0]) }
            }
            guard outputs == 3 else { return (first, second, nil) }
            let third = try second.withUnsafeBytes { previous in
                try withUnsafeBytes(of: UInt8(3)) { try hmac(key: key, [previous, $0]) }
            }
            return (first, second, third)
        }
    }

    /// Builds a BLOCKLEN-byte HMAC pad: the key, zero-padded, XORed with `byte`.
    private static func makePad(key: UnsafeRawBufferPointer, byte: UInt8) -> SecureBytes {
        SecureBytes(count: blockLength, storage: .wiped) { pad in
            for index in 0..<blockLength {
                pad[index] = (index < key.count ? key[index] : 0) ^ byte
            }
        }
    }

    /// Copies the first 32 bytes of a HASHLEN output into a cipher key, as Noise requires when
    /// HASHLEN is 64.
    static func truncatedKey(_ output: SecureBytes) throws -> SymmetricKey {
        let truncated = SecureBytes(count: SymmetricKey.byteCount, storage: .wiped) { target in
            output.withUnsafeBytes { source in
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<SymmetricKey.byteCount]))
            }
        }
        return try mappingCryptoErrors(field: "cipher key") { try SymmetricKey(truncated) }
    }
}
