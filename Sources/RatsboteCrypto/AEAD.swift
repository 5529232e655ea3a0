import Foundation
internal import CSodium

/// The libsodium calls behind one AEAD construction.
struct AEADFunctions: Sendable {
    /// Which libsodium AEAD to call.
    enum Algorithm: Sendable {
        case xchacha20Poly1305
        case chacha20Poly1305
    }

    let name: String
    let nonceByteCount: Int
    let algorithm: Algorithm

    func encrypt(
        _ c: UnsafeMutablePointer<UInt8>, _ clen: UnsafeMutablePointer<UInt64>, _ m: UnsafePointer<UInt8>, _ mlen: UInt64,
        _ ad: UnsafePointer<UInt8>, _ adlen: UInt64, _ nsec: UnsafePointer<UInt8>?, _ npub: UnsafePointer<UInt8>,
        _ k: UnsafePointer<UInt8>
    ) -> Int32 {
        switch algorithm {
        case .xchacha20Poly1305: return crypto_aead_xchacha20poly1305_ietf_encrypt(c, clen, m, mlen, ad, adlen, nsec, npub, k)
        case .chacha20Poly1305: return crypto_aead_chacha20poly1305_ietf_encrypt(c, clen, m, mlen, ad, adlen, nsec, npub, k)
        }
    }

    func decrypt(
        _ m: UnsafeMutablePointer<UInt8>, _ mlen: UnsafeMutablePointer<UInt64>, _ nsec: UnsafeMutablePointer<UInt8>?,
        _ c: UnsafePointer<UInt8>, _ clen: UInt64, _ ad: UnsafePointer<UInt8>, _ adlen: UInt64, _ npub: UnsafePointer<UInt8>,
        _ k: UnsafePointer<UInt8>
    ) -> Int32 {
        switch algorithm {
        case .xchacha20Poly1305: return crypto_aead_xchacha20poly1305_ietf_decrypt(m, mlen, nsec, c, clen, ad, adlen, npub, k)
        case .chacha20Poly1305: return crypto_aead_chacha20poly1305_ietf_decrypt(m, mlen, nsec, c, clen, ad, adlen, npub, k)
        }
    }
}


extension AEADFunctions {
    static let tagByteCount = 16

    /// Encrypts `plaintext` into `output`, which must hold `plaintext.count + 16` bytes.
    func seal(
        _ plaintext: UnsafeRawBufferPointer, key: SymmetricKey, nonce: UnsafeRawBufferPointer,
        aad: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws -> Int {
        try checkLength(nonce.count, nonceByteCount, "\(name).seal", "nonce")
        let needed = plaintext.count + Self.tagByteCount
        guard output.count >= needed else {
            throw CryptoError.invalidLength(operation: "\(name).seal", field: "output buffer", expected: needed, actual: output.count)
        }

        var written: UInt64 = 0
        key.withUnsafeBytes { k in
            _ = encrypt(
                output.bindMemory(to: UInt8.self).baseAddress!, &written,
                plaintext.bindMemory(to: UInt8.self).baseAddress ?? emptyInput, UInt64(plaintext.count),
                aad.bindMemory(to: UInt8.self).baseAddress ?? emptyInput, UInt64(aad.count),
                nil, nonce.bindMemory(to: UInt8.self).baseAddress!, k.bindMemory(to: UInt8.self).baseAddress!
            )
        }
        return Int(written)
    }

    /// Decrypts `ciphertext` (ciphertext followed by the tag) into `output`, which must hold
    /// `ciphertext.count - 16` bytes. On failure `output` holds no plaintext.
    func open(
        _ ciphertext: UnsafeRawBufferPointer, key: SymmetricKey, nonce: UnsafeRawBufferPointer,
        aad: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws -> Int {
        try checkLength(nonce.count, nonceByteCount, "\(name).open", "nonce")
        guard ciphertext.count >= Self.tagByteCount else {
            throw CryptoError.invalidLength(
                operation: "\(name).open", field: "ciphertext", expected: Self.tagByteCount, actual: ciphertext.count)
        }
        let needed = ciphertext.count - Self.tagByteCount
        guard output.count >= needed else {
            throw CryptoError.invalidLength(operation: "\(name).open", field: "output buffer", expected: needed, actual: output.count)
        }

        var written: UInt64 = 0
        let scratchPointer = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        defer { scratchPointer.deallocate() }
        let rc = key.withUnsafeBytes { k in
            decrypt(
                output.bindMemory(to: UInt8.self).baseAddress ?? scratchPointer, &written, nil,
                ciphertext.bindMemory(to: UInt8.self).baseAddress!, UInt64(ciphertext.count),
                aad.bindMemory(to: UInt8.self).baseAddress ?? emptyInput, UInt64(aad.count),
                nonce.bindMemory(to: UInt8.self).baseAddress!, k.bindMemory(to: UInt8.self).baseAddress!
            )
        }
        guard rc == 0 else { throw CryptoError.authenticationFailure }
        return Int(written)
    }

    func seal(
        _ plaintext: some ContiguousBytes, key: SymmetricKey, nonce: some ContiguousBytes, aad: some ContiguousBytes
    ) throws -> [UInt8] {
        try plaintext.withUnsafeBytes { p in
            try nonce.withUnsafeBytes { n in
                try aad.withUnsafeBytes { a in
                    try [UInt8](unsafeUninitializedCapacity: p.count + Self.tagByteCount) { buffer, count in
                        count = try seal(p, key: key, nonce: n, aad: a, into: UnsafeMutableRawBufferPointer(buffer))
                    }
                }
            }
        }
    }

    func open(
        _ ciphertext: some ContiguousBytes, key: SymmetricKey, nonce: some ContiguousBytes, aad: some ContiguousBytes
    ) throws -> [UInt8] {
        try ciphertext.withUnsafeBytes { c in
            try nonce.withUnsafeBytes { n in
                try aad.withUnsafeBytes { a in
                    let capacity = Swift.max(c.count - Self.tagByteCount, 0)
                    return try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                        count = 0
                        count = try open(c, key: key, nonce: n, aad: a, into: UnsafeMutableRawBufferPointer(buffer))
                    }
                }
            }
        }
    }
}

/// XChaCha20-Poly1305-IETF (`crypto_aead_xchacha20poly1305_ietf_*`): 32-byte key, 24-byte
/// nonce, 16-byte tag. The nonce is long enough to be chosen at random for every message.
///
/// - Warning: never seal two messages under the same key and nonce.
public enum XChaCha20Poly1305 {
    /// The nonce size in bytes.
    public static let nonceByteCount = 24
    /// The tag size in bytes.
    public static let tagByteCount = 16

    static let functions = AEADFunctions(
        name: "XChaCha20Poly1305", nonceByteCount: nonceByteCount,
        algorithm: .xchacha20Poly1305)

    /// Encrypts `plaintext` and returns the ciphertext followed by the tag.
    ///
    /// - Throws: ``CryptoError/invalidLength(operation:field:expected:actual:)`` for a bad nonce.
    public static func seal(
        _ plaintext: some ContiguousBytes, using key: SymmetricKey, nonce: some ContiguousBytes,
        authenticating aad: some ContiguousBytes = [UInt8]()
    ) throws -> [UInt8] {
        Sodium.ensureInitialized()
        return try functions.seal(plaintext, key: key, nonce: nonce, aad: aad)
    }

    /// Decrypts ciphertext followed by the tag.
    ///
    /// - Throws: ``CryptoError/authenticationFailure`` for any forged or mismatched input.
    /// - Note: the plaintext is an ordinary array; callers wipe it when it is secret.
    public static func open(
        _ ciphertext: some ContiguousBytes, using key: SymmetricKey, nonce: some ContiguousBytes,
        authenticating aad: some ContiguousBytes = [UInt8]()
    ) throws -> [UInt8] {
        Sodium.ensureInitialized()
        return try functions.open(ciphertext, key: key, nonce: nonce, aad: aad)
    }

    /// Encrypts into a caller-provided buffer of at least `plaintext.count + 16` bytes.
    ///
    /// - Returns: the number of bytes written.
    public static func seal(
        _ plaintext: UnsafeRawBufferPointer, using key: SymmetricKey, nonce: UnsafeRawBufferPointer,
        authenticating aad: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws -> Int {
        Sodium.ensureInitialized()
        return try functions.seal(plaintext, key: key, nonce: nonce, aad: aad, into: output)
    }

    /// Decrypts into a caller-provided buffer of at least `ciphertext.count - 16` bytes.
    ///
    /// - Returns: the number of bytes written.
    public static func open(
        _ ciphertext: UnsafeRawBufferPointer, using key: SymmetricKey, nonce: UnsafeRawBufferPointer,
        authenticating aad: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws -> Int {
        Sodium.ensureInitialized()
        return try functions.open(ciphertext, key: key, nonce: nonce, aad: aad, into: output)
    }

    /// Encrypts under a fresh random nonce and returns nonce ‖ ciphertext ‖ tag.
    public static func sealWithRandomNonce(
        _ plaintext: some ContiguousBytes, using key: SymmetricKey, authenticating aad: some ContiguousBytes = [UInt8]()
    ) -> [UInt8] {
        let nonce = Random.bytes(count: nonceByteCount)
        // The nonce length is right by construction.
        return nonce + (try! seal(plaintext, using: key, nonce: nonce, authenticating: aad))
    }

    /// Opens the output of ``sealWithRandomNonce(_:using:authenticating:)``.
    public static func openWithNonce(
        _ combined: [UInt8], using key: SymmetricKey, authenticating aad: some ContiguousBytes = [UInt8]()
    ) throws -> [UInt8] {
        guard combined.count >= nonceByteCount + tagByteCount else {
            throw CryptoError.invalidLength(
                operation: "XChaCha20Poly1305.open", field: "nonce and ciphertext",
                expected: nonceByteCount + tagByteCount, actual: combined.count)
        }
        return try open(combined[nonceByteCount...], using: key, nonce: combined[0..<nonceByteCount], authenticating: aad)
    }
}

/// ChaCha20-Poly1305-IETF (RFC 8439, `crypto_aead_chacha20poly1305_ietf_*`): 32-byte key,
/// 12-byte nonce, 16-byte tag. Used where the nonce is a counter, as in Noise.
///
/// - Warning: the 12-byte nonce is too short to choose at random; never repeat one under a key.
public enum ChaCha20Poly1305 {
    /// The nonce size in bytes.
    public static let nonceByteCount = 12
    /// The tag size in bytes.
    public static let tagByteCount = 16

    static let functions = AEADFunctions(
        name: "ChaCha20Poly1305", nonceByteCount: nonceByteCount,
        algorithm: .chacha20Poly1305)

    /// Encrypts `plaintext` and returns the ciphertext followed by the tag.
    public static func seal(
        _ plaintext: some ContiguousBytes, using key: SymmetricKey, nonce: some ContiguousBytes,
        authenticating aad: some ContiguousBytes = [UInt8]()
    ) throws -> [UInt8] {
        Sodium.ensureInitialized()
        return try functions.seal(plaintext, key: key, nonce: nonce, aad: aad)
    }

    /// Decrypts ciphertext followed by the tag.
    ///
    /// - Throws: ``CryptoError/authenticationFailure`` for any forged or mismatched input.
    public static func open(
        _ ciphertext: some ContiguousBytes, using key: SymmetricKey, nonce: some ContiguousBytes,
        authenticating aad: some ContiguousBytes = [UInt8]()
    ) throws -> [UInt8] {
        Sodium.ensureInitialized()
        return try functions.open(ciphertext, key: key, nonce: nonce, aad: aad)
    }

    /// Encrypts into a caller-provided buffer of at least `plaintext.count + 16` bytes.
    public static func seal(
        _ plaintext: UnsafeRawBufferPointer, using key: SymmetricKey, nonce: UnsafeRawBufferPointer,
        authenticating aad: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws -> Int {
        Sodium.ensureInitialized()
        return try functions.seal(plaintext, key: key, nonce: nonce, aad: aad, into: output)
    }

    /// Decrypts into a caller-provided buffer of at least `ciphertext.count - 16` bytes.
    public static func open(
        _ ciphertext: UnsafeRawBufferPointer, using key: SymmetricKey, nonce: UnsafeRawBufferPointer,
        authenticating aad: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws -> Int {
        Sodium.ensureInitialized()
        return try functions.open(ciphertext, key: key, nonce: nonce, aad: aad, into: output)
    }
}
