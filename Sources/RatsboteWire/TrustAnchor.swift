import RatsboteCrypto

/// A failed check of a certificate, revocation list or group.
public enum CertificateError: Error, Equatable, Sendable {
    /// The root key's BLAKE2b-256 differs from the fingerprint pinned from the invite code.
    case rootMismatch(expected: String, actual: String)
    /// A signature does not verify with the key that should have made it.
    case invalidSignature(structure: String)
    /// A structure names another issuing key than the one the root certified.
    case unknownIssuer(structure: String)
    /// The validity period has not started; times are Unix seconds.
    case notYetValid(structure: String, validFrom: UInt64, now: UInt64)
    /// The validity period has ended.
    case expired(structure: String, validUntil: UInt64, now: UInt64)
    /// The revocation list names the certificate's serial.
    case revoked(serial: UInt64)
    /// The certificate does not cover the directory entry it came with (another user, device or key).
    case fieldMismatch(field: String)
    /// The certificate is missing or does not decode.
    case malformed(reason: String)
}

extension CertificateError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .rootMismatch(let expected, let actual): return "root key fingerprint \(actual) differs from the pinned \(expected)"
        case .invalidSignature(let structure): return "\(structure): invalid signature"
        case .unknownIssuer(let structure): return "\(structure): signed by an issuing key the root did not certify"
        case .notYetValid(let structure, let validFrom, let now): return "\(structure): valid from \(validFrom), now \(now)"
        case .expired(let structure, let validUntil, let now): return "\(structure): expired at \(validUntil), now \(now)"
        case .revoked(let serial): return "certificate \(serial) is revoked"
        case .fieldMismatch(let field): return "certificate field \(field) differs from the directory entry"
        case .malformed(let reason): return "certificate malformed: \(reason)"
        }
    }
}

/// The organisation root a client pinned, with the issuer certificate it checked against it.
///
/// Every check here is pure: the caller passes the current time, so tests and other
/// implementations get the same results for the same inputs.
public struct TrustAnchor: Sendable, Equatable {
    public let rootKey: Ed25519PublicKey
    public let issuer: IssuerCertificate

    /// Checks `rootKey` against the pinned fingerprint and the issuer certificate against the root.
    ///
    /// The issuer's validity period is checked later, at each use, because an anchor outlives
    /// the moment it was built.
    public init(rootKey: [UInt8], pinnedFingerprint: [UInt8], issuer: IssuerCertificate) throws(CertificateError) {
        let fingerprint: [UInt8]
        let key: Ed25519PublicKey
        do {
            fingerprint = try BLAKE2b.hash(rootKey)
            key = try Ed25519PublicKey(rawRepresentation: rootKey)
        } catch {
            throw .malformed(reason: "root key: \(error)")
        }
        guard constantTimeEqual(fingerprint, pinnedFingerprint) else {
            throw .rootMismatch(expected: Encoding.hex(pinnedFingerprint), actual: Encoding.hex(fingerprint))
        }
        guard key.isValidSignature(issuer.signature, for: issuer.signedBytes) else {
            throw .invalidSignature(structure: IssuerCertificate.wireName)
        }
        self.rootKey = key
        self.issuer = issuer
    }

    /// Checks a signature made by the certified issuing key, and that key's validity at `now`.
    private func checkIssued(structure: String, issuerKey: [UInt8], signature: [UInt8], signedBytes: [UInt8], now: UInt64) throws(CertificateError) {
        guard constantTimeEqual(issuerKey, issuer.issuerKey) else { throw .unknownIssuer(structure: structure) }
        try Self.checkPeriod(IssuerCertificate.wireName, from: issuer.validFrom, until: issuer.validUntil, now: now)
        guard let key = try? Ed25519PublicKey(rawRepresentation: issuer.issuerKey), key.isValidSignature(signature, for: signedBytes) else {
            throw .invalidSignature(structure: structure)
        }
    }

    private static func checkPeriod(_ structure: String, from: UInt64, until: UInt64, now: UInt64) throws(CertificateError) {
        guard now >= from else { throw .notYetValid(structure: structure, validFrom: from, now: now) }
        guard now < until else { throw .expired(structure: structure, validUntil: until, now: now) }
    }

    /// Checks a participant certificate: issuer, signature, term of office at `now`, and that
    /// `revocations` (already checked with ``verify(_:now:)-revocations``) does not name it.
    public func verify(_ certificate: ParticipantCertificate, now: UInt64, revocations: RevocationList?) throws(CertificateError) {
        try checkIssued(
            structure: ParticipantCertificate.wireName, issuerKey: certificate.issuerKey, signature: certificate.signature,
            signedBytes: certificate.signedBytes, now: now)
        try Self.checkPeriod(ParticipantCertificate.wireName, from: certificate.validFrom, until: certificate.validUntil, now: now)
        if let revocations, revocations.contains(certificate.serial) { throw .revoked(serial: certificate.serial) }
    }

    /// Decodes and checks the certificate of one directory device, and that it certifies exactly
    /// this user, device and these keys.
    public func verify(_ device: DeviceKeys, of userId: String, now: UInt64, revocations: RevocationList?) throws(CertificateError)
        -> ParticipantCertificate
    {
        guard !device.certificate.isEmpty else { throw .malformed(reason: "no certificate for \(userId).\(device.deviceId)") }
        let certificate: ParticipantCertificate
        do {
            certificate = try ParticipantCertificate.decode(device.certificate)
        } catch {
            throw .malformed(reason: "\(error)")
        }
        try verify(certificate, now: now, revocations: revocations)
        guard certificate.userId == userId else { throw .fieldMismatch(field: "userId") }
        guard certificate.deviceId == device.deviceId else { throw .fieldMismatch(field: "deviceId") }
        guard certificate.suite == device.suite else { throw .fieldMismatch(field: "suite") }
        guard constantTimeEqual(certificate.identityKey, device.identityKey) else { throw .fieldMismatch(field: "identityKey") }
        guard constantTimeEqual(certificate.envelopeKey, device.envelopeKey) else { throw .fieldMismatch(field: "envelopeKey") }
        return certificate
    }

    /// Checks a revocation list's issuer and signature.
    public func verify(_ revocations: RevocationList, now: UInt64) throws(CertificateError) {
        try checkIssued(
            structure: RevocationList.wireName, issuerKey: revocations.issuerKey, signature: revocations.signature,
            signedBytes: revocations.signedBytes, now: now)
    }

    /// Checks a group definition's issuer and signature.
    public func verify(_ group: GroupDefinition, now: UInt64) throws(CertificateError) {
        try checkIssued(
            structure: GroupDefinition.wireName, issuerKey: group.issuerKey, signature: group.signature, signedBytes: group.signedBytes,
            now: now)
    }
}
