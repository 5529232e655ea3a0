import Foundation
import RatsboteCrypto
import RatsboteSession
import RatsboteWire

/// A safety number to compare out of band, and the state of the contact's key.
public struct SafetyNumberReport: Sendable, Equatable {
    public var userId: String
    public var displayName: String
    /// 60 digits in twelve groups of five; both sides see the same number.
    public var safetyNumber: String
    /// Whether the user confirmed this number.
    public var verified: Bool
    /// Whether the contact's key changed and waits for confirmation; sending to them is stopped.
    public var keyChanged: Bool
}

extension Account {
    /// Computes the safety number with a contact, looking the contact up in the directory when
    /// this device has not met them yet.
    ///
    /// When the contact's key changed, the number is the one for the new key, which the user
    /// compares before confirming it.
    public func safetyNumber(with recipient: String) throws -> SafetyNumberReport {
        var devices = try database.contactDevices(of: try knownUserId(recipient))
        if devices.isEmpty {
            let connection = try connect()
            let entry = try resolve(recipient, over: connection)
            guard let listed = entry.devices.first else { throw ClientError.recipientHasNoDevice(entry.userId) }
            devices = [try checkedDevice(userId: entry.userId, displayName: entry.displayName, listed: listed)]
        }
        let device = devices[0]
        let remoteKey = try Ed25519PublicKey(rawRepresentation: device.pendingIdentityKey ?? device.identityKey)
        let number = SafetyNumber.compute(
            localIdentity: identityKey.publicKey, localUser: settings.address.userId, remoteIdentity: remoteKey,
            remoteUser: device.address.userId)
        return SafetyNumberReport(
            userId: device.address.userId, displayName: device.displayName, safetyNumber: number,
            verified: device.verified && device.pendingIdentityKey == nil, keyChanged: device.pendingIdentityKey != nil)
    }

    /// Records that the user compared the safety number with the contact and it matched: a
    /// changed key is accepted (old sessions with the previous key are dropped), and the contact
    /// is marked verified.
    public func confirmSafetyNumber(of recipient: String) throws {
        let userId = try knownUserId(recipient)
        let devices = try database.contactDevices(of: userId)
        guard !devices.isEmpty else { throw ClientError.unknownContact(recipient) }
        for device in devices where device.pendingIdentityKey != nil {
            try database.acceptChangedKey(device.address)
        }
        try database.markVerified(userId)
        logger.info("safety number confirmed", ["user": .public(userId)])
    }

    /// Maps a contact's display name to their user id when exactly one known contact has it;
    /// anything else is returned unchanged.
    private func knownUserId(_ recipient: String) throws -> String {
        guard try database.contactDevices(of: recipient).isEmpty else { return recipient }
        let named = try database.contactUserIds(named: recipient)
        return named.count == 1 ? named[0] : recipient
    }
}
