import Foundation
import RatsboteCrypto
import RatsboteWire

/// Trust: the organisation root pinned from the invite, the certificates of directory entries,
/// the revocation list and the groups, all checked before the client uses them.
extension Account {
    static let trustSetting = "trust"
    static let ownCertificateSetting = "certificate.own"

    static func contactCertificateSetting(_ address: DeviceAddress) -> String { "certificate.\(address)" }

    /// The anchor and material last fetched in this process, so a group send checks them once.
    struct TrustState {
        var anchor: TrustAnchor
        var material: TrustMaterial
    }

    // MARK: - Trust material

    /// Returns the trust material stored by the last refresh, checked again against the pinned root.
    func storedTrust() throws -> TrustState? {
        if let trustCache { return trustCache }
        guard let bytes = try database.setting(Self.trustSetting) else { return nil }
        do {
            let material = try TrustMaterial.decode(bytes)
            let anchor = try TrustAnchor(rootKey: material.rootKey, pinnedFingerprint: settings.rootFingerprint, issuer: material.issuer)
            return TrustState(anchor: anchor, material: material)
        } catch {
            throw ClientError.storage("the stored trust material is damaged (\(error)); run 'ratsbote sync' to fetch it again")
        }
    }

    /// Fetches the root key, issuer certificate, revocation list and groups from the relay, checks
    /// them against the root fingerprint pinned from the invite, merges them with what is stored
    /// and stores the result.
    ///
    /// Merging keeps the newest revocation list and the highest revision of each group, so a relay
    /// that replays old material cannot undo a revocation or a membership change.
    ///
    /// - Throws: ``ClientError/trustRejected(_:)`` when the material does not check out.
    @discardableResult
    func refreshTrust(over connection: RelayConnection) throws -> TrustState {
        // One fetch serves the lookups of one operation (a group send checks many entries).
        if let trustCache, Date().timeIntervalSince1970 - trustFetchedAt < 30 { return trustCache }
        let response = try connection.request(.trust)
        guard case .trust(let fetched) = response else {
            throw ClientError.protocolViolation("unexpected answer to trust")
        }
        var material = fetched
        let anchor: TrustAnchor
        switch Self.check(material, pinnedFingerprint: settings.rootFingerprint, now: now) {
        case .success(let checked):
            anchor = checked
        case .failure(let error):
            logger.error("relay served trust material that does not check out", ["error": .public("\(error)")])
            throw ClientError.trustRejected(error)
        }

        if let stored = try? storedTrust() {
            if stored.material.revocations.issuedAt > material.revocations.issuedAt {
                material.revocations = stored.material.revocations
            }
            var groups = Dictionary(material.groups.map { ($0.groupId, $0) }, uniquingKeysWith: { first, _ in first })
            for old in stored.material.groups where (groups[old.groupId]?.revision ?? 0) < old.revision {
                // A group the relay dropped or served at an older revision keeps its newest signed revision.
                groups[old.groupId] = old
            }
            material.groups = groups.values.sorted { $0.groupId < $1.groupId }
        }
        try database.setSetting(Self.trustSetting, material.encoded())
        let state = TrustState(anchor: anchor, material: material)
        trustCache = state
        trustFetchedAt = Date().timeIntervalSince1970
        try refreshOwnCertificate(state, over: connection)
        return state
    }

    /// Checks the root, the issuer certificate, the revocation list and every group.
    private static func check(_ material: TrustMaterial, pinnedFingerprint: [UInt8], now: UInt64) -> Result<TrustAnchor, CertificateError> {
        Result { () throws(CertificateError) -> TrustAnchor in
            let anchor = try TrustAnchor(rootKey: material.rootKey, pinnedFingerprint: pinnedFingerprint, issuer: material.issuer)
            try anchor.verify(material.revocations, now: now)
            for group in material.groups { try anchor.verify(group, now: now) }
            return anchor
        }
    }

    /// Replaces this device's own certificate when it is missing, revoked (after a renewal) or
    /// not valid now, so the certificate in sealed sender stays current.
    private func refreshOwnCertificate(_ state: TrustState, over connection: RelayConnection) throws {
        if let bytes = try database.setting(Self.ownCertificateSetting), let certificate = try? ParticipantCertificate.decode(bytes),
            (try? state.anchor.verify(certificate, now: now, revocations: state.material.revocations)) != nil
        {
            return
        }
        guard case .directory(let entries) = try connection.request(.directory(query: settings.address.userId)),
            let entry = entries.first(where: { $0.userId == settings.address.userId }),
            let device = entry.devices.first(where: { $0.deviceId == settings.address.deviceId })
        else {
            logger.warning("the directory lists no certificate for this device", ["device": .public(settings.address.description)])
            return
        }
        do {
            let certificate = try state.anchor.verify(device, of: entry.userId, now: now, revocations: state.material.revocations)
            guard constantTimeEqual(certificate.identityKey, identityKey.publicKey.rawRepresentation) else {
                throw CertificateError.fieldMismatch(field: "identityKey")
            }
            try database.setSetting(Self.ownCertificateSetting, device.certificate)
        } catch let error as CertificateError {
            logger.warning("the directory lists an unusable certificate for this device", ["error": .public("\(error)")])
        }
    }

    /// This device's participant certificate, or empty before the first refresh.
    func ownCertificate() throws -> [UInt8] { try database.setting(Self.ownCertificateSetting) ?? [] }

    // MARK: - Directory entries

    /// Checks every device of a directory entry and returns the entry as its certificates state
    /// it: name, role and unit from the certificate, only devices whose certificate is valid now.
    ///
    /// A device whose certificate expired, is not yet valid or is revoked is left out, so the
    /// client stops encrypting to it. Any other failure (a bad signature, another key than the
    /// certificate names) means the relay altered the entry, and rejects the whole entry.
    ///
    /// - Throws: ``ClientError/certificateRejected(userId:reason:)``.
    func certifiedEntry(_ entry: DirectoryEntry, trust: TrustState) throws -> DirectoryEntry {
        var certified = entry
        certified.devices = []
        var firstSkip: CertificateError?
        for device in entry.devices {
            do {
                let certificate = try trust.anchor.verify(device, of: entry.userId, now: now, revocations: trust.material.revocations)
                if certified.devices.isEmpty {
                    certified.displayName = certificate.displayName
                    certified.role = certificate.role
                    certified.unit = certificate.unit
                }
                certified.devices.append(device)
            } catch {
                switch error {
                case .expired, .notYetValid, .revoked:
                    logger.info("skipping a device without a valid certificate", ["device": .public("\(entry.userId).\(device.deviceId)"), "reason": .public("\(error)")])
                    firstSkip = firstSkip ?? error
                default:
                    logger.error("directory entry does not match its certificate", ["user": .public(entry.userId), "error": .public("\(error)")])
                    throw ClientError.certificateRejected(userId: entry.userId, reason: error)
                }
            }
        }
        if certified.devices.isEmpty, let firstSkip {
            throw ClientError.certificateRejected(userId: entry.userId, reason: firstSkip)
        }
        return certified
    }

    /// Returns whether a contact device's stored certificate is revoked or not valid now,
    /// according to the stored revocation list. It serves sends while the relay is unreachable.
    func isRevokedOrExpired(_ address: DeviceAddress) throws -> Bool {
        guard let trust = try storedTrust(), let bytes = try database.setting(Self.contactCertificateSetting(address)),
            let certificate = try? ParticipantCertificate.decode(bytes)
        else { return false }
        return (try? trust.anchor.verify(certificate, now: now, revocations: trust.material.revocations)) == nil
    }

    /// Checks the certificate a sender put into sealed sender: valid now, not revoked, and for
    /// exactly this sender device and identity key.
    func checkSenderCertificate(_ bytes: [UInt8], sender: DeviceAddress, identityKey: [UInt8]) throws(CertificateError) {
        guard let trust = try? storedTrust() else { return }
        let certificate: ParticipantCertificate
        do {
            certificate = try ParticipantCertificate.decode(bytes)
        } catch {
            throw .malformed(reason: bytes.isEmpty ? "the sender sent no certificate" : "\(error)")
        }
        try trust.anchor.verify(certificate, now: now, revocations: trust.material.revocations)
        guard certificate.address == sender else { throw .fieldMismatch(field: "address") }
        guard constantTimeEqual(certificate.identityKey, identityKey) else { throw .fieldMismatch(field: "identityKey") }
    }

    // MARK: - Groups

    /// Returns the organisation's groups as last fetched, each checked against the root.
    public func groups() throws -> [GroupDefinition] { try storedTrust()?.material.groups ?? [] }

    /// Finds the group whose id is `name`, or whose display name equals it ignoring case.
    func group(named name: String) throws -> GroupDefinition? {
        let groups = try groups()
        if let exact = groups.first(where: { $0.groupId == name }) { return exact }
        let lowered = name.lowercased()
        return groups.first { $0.name.lowercased() == lowered }
    }
}
