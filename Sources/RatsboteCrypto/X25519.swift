internal import CSodium

/// An X25519 public key (32 bytes).
public struct X25519PublicKey: Sendable, Hashable {
    /// The key size in bytes.
    public static let byteCount = 32

    /// The encoded u-coordinate.
    public let rawRepresentation: [UInt8]

    /// Wraps 32 bytes received from a peer or a file.
    ///
    /// - Throws: ``CryptoError/invalidLength(operation:field:expected:actual:)``.
    public init(rawRepresentation: some Collection<UInt8>) throws {
        try checkLength(rawRepresentation.count, Self.byteCount, "X25519PublicKey", "public key")
        self.rawRepresentation = Array(rawRepresentation)
    }
}

/// An X25519 private key in secure storage.
public struct X25519PrivateKey: Sendable {
    /// The key size in bytes.
    public static let byteCount = 32

    /// The scalar.
    let secret: SecureBytes
    /// The matching public key (`crypto_scalarmult_base`).
    public let publicKey: X25519PublicKey

    /// Generates a fresh key pair.
    public static func generate(storage: SecureBytes.Storage = .guarded) -> X25519PrivateKey {
        // A random 32-byte scalar is always valid.
        try! X25519PrivateKey(secret: SecureBytes.random(count: byteCount, storage: storage))
    }

    /// Wraps a 32-byte scalar.
    ///
    /// - Throws: ``CryptoError/invalidLength(operation:field:expected:actual:)``.
    public init(secret: SecureBytes) throws {
        Sodium.ensureInitialized()
        try checkLength(secret.count, Self.byteCount, "X25519PrivateKey", "private key")

        var publicBytes = [UInt8](repeating: 0, count: X25519PublicKey.byteCount)
        secret.withUnsafeBytes { sk in
            publicBytes.withUnsafeMutableBufferPointer { pk in
                _ = crypto_scalarmult_base(pk.baseAddress!, sk.bindMemory(to: UInt8.self).baseAddress!)
            }
        }
        self.secret = secret
        self.publicKey = try X25519PublicKey(rawRepresentation: publicBytes)
    }

    /// Calls `body` with the scalar; the pointer must not escape.
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try secret.withUnsafeBytes(body)
    }

    /// Computes the raw X25519 shared secret with `peer`.
    ///
    /// - Throws: ``CryptoError/weakPublicKey`` when the result is all zeros (a low-order point).
    public func sharedSecret(with peer: X25519PublicKey, storage: SecureBytes.Storage = .guarded) throws -> SecureBytes {
        var succeeded = false
        let shared = SecureBytes(count: X25519PublicKey.byteCount, storage: storage) { out in
            secret.withUnsafeBytes { sk in
                peer.rawRepresentation.withUnsafeBytes { pk in
                    succeeded = X25519Core.scalarMult(scalar: sk, point: pk, into: out)
                }
            }
        }
        guard succeeded else { throw CryptoError.weakPublicKey }
        return shared
    }
}

/// The raw `crypto_scalarmult` call shared by key agreement and the RFC 7748 iteration test.
enum X25519Core {
    /// Writes X25519(scalar, point) into `out` (32 bytes each); libsodium clamps the scalar and
    /// masks the point's top bit.
    ///
    /// - Returns: `false` when the result is all zeros, which libsodium reports as -1.
    static func scalarMult(
        scalar: UnsafeRawBufferPointer, point: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer
    ) -> Bool {
        Sodium.ensureInitialized()
        return crypto_scalarmult(
            out.baseAddress!.assumingMemoryBound(to: UInt8.self), bytePointer(scalar), bytePointer(point)) == 0
    }
}
