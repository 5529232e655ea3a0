import Foundation
internal import CSodium

/// The one place where both libsodium IETF AEADs are called.
///
/// The public generic front doors are `@inlinable`, so a caller's `[UInt8]` or `Data` is
/// specialised at the call site and reaches this code as raw buffers without protocol dispatch.
/// Everything here is non-generic, works on caller memory and allocates nothing.
@usableFromInline
enum AEADCore {
    /// Which libsodium AEAD to call.
    @usableFromInline
    enum Algorithm: Sendable {
        case xchacha20Poly1305
        case chacha20Poly1305

        var nonceByteCount: Int {
            switch self {
            case .xchacha20Poly1305: return 24
            case .chacha20Poly1305: return 12
            }
        }

        var sealOperation: String {
            switch self {
            case .xchacha20Poly1305: return "XChaCha20Poly1305.seal"
            case .chacha20Poly1305: return "ChaCha20Poly1305.seal"
            }
        }

        var openOperation: String {
            switch self {
            case .xchacha20Poly1305: return "XChaCha20Poly1305.open"
            case .chacha20Poly1305: return "ChaCha20Poly1305.open"
            }
        }
    }

    @usableFromInline
    static let tagByteCount = 16

    /// Encrypts `plaintext` into `output`, which must hold `plaintext.count + 16` bytes.
    ///
    /// - Returns: the number of bytes written (ciphertext followed by the tag).
    @usableFromInline
    static func seal(
        _ algorithm: Algorithm, _ plaintext: UnsafeRawBufferPointer, key: SymmetricKey,
        nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws -> Int {
        Sodium.ensureInitialized()
        guard nonce.count == algorithm.nonceByteCount else {
            throw CryptoError.invalidLength(
                operation: algorithm.sealOperation, field: "nonce", expected: algorithm.nonceByteCount,
                actual: nonce.count)
        }
        let needed = plaintext.count + tagByteCount
        guard output.count >= needed, let out = output.baseAddress else {
            throw CryptoError.invalidLength(
                operation: algorithm.sealOperation, field: "output buffer", expected: needed, actual: output.count)
        }

        var written: UInt64 = 0
        let m = bytePointer(plaintext)
        let ad = bytePointer(aad)
        let npub = bytePointer(nonce)
        let c = out.assumingMemoryBound(to: UInt8.self)
        key.withUnsafeBytes { k in
            let kp = bytePointer(k)
            switch algorithm {
            case .xchacha20Poly1305:
                _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                    c, &written, m, UInt64(plaintext.count), ad, UInt64(aad.count), nil, npub, kp)
            case .chacha20Poly1305:
                _ = crypto_aead_chacha20poly1305_ietf_encrypt(
                    c, &written, m, UInt64(plaintext.count), ad, UInt64(aad.count), nil, npub, kp)
            }
        }
        return Int(written)
    }

    /// Decrypts ciphertext followed by the tag into `output`, which must hold `ciphertext.count - 16`
    /// bytes. libsodium checks the tag before it writes anything, so on failure `output` holds no
    /// plaintext.
    ///
    /// - Returns: the number of plaintext bytes written.
    @usableFromInline
    static func open(
        _ algorithm: Algorithm, _ ciphertext: UnsafeRawBufferPointer, key: SymmetricKey,
        nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws -> Int {
        Sodium.ensureInitialized()
        guard nonce.count == algorithm.nonceByteCount else {
            throw CryptoError.invalidLength(
                operation: algorithm.openOperation, field: "nonce", expected: algorithm.nonceByteCount,
                actual: nonce.count)
        }
        guard ciphertext.count >= tagByteCount else {
            throw CryptoError.invalidLength(
                operation: algorithm.openOperation, field: "ciphertext", expected: tagByteCount,
                actual: ciphertext.count)
        }
        let needed = ciphertext.count - tagByteCount
        guard output.count >= needed else {
            throw CryptoError.invalidLength(
                operation: algorithm.openOperation, field: "output buffer", expected: needed, actual: output.count)
        }

        var written: UInt64 = 0
        // An empty plaintext writes nothing, so a zero-length output may have no address.
        let m = output.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? emptyOutput
        let c = bytePointer(ciphertext)
        let ad = bytePointer(aad)
        let npub = bytePointer(nonce)
        let rc = key.withUnsafeBytes { k in
            let kp = bytePointer(k)
            switch algorithm {
            case .xchacha20Poly1305:
                return crypto_aead_xchacha20poly1305_ietf_decrypt(
                    m, &written, nil, c, UInt64(ciphertext.count), ad, UInt64(aad.count), npub, kp)
            case .chacha20Poly1305:
                return crypto_aead_chacha20poly1305_ietf_decrypt(
                    m, &written, nil, c, UInt64(ciphertext.count), ad, UInt64(aad.count), npub, kp)
            }
        }
        guard rc == 0 else { throw CryptoError.authenticationFailure }
        return Int(written)
    }

    /// Encrypts into a new array of exactly `plaintext.count + 16` bytes.
    ///
    /// The array is built with `reserveCapacity` and `append`, which the compiler specialises for
    /// `UInt8` inside this module, and then sealed in place (libsodium allows the output to be the
    /// input). `Array(unsafeUninitializedCapacity:)` would skip the copy. It allocates through an
    /// unspecialised runtime function, though, which looks up the generic metadata of the array's
    /// storage class on every call. At 1 KiB that lookup costs more than the copy.
    @usableFromInline
    static func sealToArray(
        _ algorithm: Algorithm, _ plaintext: UnsafeRawBufferPointer, key: SymmetricKey,
        nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer
    ) throws -> [UInt8] {
        let plaintextCount = plaintext.count
        var result = [UInt8]()
        result.reserveCapacity(plaintextCount + tagByteCount)
        result.append(contentsOf: plaintext)
        // Room for the tag, which seal overwrites. Appending raw bytes is one memcpy, where
        // `repeatElement` appends byte by byte.
        withUnsafeBytes(of: (UInt64(0), UInt64(0))) { result.append(contentsOf: $0) }
        _ = try result.withUnsafeMutableBytes { buffer in
            try seal(
                algorithm, UnsafeRawBufferPointer(rebasing: buffer[0..<plaintextCount]), key: key, nonce: nonce, aad: aad,
                into: buffer)
        }
        return result
    }

    /// Decrypts into a new array of exactly `ciphertext.count - 16` bytes.
    ///
    /// Built like ``sealToArray(_:_:key:nonce:aad:)``: the ciphertext is copied into a
    /// specialised array, opened in place, and the tag's 16 bytes are cut off. On failure the
    /// array contains only ciphertext and is dropped.
    @usableFromInline
    static func openToArray(
        _ algorithm: Algorithm, _ ciphertext: UnsafeRawBufferPointer, key: SymmetricKey,
        nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer
    ) throws -> [UInt8] {
        guard ciphertext.count >= tagByteCount else {
            throw CryptoError.invalidLength(
                operation: algorithm.openOperation, field: "ciphertext", expected: tagByteCount,
                actual: ciphertext.count)
        }
        let plaintextCount = ciphertext.count - tagByteCount
        var result = [UInt8]()
        result.reserveCapacity(ciphertext.count)
        result.append(contentsOf: ciphertext)
        _ = try result.withUnsafeMutableBytes { buffer in
            try open(
                algorithm, UnsafeRawBufferPointer(buffer), key: key, nonce: nonce, aad: aad,
                into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<plaintextCount]))
        }
        result.removeLast(tagByteCount)
        return result
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

    /// Encrypts `plaintext` and returns the ciphertext followed by the tag.
    ///
    /// - Throws: ``CryptoError/invalidLength(operation:field:expected:actual:)`` for a bad nonce.
    @inlinable
    public static func seal(
        _ plaintext: some ContiguousBytes, using key: SymmetricKey, nonce: some ContiguousBytes,
        authenticating aad: some ContiguousBytes = [UInt8]()
    ) throws -> [UInt8] {
        try plaintext.withUnsafeBytes { p in
            try nonce.withUnsafeBytes { n in
                try aad.withUnsafeBytes { a in
                    try AEADCore.sealToArray(.xchacha20Poly1305, p, key: key, nonce: n, aad: a)
                }
            }
        }
    }

    /// Decrypts ciphertext followed by the tag.
    ///
    /// - Throws: ``CryptoError/authenticationFailure`` for any forged or mismatched input,
    ///   ``CryptoError/invalidLength(operation:field:expected:actual:)`` for a bad nonce or an
    ///   input shorter than the tag.
    /// - Note: the plaintext is an ordinary array; callers wipe it when it is secret.
    @inlinable
    public static func open(
        _ ciphertext: some ContiguousBytes, using key: SymmetricKey, nonce: some ContiguousBytes,
        authenticating aad: some ContiguousBytes = [UInt8]()
    ) throws -> [UInt8] {
        try ciphertext.withUnsafeBytes { c in
            try nonce.withUnsafeBytes { n in
                try aad.withUnsafeBytes { a in
                    try AEADCore.openToArray(.xchacha20Poly1305, c, key: key, nonce: n, aad: a)
                }
            }
        }
    }

    /// Encrypts into a caller-provided buffer of at least `plaintext.count + 16` bytes.
    ///
    /// `output` may be the same memory as `plaintext` (in-place encryption), but must not
    /// overlap it in any other way.
    ///
    /// - Returns: the number of bytes written.
    public static func seal(
        _ plaintext: UnsafeRawBufferPointer, using key: SymmetricKey, nonce: UnsafeRawBufferPointer,
        authenticating aad: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws -> Int {
        try AEADCore.seal(.xchacha20Poly1305, plaintext, key: key, nonce: nonce, aad: aad, into: output)
    }

    /// Decrypts into a caller-provided buffer of at least `ciphertext.count - 16` bytes.
    ///
    /// - Returns: the number of bytes written.
    public static func open(
        _ ciphertext: UnsafeRawBufferPointer, using key: SymmetricKey, nonce: UnsafeRawBufferPointer,
        authenticating aad: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws -> Int {
        try AEADCore.open(.xchacha20Poly1305, ciphertext, key: key, nonce: nonce, aad: aad, into: output)
    }

    /// Encrypts under a fresh random nonce and returns nonce ‖ ciphertext ‖ tag.
    public static func sealWithRandomNonce(
        _ plaintext: some ContiguousBytes, using key: SymmetricKey, authenticating aad: some ContiguousBytes = [UInt8]()
    ) -> [UInt8] {
        plaintext.withUnsafeBytes { p in
            aad.withUnsafeBytes { a in
                [UInt8](unsafeUninitializedCapacity: nonceByteCount + p.count + tagByteCount) { buffer, count in
                    let whole = UnsafeMutableRawBufferPointer(buffer)
                    let nonce = UnsafeMutableRawBufferPointer(rebasing: whole[0..<nonceByteCount])
                    Random.fill(nonce)
                    // The nonce and output sizes are right by construction, so sealing cannot fail.
                    let sealed = try! AEADCore.seal(
                        .xchacha20Poly1305, p, key: key, nonce: UnsafeRawBufferPointer(nonce), aad: a,
                        into: UnsafeMutableRawBufferPointer(rebasing: whole[nonceByteCount...]))
                    count = nonceByteCount + sealed
                }
            }
        }
    }

    /// Opens the output of ``sealWithRandomNonce(_:using:authenticating:)``.
    ///
    /// - Throws: ``CryptoError/invalidLength(operation:field:expected:actual:)`` when the input
    ///   is shorter than a nonce and a tag, ``CryptoError/authenticationFailure`` otherwise.
    public static func openWithNonce(
        _ combined: [UInt8], using key: SymmetricKey, authenticating aad: some ContiguousBytes = [UInt8]()
    ) throws -> [UInt8] {
        guard combined.count >= nonceByteCount + tagByteCount else {
            throw CryptoError.invalidLength(
                operation: "XChaCha20Poly1305.open", field: "nonce and ciphertext",
                expected: nonceByteCount + tagByteCount, actual: combined.count)
        }
        return try combined.withUnsafeBytes { whole in
            try aad.withUnsafeBytes { a in
                try AEADCore.openToArray(
                    .xchacha20Poly1305, UnsafeRawBufferPointer(rebasing: whole[nonceByteCount...]), key: key,
                    nonce: UnsafeRawBufferPointer(rebasing: whole[0..<nonceByteCount]), aad: a)
            }
        }
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

    /// Encrypts `plaintext` and returns the ciphertext followed by the tag.
    ///
    /// - Throws: ``CryptoError/invalidLength(operation:field:expected:actual:)`` for a bad nonce.
    @inlinable
    public static func seal(
        _ plaintext: some ContiguousBytes, using key: SymmetricKey, nonce: some ContiguousBytes,
        authenticating aad: some ContiguousBytes = [UInt8]()
    ) throws -> [UInt8] {
        try plaintext.withUnsafeBytes { p in
            try nonce.withUnsafeBytes { n in
                try aad.withUnsafeBytes { a in
                    try AEADCore.sealToArray(.chacha20Poly1305, p, key: key, nonce: n, aad: a)
                }
            }
        }
    }

    /// Decrypts ciphertext followed by the tag.
    ///
    /// - Throws: ``CryptoError/authenticationFailure`` for any forged or mismatched input,
    ///   ``CryptoError/invalidLength(operation:field:expected:actual:)`` for a bad nonce or an
    ///   input shorter than the tag.
    @inlinable
    public static func open(
        _ ciphertext: some ContiguousBytes, using key: SymmetricKey, nonce: some ContiguousBytes,
        authenticating aad: some ContiguousBytes = [UInt8]()
    ) throws -> [UInt8] {
        try ciphertext.withUnsafeBytes { c in
            try nonce.withUnsafeBytes { n in
                try aad.withUnsafeBytes { a in
                    try AEADCore.openToArray(.chacha20Poly1305, c, key: key, nonce: n, aad: a)
                }
            }
        }
    }

    /// Encrypts into a caller-provided buffer of at least `plaintext.count + 16` bytes.
    ///
    /// - Returns: the number of bytes written.
    public static func seal(
        _ plaintext: UnsafeRawBufferPointer, using key: SymmetricKey, nonce: UnsafeRawBufferPointer,
        authenticating aad: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws -> Int {
        try AEADCore.seal(.chacha20Poly1305, plaintext, key: key, nonce: nonce, aad: aad, into: output)
    }

    /// Decrypts into a caller-provided buffer of at least `ciphertext.count - 16` bytes.
    ///
    /// - Returns: the number of bytes written.
    public static func open(
        _ ciphertext: UnsafeRawBufferPointer, using key: SymmetricKey, nonce: UnsafeRawBufferPointer,
        authenticating aad: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws -> Int {
        try AEADCore.open(.chacha20Poly1305, ciphertext, key: key, nonce: nonce, aad: aad, into: output)
    }
}
