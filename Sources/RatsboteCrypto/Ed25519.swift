import Foundation
internal import CSodium

/// An Ed25519 public key (32 bytes), used to verify signatures.
public struct Ed25519PublicKey: Sendable, Hashable {
    /// The key size in bytes.
    public static let byteCount = 32
    /// The size of a detached signature in bytes.
    public static let signatureByteCount = 64

    /// The encoded point.
    public let rawRepresentation: [UInt8]

    /// Wraps 32 bytes received from a peer or a file.
    ///
    /// - Throws: ``CryptoError/invalidLength(operation:field:expected:actual:)``.
    public init(rawRepresentation: some Collection<UInt8>) throws {
        try checkLength(rawRepresentation.count, Self.byteCount, "Ed25519PublicKey", "public key")
        self.rawRepresentation = Array(rawRepresentation)
    }

    /// Checks a detached signature over `message`.
    ///
    /// - Returns: `true` only for a valid signature; a signature of the wrong length is `false`.
    public func isValidSignature(_ signature: some ContiguousBytes, for message: some ContiguousBytes) -> Bool {
        Sodium.ensureInitialized()
        return signature.withUnsafeBytes { sig in
            guard sig.count == Self.signatureByteCount else { return false }
            return message.withUnsafeBytes { msg in
                rawRepresentation.withUnsafeBufferPointer { pk in
                    crypto_sign_verify_detached(bytePointer(sig), bytePointer(msg), UInt64(msg.count), pk.baseAddress!) == 0
                }
            }
        }
    }

    /// Checks a detached signature and throws ``CryptoError/authenticationFailure`` if it is invalid.
    public func verify(_ signature: some ContiguousBytes, for message: some ContiguousBytes) throws {
        guard isValidSignature(signature, for: message) else { throw CryptoError.authenticationFailure }
    }

    /// Converts the key to the X25519 public key of the same secret (`crypto_sign_ed25519_pk_to_curve25519`).
    ///
    /// - Throws: ``CryptoError/invalidKey(operation:)`` when the bytes are not a valid point.
    public func x25519PublicKey() throws -> X25519PublicKey {
        Sodium.ensureInitialized()
        var out = [UInt8](repeating: 0, count: X25519PublicKey.byteCount)
        let rc = out.withUnsafeMutableBufferPointer { o in
            rawRepresentation.withUnsafeBufferPointer { crypto_sign_ed25519_pk_to_curve25519(o.baseAddress!, $0.baseAddress!) }
        }
        guard rc == 0 else { throw CryptoError.invalidKey(operation: "Ed25519 to X25519 public key") }
        return try X25519PublicKey(rawRepresentation: out)
    }
}

/// An Ed25519 signing key; the 64-byte secret key lives in guarded memory.
public struct Ed25519SigningKey: Sendable {
    /// The seed size in bytes.
    public static let seedByteCount = 32

    /// The secret key in libsodium's 64-byte form (seed followed by the public key).
    private let secret: SecureBytes
    /// The matching public key.
    public let publicKey: Ed25519PublicKey

    /// Generates a fresh key pair.
    public static func generate() -> Ed25519SigningKey {
        // A random seed is always valid.
        try! Ed25519SigningKey(seed: SecureBytes.random(count: seedByteCount))
    }

    /// Derives the key pair from a 32-byte seed (`crypto_sign_seed_keypair`).
    ///
    /// - Throws: ``CryptoError/invalidLength(operation:field:expected:actual:)``.
    public init(seed: SecureBytes) throws {
        Sodium.ensureInitialized()
        try checkLength(seed.count, Self.seedByteCount, "Ed25519SigningKey", "seed")

        var publicBytes = [UInt8](repeating: 0, count: Ed25519PublicKey.byteCount)
        let secret = SecureBytes(count: 64) { sk in
            seed.withUnsafeBytes { s in
                publicBytes.withUnsafeMutableBufferPointer { pk in
                    _ = crypto_sign_seed_keypair(
                        pk.baseAddress!,
                        sk.bindMemory(to: UInt8.self).baseAddress!,
                        s.bindMemory(to: UInt8.self).baseAddress!
                    )
                }
            }
        }
        self.secret = secret
        self.publicKey = try Ed25519PublicKey(rawRepresentation: publicBytes)
    }

    /// The 32-byte seed, the form in which the key is stored.
    public var seed: SecureBytes {
        secret.withUnsafeBytes { sk in
            SecureBytes(copying: UnsafeRawBufferPointer(rebasing: sk[0..<Self.seedByteCount]))
        }
    }

    /// Signs `message` and returns the 64-byte detached signature.
    public func signature(for message: some ContiguousBytes) -> [UInt8] {
        message.withUnsafeBytes { msg in
            [UInt8](unsafeUninitializedCapacity: Ed25519PublicKey.signatureByteCount) { buffer, count in
                secret.withUnsafeBytes { sk in
                    _ = crypto_sign_detached(buffer.baseAddress!, nil, bytePointer(msg), UInt64(msg.count), bytePointer(sk))
                }
                count = Ed25519PublicKey.signatureByteCount
            }
        }
    }

    /// Converts the key to the X25519 private key of the same secret (`crypto_sign_ed25519_sk_to_curve25519`).
    public func x25519PrivateKey() throws -> X25519PrivateKey {
        let converted = SecureBytes(count: X25519PrivateKey.byteCount) { out in
            secret.withUnsafeBytes { sk in
                _ = crypto_sign_ed25519_sk_to_curve25519(
                    out.bindMemory(to: UInt8.self).baseAddress!,
                    sk.bindMemory(to: UInt8.self).baseAddress!
                )
            }
        }
        return try X25519PrivateKey(secret: converted)
    }
}
