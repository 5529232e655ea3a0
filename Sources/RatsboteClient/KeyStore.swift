import Foundation
import RatsboteCrypto
import RatsboteWire

/// The device's secrets, sealed in one file under a key derived from the passphrase.
///
/// File layout (all integers big-endian):
///
/// | field | size |
/// | --- | --- |
/// | magic "RBKS" | 4 |
/// | version (1) | 1 |
/// | Argon2id operations | 8 |
/// | Argon2id memory bytes | 8 |
/// | salt | 16 |
/// | passphrase check: BLAKE2b-256 keyed with the derived check key over "ratsbote keystore check" | 32 |
/// | nonce | 24 |
/// | XChaCha20-Poly1305 ciphertext of the contents, associated data = every byte before it | rest |
///
/// Argon2id yields 64 bytes: the first 32 seal the contents, the last 32 key the check value.
/// The check separates a wrong passphrase (check differs) from a damaged file (check matches,
/// but the ciphertext does not authenticate). The parameters are bounded when read, so a damaged
/// or hostile file cannot make derivation weak or exhaust memory.
public struct KeyStore: Sendable {
    static let magic: [UInt8] = Array("RBKS".utf8)
    static let version: UInt8 = 1
    static let headerByteCount = 4 + 1 + 8 + 8 + 16 + 32 + 24
    /// The shortest passphrase accepted when a key store is created.
    public static let minimumPassphraseBytes = 8

    /// The contents that the file protects.
    public struct Contents: Sendable {
        /// Ed25519 identity key seed.
        public var identitySeed: SecureBytes
        /// X25519 key that envelopes are sealed to.
        public var envelopeKey: SecureBytes
        /// X25519 Noise static key for the relay connection.
        public var transportKey: SecureBytes
        /// Key for message bodies in the local database.
        public var databaseKey: SecureBytes

        public static func generate() -> Contents {
            Contents(
                identitySeed: SecureBytes.random(count: 32), envelopeKey: SecureBytes.random(count: 32),
                transportKey: SecureBytes.random(count: 32), databaseKey: SecureBytes.random(count: 32))
        }

        func serialized() -> SecureBytes {
            let parts = [identitySeed, envelopeKey, transportKey, databaseKey]
            return SecureBytes(count: 32 * parts.count) { out in
                for (index, part) in parts.enumerated() {
                    part.withUnsafeBytes { out.baseAddress!.advanced(by: 32 * index).copyMemory(from: $0.baseAddress!, byteCount: 32) }
                }
            }
        }

        init(identitySeed: SecureBytes, envelopeKey: SecureBytes, transportKey: SecureBytes, databaseKey: SecureBytes) {
            self.identitySeed = identitySeed
            self.envelopeKey = envelopeKey
            self.transportKey = transportKey
            self.databaseKey = databaseKey
        }

        init(serialized bytes: [UInt8], path: String) throws {
            guard bytes.count == 128 else {
                throw ClientError.keyStoreDamaged(path: path, reason: "contents have \(bytes.count) bytes, expected 128")
            }
            func part(_ index: Int) -> SecureBytes { SecureBytes(copying: bytes[(32 * index)..<(32 * index + 32)]) }
            self.init(identitySeed: part(0), envelopeKey: part(1), transportKey: part(2), databaseKey: part(3))
        }
    }

    /// Seals `contents` and writes the file atomically: a temporary file beside it is written,
    /// synced and renamed, so a crash leaves either the old or the new file, never half of one.
    public static func write(
        _ contents: Contents, to path: String, passphrase: SecureBytes, parameters: Argon2id.Parameters = .interactive
    ) throws {
        let bytes = try encode(
            contents, passphrase: passphrase, parameters: parameters, salt: Random.bytes(count: 16),
            nonce: Random.bytes(count: XChaCha20Poly1305.nonceByteCount))
        try AtomicFile.write(bytes, to: path)
    }

    /// Builds the file's bytes with the given salt and nonce; ``write(_:to:passphrase:parameters:)``
    /// passes fresh random ones, the protocol vector fixed ones.
    static func encode(
        _ contents: Contents, passphrase: SecureBytes, parameters: Argon2id.Parameters, salt: [UInt8], nonce: [UInt8]
    ) throws -> [UInt8] {
        let derived = try Argon2id.deriveKey(from: passphrase, salt: salt, parameters: parameters, outputByteCount: 64)
        let (sealingKey, checkKey) = split(derived)

        var header = WireWriter(reservingCapacity: headerByteCount + 256)
        header.writeFixed(magic)
        header.writeUInt8(version)
        header.writeUInt64(parameters.operations)
        header.writeUInt64(parameters.memoryBytes)
        header.writeFixed(salt)
        header.writeFixed(try check(checkKey))
        header.writeFixed(nonce)
        let headerBytes = header.bytes

        var plaintext = contents.serialized().withUnsafeBytes { Array($0) }
        defer { wipe(&plaintext) }
        let ciphertext = try XChaCha20Poly1305.seal(plaintext, using: sealingKey, nonce: nonce, authenticating: headerBytes)
        return headerBytes + ciphertext
    }

    /// Reads and opens the key store.
    ///
    /// - Throws: ``ClientError/wrongPassphrase``, ``ClientError/keyStoreDamaged(path:reason:)``,
    ///   ``ClientError/keyStoreUnsupportedVersion(path:version:)`` or ``ClientError/notEnrolled(home:)``.
    public static func read(from path: String, passphrase: SecureBytes) throws -> Contents {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ClientError.notEnrolled(home: (path as NSString).deletingLastPathComponent)
        }
        let bytes = [UInt8](data)
        let header = try parseHeader(bytes, path: path)

        let derived = try Argon2id.deriveKey(from: passphrase, salt: header.salt, parameters: header.parameters, outputByteCount: 64)
        let (sealingKey, checkKey) = split(derived)
        guard constantTimeEqual(try check(checkKey), header.check) else { throw ClientError.wrongPassphrase }

        let headerBytes = Array(bytes[0..<headerByteCount])
        var plaintext: [UInt8]
        do {
            plaintext = try XChaCha20Poly1305.open(bytes[headerByteCount...], using: sealingKey, nonce: header.nonce, authenticating: headerBytes)
        } catch {
            throw ClientError.keyStoreDamaged(path: path, reason: "contents do not authenticate (the file was altered or truncated)")
        }
        defer { wipe(&plaintext) }
        return try Contents(serialized: plaintext, path: path)
    }

    /// The unencrypted start of a key store file: what key derivation needs.
    public struct Header: Sendable, Equatable {
        /// Argon2id cost, already checked against ``Argon2id/Parameters`` bounds.
        public var parameters: Argon2id.Parameters
        public var salt: [UInt8]
        /// The passphrase check value (not secret: it is keyed with a derived key).
        public var check: [UInt8]
        public var nonce: [UInt8]
    }

    /// Parses and bounds-checks the header of a key store file's `bytes` without deriving a key.
    ///
    /// Everything a damaged or hostile file controls is checked here, before the expensive
    /// Argon2id step, so ``read(from:passphrase:)`` never starts a derivation with costs outside
    /// the bounds. `path` is used only in error messages.
    ///
    /// - Throws: ``ClientError/keyStoreDamaged(path:reason:)`` or
    ///   ``ClientError/keyStoreUnsupportedVersion(path:version:)``.
    public static func parseHeader(_ bytes: [UInt8], path: String) throws -> Header {
        guard bytes.count >= headerByteCount + XChaCha20Poly1305.tagByteCount else {
            throw ClientError.keyStoreDamaged(path: path, reason: "file has \(bytes.count) bytes, too short")
        }

        var reader = WireReader(bytes, structure: "KeyStore")
        let header: Header
        do {
            guard try reader.readFixed(4, "magic") == magic else {
                throw ClientError.keyStoreDamaged(path: path, reason: "not a Ratsbote key store (wrong magic bytes)")
            }
            let fileVersion = try reader.readUInt8("version")
            guard fileVersion == version else {
                throw ClientError.keyStoreUnsupportedVersion(path: path, version: Int(fileVersion))
            }
            let parameters = Argon2id.Parameters(operations: try reader.readUInt64("operations"), memoryBytes: try reader.readUInt64("memoryBytes"))
            header = Header(
                parameters: parameters, salt: try reader.readFixed(16, "salt"), check: try reader.readFixed(32, "check"),
                nonce: try reader.readFixed(XChaCha20Poly1305.nonceByteCount, "nonce"))
        } catch let error as WireError {
            throw ClientError.keyStoreDamaged(path: path, reason: error.description)
        }
        do {
            try header.parameters.validate()
        } catch {
            throw ClientError.keyStoreDamaged(path: path, reason: "Argon2id parameters out of bounds: \(error)")
        }
        return header
    }

    private static func split(_ derived: SecureBytes) -> (SymmetricKey, SecureBytes) {
        derived.withUnsafeBytes { raw in
            // Both halves are 32 bytes by construction.
            let sealing = try! SymmetricKey(copying: UnsafeRawBufferPointer(rebasing: raw[0..<32]))
            let check = SecureBytes(copying: UnsafeRawBufferPointer(rebasing: raw[32..<64]))
            return (sealing, check)
        }
    }

    private static func check(_ key: SecureBytes) throws -> [UInt8] {
        try BLAKE2b.hash(Array("ratsbote keystore check".utf8), outputByteCount: 32, key: key)
    }
}

/// Writes files so that a crash never leaves a half-written one.
enum AtomicFile {
    /// Writes `bytes` to a temporary file in the same folder (mode 0600), syncs it, renames it
    /// over `path` and syncs the folder.
    static func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ClientError.writeFailed(path: temporary, reason: String(cString: strerror(errno))) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw ClientError.writeFailed(path: temporary, reason: reason)
            }
            offset += written
        }
        guard fsync(fd) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            unlink(temporary)
            throw ClientError.writeFailed(path: temporary, reason: reason)
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ClientError.writeFailed(path: path, reason: reason)
        }
        let folder = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }
}
