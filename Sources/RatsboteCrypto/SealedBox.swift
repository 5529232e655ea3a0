import Foundation
internal import CSodium

/// Anonymous public-key encryption to an X25519 key (`crypto_box_seal`).
///
/// The sender is not identified: anybody who knows the public key can seal. The output is an
/// ephemeral public key, the ciphertext and a 16-byte tag.
public enum SealedBox {
    /// Bytes a sealed box adds to its plaintext (`crypto_box_sealbytes()`, 48).
    public static var overhead: Int { Int(crypto_box_sealbytes()) }

    /// Seals `plaintext` to `recipient`.
    ///
    /// - Note: for a recipient key of low order libsodium writes no ciphertext, and the result
    ///   is a box that nobody can open. Use ``seal(_:to:into:)`` to get
    ///   ``CryptoError/weakPublicKey`` for that case instead.
    public static func seal(_ plaintext: some ContiguousBytes, to recipient: X25519PublicKey) -> [UInt8] {
        plaintext.withUnsafeBytes { message in
            [UInt8](unsafeUninitializedCapacity: message.count + overhead) { buffer, count in
                let output = UnsafeMutableRawBufferPointer(buffer)
                do {
                    count = try seal(message, to: recipient, into: output)
                } catch {
                    // Only a low-order recipient key gets here; the buffer holds no plaintext.
                    output.initializeMemory(as: UInt8.self, repeating: 0)
                    count = output.count
                }
            }
        }
    }

    /// Seals into a caller-provided buffer of at least `plaintext.count + overhead` bytes.
    ///
    /// - Returns: the number of bytes written.
    /// - Throws: ``CryptoError/weakPublicKey`` for a recipient key of low order,
    ///   ``CryptoError/invalidLength(operation:field:expected:actual:)`` for a short buffer.
    public static func seal(
        _ plaintext: UnsafeRawBufferPointer, to recipient: X25519PublicKey, into output: UnsafeMutableRawBufferPointer
    ) throws -> Int {
        Sodium.ensureInitialized()
        let needed = plaintext.count + overhead
        guard output.count >= needed, let out = output.baseAddress else {
            throw CryptoError.invalidLength(
                operation: "SealedBox.seal", field: "output buffer", expected: needed, actual: output.count)
        }

        let rc = recipient.rawRepresentation.withUnsafeBufferPointer { pk in
            crypto_box_seal(
                out.assumingMemoryBound(to: UInt8.self), bytePointer(plaintext), UInt64(plaintext.count), pk.baseAddress!)
        }
        // crypto_box_seal fails only when the agreement with the recipient key is all zeros.
        guard rc == 0 else { throw CryptoError.weakPublicKey }
        return needed
    }

    /// Opens a sealed box with the recipient's key pair.
    ///
    /// - Throws: ``CryptoError/invalidLength(operation:field:expected:actual:)`` when the input is
    ///   shorter than the overhead, ``CryptoError/authenticationFailure`` otherwise.
    /// - Note: the returned plaintext is an ordinary array; callers wipe it when it is secret.
    public static func open(_ sealed: some ContiguousBytes, with recipient: X25519PrivateKey) throws -> [UInt8] {
        try sealed.withUnsafeBytes { box in
            try [UInt8](unsafeUninitializedCapacity: Swift.max(box.count - overhead, 0)) { buffer, count in
                count = 0
                count = try open(box, with: recipient, into: UnsafeMutableRawBufferPointer(buffer))
            }
        }
    }

    /// Opens a sealed box into a caller-provided buffer of at least `sealed.count - overhead` bytes.
    ///
    /// - Returns: the number of bytes written.
    /// - Throws: the errors of ``open(_:with:)``, and
    ///   ``CryptoError/invalidLength(operation:field:expected:actual:)`` for a short buffer.
    public static func open(
        _ sealed: UnsafeRawBufferPointer, with recipient: X25519PrivateKey, into output: UnsafeMutableRawBufferPointer
    ) throws -> Int {
        Sodium.ensureInitialized()
        guard sealed.count >= overhead else {
            throw CryptoError.invalidLength(
                operation: "SealedBox.open", field: "sealed box", expected: overhead, actual: sealed.count)
        }
        let needed = sealed.count - overhead
        guard output.count >= needed else {
            throw CryptoError.invalidLength(
                operation: "SealedBox.open", field: "output buffer", expected: needed, actual: output.count)
        }

        let m = output.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? emptyOutput
        let rc = recipient.publicKey.rawRepresentation.withUnsafeBufferPointer { pk in
            recipient.withUnsafeBytes { sk in
                crypto_box_seal_open(m, bytePointer(sealed), UInt64(sealed.count), pk.baseAddress!, bytePointer(sk))
            }
        }
        guard rc == 0 else { throw CryptoError.authenticationFailure }
        return needed
    }
}
