import RatsboteCrypto

/// A Noise revision 34 CipherState over ChaCha20-Poly1305: a key and a 64-bit nonce.
///
/// Without a key the state passes plaintext through unchanged, as the specification requires for
/// the first handshake tokens. A failed decryption throws ``NoiseError/decryptionFailed`` and
/// leaves the nonce and key as they were. The nonce 2^64-1 is reserved for ``rekey()``, so
/// encryption and decryption stop with ``NoiseError/nonceExhausted`` once the nonce reaches it.
///
/// - Warning: a copy of a state contains the same key and nonce. Encrypting with both the copy and the
///   original reuses nonces; keep exactly one live copy of each sending state.
public struct NoiseCipherState: Sendable {
    /// The nonce that Noise reserves for rekeying and never uses for a message.
    public static let reservedNonce = UInt64.max
    /// The ChaCha20-Poly1305 tag length that every encrypted message carries.
    public static let tagLength = ChaCha20Poly1305.tagByteCount

    /// The cipher key, or `nil` before the handshake has mixed in a key.
    private var key: SymmetricKey?
    /// The nonce for the next encryption or decryption.
    public private(set) var nonce: UInt64

    /// Creates a state without a key (Noise `InitializeKey(empty)`).
    public init() {
        self.key = nil
        self.nonce = 0
    }

    /// Creates a state with `key` and nonce 0 (Noise `InitializeKey(key)`).
    public init(key: SymmetricKey) {
        self.key = key
        self.nonce = 0
    }

    /// Whether a key is set (Noise `HasKey()`).
    public var hasKey: Bool { key != nil }

    /// Sets the nonce (Noise `SetNonce()`), for tests and for callers that manage nonces themselves.
    ///
    /// - Warning: setting a nonce that was already used under the same key breaks confidentiality.
    public mutating func setNonce(_ nonce: UInt64) {
        self.nonce = nonce
    }

    /// Encrypts `plaintext` with associated data `ad` (Noise `EncryptWithAd()`).
    ///
    /// - Returns: ciphertext followed by the 16-byte tag, or `plaintext` itself when no key is set.
    /// - Throws: ``NoiseError/nonceExhausted``.
    public mutating func encryptWithAd(_ ad: [UInt8], plaintext: [UInt8]) throws -> [UInt8] {
        guard hasKey else { return plaintext }

        return try ad.withUnsafeBytes { adBytes in
            try plaintext.withUnsafeBytes { input in
                try [UInt8](unsafeUninitializedCapacity: input.count + Self.tagLength) { buffer, count in
                    count = 0
                    count = try encrypt(input, ad: adBytes, into: UnsafeMutableRawBufferPointer(buffer))
                }
            }
        }
    }

    /// Decrypts `ciphertext` with associated data `ad` (Noise `DecryptWithAd()`).
    ///
    /// - Returns: the plaintext, or `ciphertext` itself when no key is set.
    /// - Throws: ``NoiseError/decryptionFailed`` (nonce unchanged), ``NoiseError/truncated(field:minimum:actual:)``
    ///   for fewer than 16 bytes, ``NoiseError/nonceExhausted``.
    public mutating func decryptWithAd(_ ad: [UInt8], ciphertext: [UInt8]) throws -> [UInt8] {
        guard hasKey else { return ciphertext }
        guard ciphertext.count >= Self.tagLength else {
            throw NoiseError.truncated(field: "ciphertext", minimum: Self.tagLength, actual: ciphertext.count)
        }

        return try ad.withUnsafeBytes { adBytes in
            try ciphertext.withUnsafeBytes { input in
                try [UInt8](unsafeUninitializedCapacity: input.count - Self.tagLength) { buffer, count in
                    count = 0
                    count = try decrypt(input, ad: adBytes, into: UnsafeMutableRawBufferPointer(buffer))
                }
            }
        }
    }

    /// Encrypts into a caller-provided buffer of at least `plaintext.count + 16` bytes.
    ///
    /// `output` may start at the same address as `plaintext` (in-place encryption), which lets
    /// the stream encoder avoid a second copy. Without a key the plaintext is copied unchanged.
    ///
    /// - Returns: the number of bytes written.
    /// - Throws: ``NoiseError/nonceExhausted``, ``NoiseError/tooLarge(field:maximum:actual:)`` when
    ///   `output` is too small.
    public mutating func encrypt(
        _ plaintext: UnsafeRawBufferPointer, ad: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws -> Int {
        guard let key else {
            try requireCapacity(output, plaintext.count)
            if let base = plaintext.baseAddress, plaintext.count > 0 {
                output.baseAddress!.copyMemory(from: base, byteCount: plaintext.count)
            }
            return plaintext.count
        }
        guard nonce != Self.reservedNonce else { throw NoiseError.nonceExhausted }
        try requireCapacity(output, plaintext.count + Self.tagLength)

        let written = try withNonceBytes(nonce) { nonceBytes in
            try mappingCryptoErrors(field: "cipher key") {
                try ChaCha20Poly1305.seal(plaintext, using: key, nonce: nonceBytes, authenticating: ad, into: output)
            }
        }
        nonce += 1
        return written
    }

    /// Decrypts into a caller-provided buffer of at least `ciphertext.count - 16` bytes.
    ///
    /// `output` may start at the same address as `ciphertext`. On failure the nonce is unchanged.
    ///
    /// - Returns: the number of plaintext bytes written.
    /// - Throws: ``NoiseError/decryptionFailed``, ``NoiseError/nonceExhausted``,
    ///   ``NoiseError/truncated(field:minimum:actual:)``.
    public mutating func decrypt(
        _ ciphertext: UnsafeRawBufferPointer, ad: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws -> Int {
        guard let key else {
            try requireCapacity(output, ciphertext.count)
            if let base = ciphertext.baseAddress, ciphertext.count > 0 {
                output.baseAddress!.copyMemory(from: base, byteCount: ciphertext.count)
            }
            return ciphertext.count
        }
        guard ciphertext.count >= Self.tagLength else {
            throw NoiseError.truncated(field: "ciphertext", minimum: Self.tagLength, actual: ciphertext.count)
        }
        guard nonce != Self.reservedNonce else { throw NoiseError.nonceExhausted }
        try requireCapacity(output, ciphertext.count - Self.tagLength)

        let written = try withNonceBytes(nonce) { nonceBytes in
            try mappingCryptoErrors(field: "cipher key") {
                try ChaCha20Poly1305.open(ciphertext, using: key, nonce: nonceBytes, authenticating: ad, into: output)
            }
        }
        nonce += 1
        return written
    }

    /// Replaces the key with REKEY(k) (Noise `Rekey()`); the nonce is unchanged.
    ///
    /// REKEY(k) is the first 32 bytes of ChaCha20-Poly1305 encrypting 32 zero bytes under `k` with
    /// the reserved nonce 2^64-1 and empty associated data.
    ///
    /// - Throws: ``NoiseError/invalidState(operation:reason:)`` when no key is set.
    public mutating func rekey() throws {
        guard let key else {
            throw NoiseError.invalidState(operation: "rekey", reason: "the cipher state has no key yet")
        }

        var output = [UInt8](repeating: 0, count: SymmetricKey.byteCount + Self.tagLength)
        defer { wipe(&output) }
        let zeros = [UInt8](repeating: 0, count: SymmetricKey.byteCount)
        _ = try withNonceBytes(Self.reservedNonce) { nonceBytes in
            try zeros.withUnsafeBytes { input in
                try output.withUnsafeMutableBytes { target in
                    try mappingCryptoErrors(field: "cipher key") {
                        try ChaCha20Poly1305.seal(
                            input, using: key, nonce: nonceBytes, authenticating: UnsafeRawBufferPointer(start: nil, count: 0),
                            into: target)
                    }
                }
            }
        }

        self.key = try mappingCryptoErrors(field: "cipher key") {
            try SymmetricKey(copying: output[0..<SymmetricKey.byteCount], storage: .wiped)
        }
    }

    private func requireCapacity(_ output: UnsafeMutableRawBufferPointer, _ needed: Int) throws {
        guard output.count >= needed else {
            throw NoiseError.truncated(field: "output buffer", minimum: needed, actual: output.count)
        }
    }
}

/// Calls `body` with the 12-byte ChaCha20-Poly1305 nonce for Noise nonce `n`: four zero bytes
/// followed by `n` in little-endian order, as Noise defines its ChaChaPoly cipher.
///
/// The nonce lives in a stack tuple, so the hot path allocates nothing for it.
@inline(__always)
func withNonceBytes<Result>(_ n: UInt64, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
    var nonce: (UInt32, UInt32, UInt32) = (
        0, UInt32(truncatingIfNeeded: n).littleEndian, UInt32(truncatingIfNeeded: n >> 32).littleEndian
    )
    return try withUnsafeBytes(of: &nonce) { try body($0) }
}
