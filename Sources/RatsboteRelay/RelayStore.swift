import RatsboteWire

/// One enrolled device as the connection layer needs it.
public struct DeviceRecord: Sendable, Equatable {
    /// The storage row, the mailbox key inside the relay.
    public var rowId: Int64
    public var address: DeviceAddress
    public var isRevoked: Bool

    public init(rowId: Int64, address: DeviceAddress, isRevoked: Bool) {
        self.rowId = rowId
        self.address = address
        self.isRevoked = isRevoked
    }
}

/// An envelope read back from a mailbox.
public struct StoredEnvelope: Sendable, Equatable {
    public var id: UInt64
    /// Unix seconds when the relay stored it.
    public var receivedAt: UInt64
    public var sealed: [UInt8]

    public init(id: UInt64, receivedAt: UInt64, sealed: [UInt8]) {
        self.id = id
        self.receivedAt = receivedAt
        self.sealed = sealed
    }
}

/// The counts a device receives when it starts receiving.
public struct ReceiveSummary: Sendable, Equatable {
    /// Envelopes waiting now.
    public var backlog: UInt32
    /// Envelopes that expired unread since the last receive.
    public var expiredUnread: UInt32
    /// The earliest expiry time among them (Unix seconds), 0 when none expired.
    public var expiredSince: UInt64
    /// One-time prekeys left, when the device should refill; `nil` otherwise.
    public var prekeysLow: UInt32?
}

/// The result of an enrollment.
public struct Enrollment: Sendable, Equatable {
    public var device: DeviceRecord
    public var displayName: String
    public var role: String
    public var unit: String
}

/// A send that passed the connection's checks and waits for storage.
public struct PendingSend: Sendable {
    /// BLAKE2b-256 of the sender's transport key and its idempotency id; the only sender-derived value stored.
    public var dedupeKey: [UInt8]
    public var recipient: DeviceAddress
    /// Seconds until expiry; 0 means the relay default.
    public var timeToLive: UInt32
    public var sealed: [UInt8]

    public init(dedupeKey: [UInt8], recipient: DeviceAddress, timeToLive: UInt32, sealed: [UInt8]) {
        self.dedupeKey = dedupeKey
        self.recipient = recipient
        self.timeToLive = timeToLive
        self.sealed = sealed
    }
}

/// The outcome of a stored send.
public struct StoredSend: Sendable, Equatable {
    public var envelopeId: UInt64
    /// The recipient's mailbox row, so the server can push to it; `nil` for a repeated send.
    public var recipientRow: Int64?
    public var receivedAt: UInt64
    /// `false` when the idempotency id was seen before and nothing new was stored.
    public var isNew: Bool
}

/// The result of a prekey claim.
public struct PrekeyClaim: Sendable, Equatable {
    public var bundles: [DevicePrekeyBundle]
    /// Devices whose one-time prekeys ran low in this claim, with the count left.
    public var lowDevices: [(rowId: Int64, remaining: UInt32)]

    public static func == (lhs: PrekeyClaim, rhs: PrekeyClaim) -> Bool {
        lhs.bundles == rhs.bundles && lhs.lowDevices.map(\.rowId) == rhs.lowDevices.map(\.rowId)
            && lhs.lowDevices.map(\.remaining) == rhs.lowDevices.map(\.remaining)
    }
}

/// A participant as `ratsbote-relay users` lists them.
public struct UserRecord: Codable, Sendable, Equatable {
    public var id: String
    public var displayName: String
    public var role: String
    public var unit: String
    /// Unix seconds.
    public var createdAt: Int64
    /// Unix seconds, or `nil` while active.
    public var revokedAt: Int64?
    /// Enrolled devices that are not revoked.
    public var activeDevices: Int
    /// Their device ids, for `revoke USER.DEVICE`.
    public var deviceIds: [UInt32]
    /// Unused invites that have not expired.
    public var pendingInvites: Int
}

/// One mailbox in `ratsbote-relay stats`.
public struct MailboxStatistics: Codable, Sendable, Equatable {
    /// The mailbox's device address, `user.device`.
    public var address: String
    public var envelopes: Int
    public var bytes: Int

    public init(address: String, envelopes: Int, bytes: Int) {
        self.address = address
        self.envelopes = envelopes
        self.bytes = bytes
    }
}

/// Counts for `ratsbote-relay stats`.
public struct RelayStatistics: Codable, Sendable, Equatable {
    public var users: Int
    public var devices: Int
    public var envelopes: Int
    public var bytes: Int
    public var oneTimePrekeys: Int
    public var mailboxes: [MailboxStatistics]
    /// Document blobs; `nil` where only the envelope store was read.
    public var blobs: BlobStore.Statistics? = nil
}

/// The relay's persistent state behind one interface, so that a PostgreSQL engine can replace
/// SQLite for several relay nodes.
///
/// A store is used from one thread at a time (the storage thread, or a CLI command). Operations
/// that reject a request throw ``RelayFailure`` with the code the client receives; storage
/// failures throw the engine's own error.
public protocol RelayStore: TrustStore {
    /// Runs `body` in one transaction whose commit is durable when this returns.
    func transaction<Result>(_ body: () throws -> Result) throws -> Result
    /// Runs `body` inside the current transaction so that a throw undoes only its own writes.
    func savepoint<Result>(_ body: () throws -> Result) throws -> Result
    /// Runs `body` inside the current transaction without a savepoint of its own, for operations
    /// that do all their checks before their first write.
    ///
    /// A ``RelayFailure`` from `body` must come before that first write, and passes through. Any
    /// other error may leave a partial write, so it makes the enclosing ``transaction(_:)`` roll
    /// back and throw instead of committing: every request of that batch then fails and is retried.
    func writeOrAbortBatch<Result>(_ body: () throws -> Result) throws -> Result

    /// Creates a user with a unique id derived from `displayName`, and an invite for it.
    ///
    /// - Returns: the new user id.
    func createUser(displayName: String, role: String, unit: String, inviteTokenHash: [UInt8], inviteExpiresAt: Int64, now: Int64) throws -> String
    /// Adds an invite for another device of an existing, active user.
    func addInvite(userId: String, inviteTokenHash: [UInt8], inviteExpiresAt: Int64) throws
    /// Returns the device enrolled with this Noise static key, or `nil`.
    func device(transportKey: [UInt8]) throws -> DeviceRecord?
    /// Registers a device and consumes the invite in the same transaction.
    func enroll(inviteTokenHash: [UInt8], transportKey: [UInt8], identityKey: [UInt8], envelopeKey: [UInt8], suite: UInt16, now: Int64) throws -> Enrollment
    /// Stores one envelope, or returns the earlier envelope id for a repeated idempotency key.
    func store(_ send: PendingSend, defaultTimeToLive: Int64, limits: RelayLimits, now: Int64) throws -> StoredSend
    /// Counts the backlog, reports and resets expired-unread counters, and reports a pending refill.
    func beginReceive(deviceRow: Int64) throws -> ReceiveSummary
    /// Envelopes of one mailbox with ids above `afterId`, oldest first.
    func envelopes(deviceRow: Int64, afterId: UInt64, limit: Int, maximumBytes: Int) throws -> [StoredEnvelope]
    /// Deletes the named envelopes of this mailbox only; unknown ids are ignored.
    func acknowledge(deviceRow: Int64, ids: [UInt64]) throws
    /// Replaces the signed prekey and adds one-time prekeys.
    func uploadPrekeys(deviceRow: Int64, signed: SignedPrekey, oneTime: [OneTimePrekey]) throws
    /// Hands out a bundle per active device of `userId`, each one-time prekey at most once.
    func claimPrekeys(userId: String, lowThreshold: Int) throws -> PrekeyClaim
    /// Participants whose user id equals `query`, or whose name, role or unit contains it.
    func directory(query: String) throws -> [DirectoryEntry]
    /// Deletes expired envelopes and idempotency records, counting them per mailbox.
    ///
    /// - Returns: the number of envelopes deleted.
    func sweepExpired(now: Int64) throws -> Int
    /// Returns the rows among `deviceRows` that are revoked, so open connections can be closed.
    func revokedDevices(among deviceRows: [Int64]) throws -> [Int64]
    /// Returns every user, oldest first.
    func users() throws -> [UserRecord]
    /// Marks a user and its devices revoked and deletes their mailboxes and prekeys.
    ///
    /// - Returns: the number of devices revoked.
    func revoke(userId: String, now: Int64) throws -> Int
    /// Marks one device revoked and deletes its mailbox and prekeys; the user and its other devices stay.
    func revokeDevice(_ address: DeviceAddress, now: Int64) throws
    /// Returns counts and per-mailbox depths.
    func statistics() throws -> RelayStatistics
}
