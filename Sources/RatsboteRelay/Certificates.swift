import Foundation
import RatsboteCrypto
import RatsboteStorage
import RatsboteWire

/// The stored facts about one device that its participant certificate states.
public struct CertificateSubject: Sendable, Equatable {
    public var deviceRow: Int64
    public var address: DeviceAddress
    public var displayName: String
    public var role: String
    public var unit: String
    /// Term of office, Unix seconds.
    public var validFrom: Int64
    public var validUntil: Int64
    public var suite: UInt16
    public var identityKey: [UInt8]
    public var envelopeKey: [UInt8]
}

/// Storage for certificates, terms of office, revocations and groups.
///
/// The store never contains a signing key: the ``CertificateIssuer`` signs, the store keeps bytes.
public protocol TrustStore: AnyObject {
    /// Sets the term of office that certificates of `userId` carry.
    func setTerm(userId: String, validFrom: Int64, validUntil: Int64) throws
    /// Reads the subject of one device's certificate.
    func certificateSubject(deviceRow: Int64) throws -> CertificateSubject
    /// Returns the rows of the active devices of `userId`.
    ///
    /// - Throws: ``RelayError/userNotFound(_:)``.
    func activeDeviceRows(userId: String) throws -> [Int64]
    /// Reserves the next serial number for a certificate of `deviceRow`.
    func allocateSerial(deviceRow: Int64, now: Int64) throws -> UInt64
    /// Stores the signed certificate for a reserved serial.
    func storeCertificate(serial: UInt64, bytes: [UInt8]) throws
    /// Marks every unrevoked certificate of `deviceRow` revoked.
    func revokeCertificates(deviceRow: Int64, now: Int64) throws
    /// Serial numbers of every revoked certificate, ascending.
    func revokedSerials() throws -> [UInt64]
    /// Returns the current certificate of a device, if one was issued.
    func currentCertificate(deviceRow: Int64) throws -> [UInt8]?
    /// Returns every group, ordered by id.
    func groups() throws -> [GroupDefinition]
    /// Inserts or replaces a group.
    func saveGroup(_ group: GroupDefinition) throws
    /// Returns whether a user with this id exists (revoked or not).
    func userExists(_ userId: String) throws -> Bool
}

/// The issuing key and the root's certificate for it: everything the relay needs to sign
/// participant certificates, revocation lists and groups while the root key stays offline.
public struct CertificateIssuer: Sendable {
    public let rootPublicKey: [UInt8]
    public let certificate: IssuerCertificate
    let issuingKey: Ed25519SigningKey

    /// How long the issuer certificate that `init` creates is valid: ten years, because renewing
    /// it needs the root key, which an operator may have moved offline.
    public static let issuerValidity: Int64 = 10 * 365 * 86_400
    /// The default term of office of a participant certificate: five years, one council term.
    public static let defaultTerm: Int64 = 5 * 365 * 86_400

    public init(rootPublicKey: [UInt8], certificate: IssuerCertificate, issuingKey: Ed25519SigningKey) {
        self.rootPublicKey = rootPublicKey
        self.certificate = certificate
        self.issuingKey = issuingKey
    }

    /// Issues and stores a certificate for one device from its stored subject and term.
    @discardableResult
    public func issue(deviceRow: Int64, in store: any TrustStore, now: Int64) throws -> ParticipantCertificate {
        let subject = try store.certificateSubject(deviceRow: deviceRow)
        let serial = try store.allocateSerial(deviceRow: deviceRow, now: now)
        let certificate = ParticipantCertificate(
            suite: Suite(rawValue: subject.suite), serial: serial, userId: subject.address.userId, deviceId: subject.address.deviceId,
            displayName: subject.displayName, role: subject.role, unit: subject.unit, validFrom: UInt64(max(0, subject.validFrom)),
            validUntil: UInt64(max(0, subject.validUntil)), identityKey: subject.identityKey, envelopeKey: subject.envelopeKey,
            issuerKey: []
        ).signed(by: issuingKey)
        try store.storeCertificate(serial: serial, bytes: certificate.encoded())
        return certificate
    }

    /// Replaces the certificates of every active device of `userId` with new ones carrying the
    /// stored term. The old serials go on the revocation list, so a relay cannot keep serving them.
    ///
    /// - Returns: the new certificates.
    public func renew(userId: String, in store: any TrustStore, now: Int64) throws -> [ParticipantCertificate] {
        var issued: [ParticipantCertificate] = []
        for row in try store.activeDeviceRows(userId: userId) {
            try store.revokeCertificates(deviceRow: row, now: now)
            issued.append(try issue(deviceRow: row, in: store, now: now))
        }
        return issued
    }

    /// Signs the revocation list as of `now`.
    public func revocationList(from store: any TrustStore, now: Int64) throws -> RevocationList {
        RevocationList(issuedAt: UInt64(max(0, now)), serials: try store.revokedSerials()).signed(by: issuingKey)
    }

    /// Builds the response to the `trust` request.
    public func trustMaterial(from store: any TrustStore, now: Int64) throws -> TrustMaterial {
        TrustMaterial(
            rootKey: rootPublicKey, issuer: certificate, revocations: try revocationList(from: store, now: now), groups: try store.groups())
    }

    /// Signs a new revision of a group.
    public func sign(_ group: GroupDefinition) -> GroupDefinition { group.signed(by: issuingKey) }
}

// MARK: - Data folder files

extension RelayDataFolder {
    /// The issuing key's seed (0600). The relay needs it to enroll anybody.
    public var issuingKeyPath: String { path + "/issuing.key" }
    /// The root's certificate for the issuing key.
    public var issuerCertificatePath: String { path + "/issuer.cert" }
    /// The root public key, so that the relay can serve it and fingerprint it without the root seed.
    public var rootPublicKeyPath: String { path + "/org-root.pub" }

    /// Creates the issuing key, signs its certificate with the root key and writes both, with
    /// the root public key, into the folder.
    func createIssuer(rootKey: Ed25519SigningKey, now: Int64) throws {
        let issuingKey = Ed25519SigningKey.generate()
        try Self.writeSecret(issuingKey.seed, to: issuingKeyPath)
        let certificate = IssuerCertificate(
            serial: 1, issuerKey: issuingKey.publicKey.rawRepresentation, validFrom: UInt64(max(0, now)),
            validUntil: UInt64(max(0, now + CertificateIssuer.issuerValidity))
        ).signed(by: rootKey)
        try Self.writePublic(certificate.encoded(), to: issuerCertificatePath)
        try Self.writePublic(rootKey.publicKey.rawRepresentation, to: rootPublicKeyPath)
    }

    /// Loads the issuing key and checks that the root's certificate covers it.
    ///
    /// - Throws: ``RelayError/dataFolderMissing(path:)`` for a missing file,
    ///   ``RelayError/invalidConfiguration(path:reason:)`` when the files do not belong together.
    public func loadIssuer() throws -> CertificateIssuer {
        let issuingKey = try Ed25519SigningKey(seed: try Self.readSecret(issuingKeyPath, count: Ed25519SigningKey.seedByteCount))
        let rootPublicKey = try Self.readPublic(rootPublicKeyPath)
        let certificate: IssuerCertificate
        do {
            certificate = try IssuerCertificate.decode(try Self.readPublic(issuerCertificatePath))
        } catch let error as WireError {
            throw RelayError.invalidConfiguration(path: issuerCertificatePath, reason: "\(error)")
        }
        guard certificate.issuerKey == issuingKey.publicKey.rawRepresentation else {
            throw RelayError.invalidConfiguration(path: issuerCertificatePath, reason: "certifies another key than issuing.key")
        }
        guard let root = try? Ed25519PublicKey(rawRepresentation: rootPublicKey), root.isValidSignature(certificate.signature, for: certificate.signedBytes)
        else {
            throw RelayError.invalidConfiguration(path: issuerCertificatePath, reason: "the signature does not verify with org-root.pub")
        }
        return CertificateIssuer(rootPublicKey: rootPublicKey, certificate: certificate, issuingKey: issuingKey)
    }

    static func writePublic(_ bytes: [UInt8], to path: String) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw RelayError.fileFailed(path: path, operation: "write", errno: errno)
        }
    }

    static func readPublic(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw RelayError.dataFolderMissing(path: path) }
        return [UInt8](data)
    }

    // MARK: - Operator commands

    /// Issues new certificates to every active device of `userId`, with a new term of office.
    public func renew(userId: String, validFrom: Int64, validUntil: Int64, now: Int64) throws -> [ParticipantCertificate] {
        let issuer = try loadIssuer()
        let store = try openStore()
        return try store.transaction {
            guard try store.userExists(userId) else { throw RelayError.userNotFound(userId) }
            try store.setTerm(userId: userId, validFrom: validFrom, validUntil: validUntil)
            return try issuer.renew(userId: userId, in: store, now: now)
        }
    }
}
