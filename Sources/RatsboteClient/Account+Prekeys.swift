import Foundation
import RatsboteCrypto
import RatsboteSession
import RatsboteWire

/// Prekeys: the signed prekey and the one-time prekeys that let others start sessions with this
/// device while it is offline.
extension Account {
    /// One-time prekeys uploaded at enrollment and at each refill.
    static let oneTimePrekeyBatch = 100
    /// The signed prekey is replaced after this many seconds (7 days).
    static let signedPrekeyLifetime: UInt64 = 7 * 86400
    /// Replaced signed prekeys stay this long (30 days), so that late first messages still open.
    static let signedPrekeyGrace: UInt64 = 30 * 86400

    var now: UInt64 { UInt64(Date().timeIntervalSince1970) }

    /// Creates the first signed prekey and a batch of one-time prekeys, and uploads them.
    func uploadInitialPrekeys(over connection: RelayConnection) throws {
        let signed = try newSignedPrekey()
        let oneTime = try newOneTimePrekeys(count: Self.oneTimePrekeyBatch)
        try upload(signed: signed, oneTime: oneTime, over: connection)
    }

    /// Tops up one-time prekeys after the relay reports few left, and replaces an old signed prekey.
    func maintainPrekeys(over connection: RelayConnection, relayReportedLow: Bool) throws {
        let signedId = UInt32(try database.integerSetting("signedPrekeyId") ?? 0)
        let createdAt = try database.integerSetting("signedPrekeyCreatedAt") ?? 0
        let rotate = now >= createdAt + Self.signedPrekeyLifetime
        guard rotate || relayReportedLow else { return }

        let signed = rotate ? try newSignedPrekey() : try currentSignedPrekey(id: signedId)
        let oneTime = relayReportedLow ? try newOneTimePrekeys(count: Self.oneTimePrekeyBatch) : []
        try upload(signed: signed, oneTime: oneTime, over: connection)
        if rotate {
            try database.pruneSignedPrekeys(olderThan: now > Self.signedPrekeyGrace ? now - Self.signedPrekeyGrace : 0, keep: signed.id)
        }
        logger.info("prekeys maintained", ["rotatedSigned": .public("\(rotate)"), "addedOneTime": .public("\(oneTime.count)")])
    }

    private func upload(signed: SignedPrekey, oneTime: [OneTimePrekey], over connection: RelayConnection) throws {
        var batches = stride(from: 0, to: oneTime.count, by: WireLimits.prekeysPerUpload).map {
            Array(oneTime[$0..<min($0 + WireLimits.prekeysPerUpload, oneTime.count)])
        }
        if batches.isEmpty { batches = [[]] }
        for batch in batches {
            guard case .done = try connection.request(.uploadPrekeys(signed: signed, oneTime: batch)) else {
                throw ClientError.protocolViolation("unexpected response to uploadPrekeys")
            }
        }
    }

    private func newSignedPrekey() throws -> SignedPrekey {
        let id = UInt32(try database.integerSetting("signedPrekeyId") ?? 0) &+ 1
        let key = X25519PrivateKey.generate()
        try database.transaction {
            try database.savePrekey(.signed, id: id, key: key, at: now)
            try database.setIntegerSetting("signedPrekeyId", UInt64(id))
            try database.setIntegerSetting("signedPrekeyCreatedAt", now)
        }
        return SignedPrekey(
            id: id, publicKey: key.publicKey.rawRepresentation,
            signature: PrekeyBundle.signPrekey(key.publicKey, id: id, with: identityKey))
    }

    private func currentSignedPrekey(id: UInt32) throws -> SignedPrekey {
        guard let key = try database.prekey(.signed, id: id) else { return try newSignedPrekey() }
        return SignedPrekey(
            id: id, publicKey: key.publicKey.rawRepresentation,
            signature: PrekeyBundle.signPrekey(key.publicKey, id: id, with: identityKey))
    }

    private func newOneTimePrekeys(count: Int) throws -> [OneTimePrekey] {
        let first = UInt32(try database.integerSetting("nextOneTimePrekeyId") ?? 1)
        var keys: [OneTimePrekey] = []
        try database.transaction {
            for offset in 0..<UInt32(count) {
                let key = X25519PrivateKey.generate(storage: .wiped)
                try database.savePrekey(.oneTime, id: first &+ offset, key: key, at: now)
                keys.append(OneTimePrekey(id: first &+ offset, publicKey: key.publicKey.rawRepresentation))
            }
            try database.setIntegerSetting("nextOneTimePrekeyId", UInt64(first &+ UInt32(count)))
        }
        return keys
    }

    /// Looks up the private prekeys a first message names.
    func prekeyPair(for message: PreKeyMessage) throws -> PeerSessions.PrekeyPair {
        guard let signed = try database.prekey(.signed, id: message.signedPrekeyID) else {
            throw SessionError.unknownPrekey(kind: "signed", id: message.signedPrekeyID)
        }
        var oneTime: X25519PrivateKey?
        if let id = message.oneTimePrekeyID {
            guard let key = try database.prekey(.oneTime, id: id) else { throw SessionError.unknownPrekey(kind: "one-time", id: id) }
            oneTime = key
        }
        return PeerSessions.PrekeyPair(signedPrekey: signed, oneTimePrekey: oneTime)
    }
}
