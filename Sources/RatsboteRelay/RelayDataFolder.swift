import Foundation
import RatsboteCrypto
import RatsboteStorage
import RatsboteWire

/// The relay's data folder: `relay.key`, `org-root.key`, `relay.json` and `relay.sqlite`, plus
/// the issuing key files that Certificates.swift adds (`issuing.key`, `issuer.cert`, `org-root.pub`).
///
/// The folder is mode 0700 and the key files 0600, because whoever reads `relay.key` can
/// impersonate the relay to every device.
public struct RelayDataFolder: Sendable {
    public let path: String

    public var relayKeyPath: String { path + "/relay.key" }
    public var rootKeyPath: String { path + "/org-root.key" }
    public var configurationPath: String { path + "/relay.json" }
    public var databasePath: String { path + "/relay.sqlite" }

    /// Refers to an existing data folder.
    ///
    /// - Throws: ``RelayError/dataFolderMissing(path:)`` when the folder or its key file is missing.
    public init(existing path: String) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: relayKeyPath) else { throw RelayError.dataFolderMissing(path: path) }
    }

    private init(newPath path: String) {
        self.path = path
    }

    /// Creates the folder, fresh keys, the configuration and the database.
    ///
    /// - Throws: ``RelayError/dataFolderExists(path:)`` when anything is at `path`, so an
    ///   existing relay key is never overwritten.
    public static func create(at path: String, organisation: String, publicAddress: String) throws -> RelayDataFolder {
        guard !FileManager.default.fileExists(atPath: path) else { throw RelayError.dataFolderExists(path: path) }
        // Parents are created like `mkdir -p`; only the data folder itself must be new and private.
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty {
            try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        }
        guard mkdir(path, 0o700) == 0 else { throw RelayError.fileFailed(path: path, operation: "mkdir", errno: errno) }
        let folder = RelayDataFolder(newPath: path)

        let relayKey = SecureBytes.random(count: X25519PrivateKey.byteCount)
        try writeSecret(relayKey, to: folder.relayKeyPath)
        let rootSeed = SecureBytes.random(count: Ed25519SigningKey.seedByteCount)
        try writeSecret(rootSeed, to: folder.rootKeyPath)
        try folder.createIssuer(rootKey: try Ed25519SigningKey(seed: rootSeed), now: Int64(Date().timeIntervalSince1970))

        try folder.saveConfiguration(RelayConfiguration(organisation: organisation, publicAddress: publicAddress))
        do {
            _ = try SQLiteRelayStore(path: folder.databasePath)
        } catch let error as StorageError {
            throw RelayError.storage(error)
        }
        return folder
    }

    // MARK: - Configuration

    /// Reads `relay.json`.
    public func loadConfiguration() throws -> RelayConfiguration {
        guard let data = FileManager.default.contents(atPath: configurationPath) else {
            throw RelayError.dataFolderMissing(path: configurationPath)
        }
        do {
            return try JSONDecoder().decode(RelayConfiguration.self, from: data)
        } catch {
            throw RelayError.invalidConfiguration(path: configurationPath, reason: "\(error)")
        }
    }

    /// Writes `relay.json`, replacing it atomically.
    public func saveConfiguration(_ configuration: RelayConfiguration) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(configuration).write(to: URL(fileURLWithPath: configurationPath), options: .atomic)
            // Like the keys, the configuration is for the operator only.
            chmod(configurationPath, 0o600)
        } catch {
            throw RelayError.fileFailed(path: configurationPath, operation: "write", errno: errno)
        }
    }

    /// Takes an exclusive lock on `relay.lock`, held until the process exits.
    ///
    /// Two relays on one folder would each push only the envelopes they stored themselves, so
    /// `serve` refuses to start while another holds the lock.
    ///
    /// - Throws: ``RelayError/alreadyServing(path:)`` when the lock is held.
    public func lockForServing() throws {
        let lockPath = path + "/relay.lock"
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw RelayError.fileFailed(path: lockPath, operation: "open", errno: errno) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw RelayError.alreadyServing(path: path)
        }
        // The descriptor stays open on purpose: the kernel releases the lock when the process ends.
    }

    // MARK: - Keys

    /// Reads the relay's Noise static key.
    public func loadRelayKey() throws -> X25519PrivateKey {
        let secret = try Self.readSecret(relayKeyPath, count: X25519PrivateKey.byteCount)
        return try X25519PrivateKey(secret: secret)
    }

    /// Reads the organisation root signing key. Only `init` needs it, and the relay runs without it.
    ///
    /// - Throws: ``RelayError/rootKeyOffline(path:)`` when `org-root.key` was moved away.
    public func loadRootKey() throws -> Ed25519SigningKey {
        guard FileManager.default.fileExists(atPath: rootKeyPath) else { throw RelayError.rootKeyOffline(path: rootKeyPath) }
        return try Ed25519SigningKey(seed: try Self.readSecret(rootKeyPath, count: Ed25519SigningKey.seedByteCount))
    }

    /// BLAKE2b-256 of the root public key, as invite codes carry it. It reads `org-root.pub`,
    /// so invites work after `org-root.key` moved offline.
    public func rootFingerprint() throws -> [UInt8] {
        try BLAKE2b.hash(try Self.readPublic(rootPublicKeyPath))
    }

    /// Opens the database.
    public func openStore() throws -> SQLiteRelayStore {
        do {
            return try SQLiteRelayStore(path: databasePath)
        } catch let error as StorageError {
            throw RelayError.storage(error)
        }
    }

    // MARK: - Invites

    /// Creates a user and a single-use invite for it.
    ///
    /// The token is 16 random bytes; only its BLAKE2b-256 hash is stored, so a copy of the
    /// database cannot enroll anybody. `term` is the term of office that the participant's
    /// certificates carry (Unix seconds); `nil` means from now for ``CertificateIssuer/defaultTerm``.
    ///
    /// - Returns: the new user id and the invite code.
    public func createInvite(
        displayName: String, role: String, unit: String, validFor seconds: Int, term: (from: Int64, until: Int64)? = nil,
        clock: RelayClock
    ) throws -> (userId: String, invite: InviteCode) {
        if let term, term.from >= term.until {
            throw RelayError.invalidValue(field: "valid-until", value: String(term.until), reason: "the term must end after it starts")
        }
        for (field, value) in [("name", displayName), ("role", role), ("unit", unit)] {
            guard !value.trimmingCharacters(in: .whitespaces).isEmpty, value.utf8.count <= WireLimits.displayText else {
                throw RelayError.invalidValue(field: field, value: value, reason: "1 to \(WireLimits.displayText) bytes")
            }
        }
        var userId = ""
        let invite = try makeInvite(validFor: seconds, clock: clock) { store, tokenHash, expiresAt, now in
            userId = try store.createUser(
                displayName: displayName, role: role, unit: unit, inviteTokenHash: tokenHash, inviteExpiresAt: expiresAt, now: now)
            try store.setTerm(userId: userId, validFrom: term?.from ?? now, validUntil: term?.until ?? now + CertificateIssuer.defaultTerm)
        }
        return (userId, invite)
    }

    /// Creates a single-use invite that enrolls another device of an existing user.
    ///
    /// - Throws: ``RelayError/userNotFound(_:)``, ``RelayError/userRevoked(_:)``.
    public func createDeviceInvite(userId: String, validFor seconds: Int, clock: RelayClock) throws -> InviteCode {
        try makeInvite(validFor: seconds, clock: clock) { store, tokenHash, expiresAt, _ in
            try store.addInvite(userId: userId, inviteTokenHash: tokenHash, inviteExpiresAt: expiresAt)
        }
    }

    /// Draws a token, lets `record` store its hash, and builds the invite code around it.
    private func makeInvite(
        validFor seconds: Int, clock: RelayClock,
        record: (SQLiteRelayStore, _ tokenHash: [UInt8], _ expiresAt: Int64, _ now: Int64) throws -> Void
    ) throws -> InviteCode {
        let configuration = try loadConfiguration()
        let address = try parsePublicAddress(configuration.publicAddress)
        let relayKey = try loadRelayKey()
        let fingerprint = try rootFingerprint()

        let token = Random.bytes(count: WireLimits.inviteToken)
        let now = clock.now()
        let expiresAt = now + Int64(seconds)
        let store = try openStore()
        do {
            try record(store, try BLAKE2b.hash(token), expiresAt, now)
        } catch let error as StorageError {
            throw RelayError.storage(error)
        }
        return InviteCode(
            host: address.host, port: address.port, relayKey: relayKey.publicKey.rawRepresentation, rootFingerprint: fingerprint,
            token: token, expiresAt: UInt64(max(0, expiresAt)))
    }

    private func parsePublicAddress(_ text: String) throws -> (host: String, port: UInt16) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port != 0 else {
            throw RelayError.invalidConfiguration(path: configurationPath, reason: "publicAddress \"\(text)\" is not HOST:PORT")
        }
        // Invite codes carry the bare host; brackets only separate an IPv6 address from the port.
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    // MARK: - Secret files

    static func writeSecret(_ secret: SecureBytes, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw RelayError.fileFailed(path: path, operation: "create", errno: errno) }
        defer { close(descriptor) }
        let written = secret.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == secret.count, fsync(descriptor) == 0 else {
            throw RelayError.fileFailed(path: path, operation: "write", errno: errno)
        }
    }

    static func readSecret(_ path: String, count: Int) throws -> SecureBytes {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { throw RelayError.dataFolderMissing(path: path) }
            throw RelayError.fileFailed(path: path, operation: "open", errno: errno)
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw RelayError.fileFailed(path: path, operation: "stat", errno: errno) }
        guard Int(status.st_size) == count else {
            throw RelayError.invalidKeyFile(path: path, expected: count, actual: Int(status.st_size))
        }
        var readCount = 0
        let secret = SecureBytes(count: count) { buffer in
            readCount = read(descriptor, buffer.baseAddress, count)
        }
        guard readCount == count else { throw RelayError.invalidKeyFile(path: path, expected: count, actual: max(0, readCount)) }
        return secret
    }
}
