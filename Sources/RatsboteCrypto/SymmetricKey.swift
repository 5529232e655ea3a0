import Foundation
/// A 32-byte secret key for XChaCha20-Poly1305, ChaCha20-Poly1305, secretstream and key derivation.
public struct SymmetricKey: Sendable, Equatable {
    /// The key size in bytes.
    public static let byteCount = 32

    /// The key bytes in secure storage.
    public let bytes: SecureBytes

    /// Wraps existing key material, which must be exactly 32 bytes.
    ///
    /// - Throws: ``CryptoError/invalidLength(operation:field:expected:actual:)``.
    public init(_ bytes: SecureBytes) throws {
        try checkLength(bytes.count, Self.byteCount, "SymmetricKey", "key")
        self.bytes = bytes
    }

    /// Copies 32 bytes of key material into secure storage.
    public init(copying raw: some ContiguousBytes, storage: SecureBytes.Storage = .guarded) throws {
        let count = raw.withUnsafeBytes { $0.count }
        try checkLength(count, Self.byteCount, "SymmetricKey", "key")
        self.bytes = SecureBytes(copying: raw, storage: storage)
    }

    /// Generates a fresh random key.
    public static func generate(storage: SecureBytes.Storage = .guarded) -> SymmetricKey {
        // The length is right by construction.
        try! SymmetricKey(SecureBytes.random(count: byteCount, storage: storage))
    }

    /// Calls `body` with the key bytes; the pointer must not escape.
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try bytes.withUnsafeBytes(body)
    }
}
