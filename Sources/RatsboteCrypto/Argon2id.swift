import Foundation
internal import CSodium

/// Argon2id passphrase hashing (`crypto_pwhash` with `crypto_pwhash_ALG_ARGON2ID13`).
public enum Argon2id {
    /// The salt size in bytes (`crypto_pwhash_saltbytes()`, 16).
    public static var saltByteCount: Int { Int(crypto_pwhash_saltbytes()) }

    /// The output sizes accepted, in bytes. libsodium's own minimum is 16; the maximum is ours,
    /// since Ratsbote derives keys of 32 bytes and nothing needs more than a kilobyte.
    public static let outputByteRange = 16...1024

    /// Cost parameters: passes over memory and memory in bytes.
    public struct Parameters: Sendable, Equatable, Codable {
        /// Number of passes (libsodium's opslimit).
        public var operations: UInt64
        /// Memory in bytes (libsodium's memlimit).
        public var memoryBytes: UInt64

        public init(operations: UInt64, memoryBytes: UInt64) {
            self.operations = operations
            self.memoryBytes = memoryBytes
        }

        /// libsodium's INTERACTIVE limits: 2 passes, 64 MiB.
        public static var interactive: Parameters {
            Parameters(
                operations: UInt64(crypto_pwhash_opslimit_interactive()),
                memoryBytes: UInt64(crypto_pwhash_memlimit_interactive()))
        }

        /// libsodium's MODERATE limits: 3 passes, 256 MiB.
        public static var moderate: Parameters {
            Parameters(
                operations: UInt64(crypto_pwhash_opslimit_moderate()),
                memoryBytes: UInt64(crypto_pwhash_memlimit_moderate()))
        }

        /// The bounds accepted when parameters are read from a file: at least INTERACTIVE, and at
        /// most 10 passes and 1 GiB, so a damaged or hostile file cannot make derivation weak or
        /// exhaust memory.
        public static let minimumOperations: UInt64 = 2
        public static let maximumOperations: UInt64 = 10
        public static let minimumMemoryBytes: UInt64 = 64 << 20
        public static let maximumMemoryBytes: UInt64 = 1 << 30

        /// Checks the parameters against the bounds above.
        public func validate() throws {
            guard (Self.minimumOperations...Self.maximumOperations).contains(operations) else {
                throw CryptoError.outOfRange(
                    operation: "Argon2id", field: "operations", minimum: Int(Self.minimumOperations),
                    maximum: Int(Self.maximumOperations), actual: Int(clamping: operations))
            }
            guard (Self.minimumMemoryBytes...Self.maximumMemoryBytes).contains(memoryBytes) else {
                throw CryptoError.outOfRange(
                    operation: "Argon2id", field: "memory bytes", minimum: Int(Self.minimumMemoryBytes),
                    maximum: Int(Self.maximumMemoryBytes), actual: Int(clamping: memoryBytes))
            }
        }
    }

    /// Derives `outputByteCount` bytes from a passphrase.
    ///
    /// - Throws: ``CryptoError/outOfRange(operation:field:minimum:maximum:actual:)`` when the
    ///   parameters are outside the bounds, ``CryptoError/invalidLength(operation:field:expected:actual:)``
    ///   for a bad salt, ``CryptoError/keyDerivationFailed(operation:)`` when memory runs out.
    public static func deriveKey(
        from passphrase: SecureBytes, salt: some ContiguousBytes, parameters: Parameters, outputByteCount: Int = 32
    ) throws -> SecureBytes {
        Sodium.ensureInitialized()
        try parameters.validate()
        let saltCount = salt.withUnsafeBytes { $0.count }
        try checkLength(saltCount, saltByteCount, "Argon2id", "salt")
        guard outputByteRange.contains(outputByteCount) else {
            throw CryptoError.outOfRange(
                operation: "Argon2id", field: "output size", minimum: outputByteRange.lowerBound,
                maximum: outputByteRange.upperBound, actual: outputByteCount)
        }

        var rc: Int32 = 0
        let key = SecureBytes(count: outputByteCount) { out in
            passphrase.withUnsafeBytes { pw in
                salt.withUnsafeBytes { s in
                    rc = crypto_pwhash(
                        out.bindMemory(to: UInt8.self).baseAddress!, UInt64(outputByteCount),
                        UnsafeRawPointer(pw.baseAddress ?? UnsafeRawPointer(emptyInput)).assumingMemoryBound(to: CChar.self), UInt64(pw.count),
                        s.bindMemory(to: UInt8.self).baseAddress!,
                        parameters.operations, Int(parameters.memoryBytes), crypto_pwhash_ALG_ARGON2ID13
                    )
                }
            }
        }
        guard rc == 0 else { throw CryptoError.keyDerivationFailed(operation: "Argon2id") }
        return key
    }
}
