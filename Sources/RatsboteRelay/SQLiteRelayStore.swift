import Foundation
import RatsboteCrypto
import RatsboteNet
import RatsboteStorage
import RatsboteWire

/// The embedded relay store: one SQLite file in WAL mode with `synchronous = FULL`, so each
/// commit is durable, and the storage thread batches many requests into one commit.
public final class SQLiteRelayStore: RelayStore {
    private let database: Database
    private var statements: [String: Statement] = [:]
    private var savepointDepth = 0
    /// The first error of a ``writeOrAbortBatch(_:)`` body in the open transaction, which forces a rollback.
    private var batchAbortError: (any Error)?
    /// Idempotency keys of envelopes acknowledged in the last minutes; see ``RecentAcknowledgements``.
    private var recentAcknowledgements = RecentAcknowledgements()
    /// Rows and counters of the mailboxes that recent batches touched; see ``MailboxCounters``.
    private var mailboxCounters = MailboxCounters()
    /// `PRAGMA data_version` when the last transaction began; a new value means another connection committed.
    private var dataVersion: Int64?
    /// True inside ``transaction(_:)``, the only place where cached counters are written back.
    private var isInTransaction = false

    /// The schema, one migration per entry. Never edit a shipped entry; append a new one.
    static let migrations = [
        """
        CREATE TABLE users (
            id TEXT PRIMARY KEY,
            display_name TEXT NOT NULL,
            role TEXT NOT NULL,
            unit TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            revoked_at INTEGER
        );
        CREATE TABLE invites (
            token_hash BLOB PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users(id),
            expires_at INTEGER NOT NULL,
            used_at INTEGER
        );
        CREATE TABLE devices (
            row_id INTEGER PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users(id),
            device_id INTEGER NOT NULL,
            transport_key BLOB NOT NULL UNIQUE,
            identity_key BLOB NOT NULL,
            envelope_key BLOB NOT NULL,
            suite INTEGER NOT NULL,
            enrolled_at INTEGER NOT NULL,
            revoked_at INTEGER,
            envelope_count INTEGER NOT NULL DEFAULT 0,
            envelope_bytes INTEGER NOT NULL DEFAULT 0,
            expired_unread INTEGER NOT NULL DEFAULT 0,
            expired_since INTEGER NOT NULL DEFAULT 0,
            prekeys_low INTEGER,
            UNIQUE (user_id, device_id)
        );
        CREATE TABLE envelopes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            device_row INTEGER NOT NULL,
            received_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            size INTEGER NOT NULL,
            sealed BLOB NOT NULL
        );
        CREATE INDEX envelopes_by_mailbox ON envelopes (device_row, id);
        CREATE INDEX envelopes_by_expiry ON envelopes (expires_at);
        CREATE TABLE send_dedupe (
            key BLOB PRIMARY KEY,
            envelope_id INTEGER NOT NULL,
            expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX send_dedupe_by_expiry ON send_dedupe (expires_at);
        CREATE TABLE signed_prekeys (
            device_row INTEGER PRIMARY KEY,
            key_id INTEGER NOT NULL,
            public_key BLOB NOT NULL,
            signature BLOB NOT NULL
        );
        CREATE TABLE one_time_prekeys (
            device_row INTEGER NOT NULL,
            key_id INTEGER NOT NULL,
            public_key BLOB NOT NULL,
            PRIMARY KEY (device_row, key_id)
        );
        """,
        trustMigration,
        dedupeKeyMigration,
    ]

    /// Moves each live envelope's idempotency key onto its row and drops `send_dedupe`.
    ///
    /// `send_dedupe` kept one row per send until the envelope expired, under a random key, so every
    /// send dirtied a random page of an index that only grew. An index over the keys of stored
    /// envelopes stays as small as the mailboxes. Keys of envelopes acknowledged before the
    /// migration are dropped, as a restart drops ``RecentAcknowledgements``.
    static let dedupeKeyMigration = """
        ALTER TABLE envelopes ADD COLUMN dedupe_key BLOB;
        UPDATE envelopes SET dedupe_key = d.key FROM send_dedupe d WHERE d.envelope_id = envelopes.id;
        CREATE UNIQUE INDEX envelopes_by_dedupe_key ON envelopes (dedupe_key);
        DROP TABLE send_dedupe;
        """

    /// Opens or creates the database and brings its schema up to date.
    ///
    /// - Throws: ``StorageError`` when the file cannot be opened or is newer than this program.
    public init(path: String) throws {
        database = try Database(path: path, walMode: true)
        // Every job of a batch runs in its own savepoint, and SQLite journals each page a
        // savepoint changes in a temporary file. In memory that journal costs no system calls;
        // it only serves rollbacks inside the open transaction, never crash recovery (the WAL does).
        try database.execute("PRAGMA temp_store = MEMORY")
        // SQLite's default page cache (about 2 MB) is smaller than the pages that sends and
        // acknowledgements touch under load, and every page it drops is read back later. The
        // cache grows only as far as it is used.
        try database.execute("PRAGMA cache_size = -16384")
        try database.migrate(Self.migrations, name: "relay")
    }

    /// The row id of the last insert on this connection.
    var lastInsertRowID: Int64 { database.lastInsertRowID }

    private func statement(_ sql: String) throws -> Statement {
        if let cached = statements[sql] { return cached }
        let prepared = try database.prepare(sql)
        statements[sql] = prepared
        return prepared
    }

    @discardableResult
    func run(_ sql: String, _ arguments: [SQLValue] = []) throws -> [[SQLValue]] {
        try statement(sql).run(arguments)
    }

    // MARK: - Transactions

    public func transaction<Result>(_ body: () throws -> Result) throws -> Result {
        batchAbortError = nil
        defer { batchAbortError = nil }
        do {
            return try database.transaction {
                isInTransaction = true
                defer { isInTransaction = false }
                try forgetMailboxesChangedElsewhere()
                let result = try body()
                if let batchAbortError { throw batchAbortError }
                try writeMailboxCounters()
                return result
            }
        } catch {
            // The rollback undid counter changes the cache still holds.
            mailboxCounters.removeAll()
            throw error
        }
    }

    /// Empties the mailbox cache when another connection committed since the last transaction.
    private func forgetMailboxesChangedElsewhere() throws {
        let query = try statement("PRAGMA data_version")
        defer { query.reset() }
        guard try query.nextRow() else { return }
        let version = query.int64(at: 0)
        if version != dataVersion { mailboxCounters.removeAll() }
        dataVersion = version
    }

    /// Writes the counters changed in the cache into the devices table.
    private func writeMailboxCounters() throws {
        let changed = mailboxCounters.takeChanged()
        guard !changed.isEmpty else { return }
        let update = try statement("UPDATE devices SET envelope_count = ?, envelope_bytes = ? WHERE row_id = ?")
        for mailbox in changed {
            try update.bind(mailbox.counters.count, at: 1)
            try update.bind(mailbox.counters.bytes, at: 2)
            try update.bind(mailbox.row, at: 3)
            defer { update.reset() }
            _ = try update.nextRow()
        }
    }

    /// Writes the cached counters back and empties the cache. Statements that change the devices
    /// table themselves run after it.
    private func settleMailboxCounters() throws {
        try writeMailboxCounters()
        mailboxCounters.removeAll()
    }

    public func writeOrAbortBatch<Result>(_ body: () throws -> Result) throws -> Result {
        do {
            return try body()
        } catch let failure as RelayFailure {
            throw failure
        } catch {
            if batchAbortError == nil { batchAbortError = error }
            throw error
        }
    }

    public func savepoint<Result>(_ body: () throws -> Result) throws -> Result {
        savepointDepth += 1
        let name = "job\(savepointDepth)"
        defer { savepointDepth -= 1 }
        // Cached statements: a savepoint wraps every job of a batch, and parsing the SQL each
        // time showed in profiles.
        try run("SAVEPOINT \(name)")
        do {
            let result = try body()
            try run("RELEASE \(name)")
            return result
        } catch {
            _ = try? run("ROLLBACK TO \(name)")
            _ = try? run("RELEASE \(name)")
            throw error
        }
    }

    // MARK: - Users and enrollment

    public func createUser(
        displayName: String, role: String, unit: String, inviteTokenHash: [UInt8], inviteExpiresAt: Int64, now: Int64
    ) throws -> String {
        try transaction {
            let base = UserSlug.make(from: displayName)
            var candidate = base
            var suffix = 2
            while try !run("SELECT 1 FROM users WHERE id = ?", [.text(candidate)]).isEmpty {
                let tail = "-\(suffix)"
                candidate = String(base.prefix(WireLimits.userId - tail.count)) + tail
                suffix += 1
            }
            try run(
                "INSERT INTO users (id, display_name, role, unit, created_at) VALUES (?, ?, ?, ?, ?)",
                [.text(candidate), .text(displayName), .text(role), .text(unit), .integer(now)])
            try run(
                "INSERT INTO invites (token_hash, user_id, expires_at) VALUES (?, ?, ?)",
                [.blob(inviteTokenHash), .text(candidate), .integer(inviteExpiresAt)])
            return candidate
        }
    }

    public func addInvite(userId: String, inviteTokenHash: [UInt8], inviteExpiresAt: Int64) throws {
        try transaction {
            let users = try run("SELECT revoked_at FROM users WHERE id = ?", [.text(userId)])
            guard let user = users.first else { throw RelayError.userNotFound(userId) }
            guard user[0] == .null else { throw RelayError.userRevoked(userId) }
            try run(
                "INSERT INTO invites (token_hash, user_id, expires_at) VALUES (?, ?, ?)",
                [.blob(inviteTokenHash), .text(userId), .integer(inviteExpiresAt)])
        }
    }

    public func device(transportKey: [UInt8]) throws -> DeviceRecord? {
        let rows = try run(
            "SELECT row_id, user_id, device_id, revoked_at FROM devices WHERE transport_key = ?", [.blob(transportKey)])
        guard let row = rows.first, let rowId = row[0].int64, let userId = row[1].string, let deviceId = row[2].int64 else {
            return nil
        }
        return DeviceRecord(
            rowId: rowId, address: DeviceAddress(userId: userId, deviceId: UInt32(clamping: deviceId)), isRevoked: row[3] != .null)
    }

    public func enroll(
        inviteTokenHash: [UInt8], transportKey: [UInt8], identityKey: [UInt8], envelopeKey: [UInt8], suite: UInt16, now: Int64
    ) throws -> Enrollment {
        if try device(transportKey: transportKey) != nil {
            throw RelayFailure(.alreadyEnrolled, "this device key is already enrolled")
        }
        let invites = try run(
            """
            SELECT i.user_id, i.expires_at, i.used_at, u.display_name, u.role, u.unit, u.revoked_at
            FROM invites i JOIN users u ON u.id = i.user_id WHERE i.token_hash = ?
            """, [.blob(inviteTokenHash)])
        guard let invite = invites.first, let userId = invite[0].string, let expiresAt = invite[1].int64 else {
            throw RelayFailure(.invalidInvite, "the invite code is unknown; ask the operator for a new one")
        }
        guard invite[2] == .null else {
            throw RelayFailure(.invalidInvite, "the invite code was already used; ask the operator for a new one")
        }
        guard expiresAt > now else {
            throw RelayFailure(.invalidInvite, "the invite code has expired; ask the operator for a new one")
        }
        guard invite[6] == .null else {
            throw RelayFailure(.revoked, "the user of this invite code was revoked")
        }

        let count = try run("SELECT count(*), coalesce(max(device_id), 0) FROM devices WHERE user_id = ?", [.text(userId)])
        let existing = count.first?[0].int64 ?? 0
        let highest = count.first?[1].int64 ?? 0
        guard existing < Int64(WireLimits.devicesPerUser) else {
            throw RelayFailure(.tooLarge, "the user already has \(existing) devices, the maximum")
        }
        let deviceId = highest + 1
        try run(
            """
            INSERT INTO devices (user_id, device_id, transport_key, identity_key, envelope_key, suite, enrolled_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(userId), .integer(deviceId), .blob(transportKey), .blob(identityKey), .blob(envelopeKey),
             .integer(Int64(suite)), .integer(now)])
        let rowId = database.lastInsertRowID
        try run("UPDATE invites SET used_at = ? WHERE token_hash = ?", [.integer(now), .blob(inviteTokenHash)])

        return Enrollment(
            device: DeviceRecord(rowId: rowId, address: DeviceAddress(userId: userId, deviceId: UInt32(deviceId)), isRevoked: false),
            displayName: invite[3].string ?? "", role: invite[4].string ?? "", unit: invite[5].string ?? "")
    }

    // MARK: - Mailboxes

    public func store(_ send: PendingSend, defaultTimeToLive: Int64, limits: RelayLimits, now: Int64) throws -> StoredSend {
        // The send path uses the typed bind calls: it runs once per envelope inside every batch.

        // A repeated idempotency key returns the earlier id and stores nothing. The key is on the
        // envelope row while the envelope is stored, and in memory for a while after its acknowledgement.
        if let key = RecentAcknowledgements.Key(send.dedupeKey), let envelopeId = recentAcknowledgements.envelopeId(for: key) {
            return StoredSend(envelopeId: envelopeId, recipientRow: nil, receivedAt: UInt64(max(0, now)), isNew: false)
        }
        let earlier = try statement("SELECT id FROM envelopes WHERE dedupe_key = ?")
        try earlier.bind(send.dedupeKey, at: 1)
        defer { earlier.reset() }
        if try earlier.nextRow() {
            return StoredSend(envelopeId: UInt64(earlier.int64(at: 0)), recipientRow: nil, receivedAt: UInt64(max(0, now)), isNew: false)
        }

        let (recipientRow, depth, bytes) = try mailbox(of: send.recipient)
        guard depth < Int64(limits.maximumMailboxEnvelopes) else {
            throw RelayFailure(.mailboxFull, "mailbox \(send.recipient) contains \(depth) envelopes, the maximum; the recipient must receive first")
        }
        guard bytes + Int64(send.sealed.count) <= Int64(limits.maximumMailboxBytes) else {
            throw RelayFailure(.mailboxFull, "mailbox \(send.recipient) would exceed \(limits.maximumMailboxBytes) bytes")
        }

        let timeToLive = send.timeToLive == 0 ? defaultTimeToLive : min(Int64(send.timeToLive), defaultTimeToLive)
        let expiresAt = now + timeToLive
        let size = Int64(send.sealed.count)
        let insert = try statement(
            "INSERT INTO envelopes (device_row, received_at, expires_at, size, sealed, dedupe_key) VALUES (?, ?, ?, ?, ?, ?)")
        try insert.bind(recipientRow, at: 1)
        try insert.bind(now, at: 2)
        try insert.bind(expiresAt, at: 3)
        try insert.bind(size, at: 4)
        try insert.bind(send.sealed, at: 5)
        try insert.bind(send.dedupeKey, at: 6)
        _ = try insert.nextRow()
        insert.reset()
        let envelopeId = database.lastInsertRowID

        try addToMailbox(row: recipientRow, count: 1, bytes: size)
        return StoredSend(envelopeId: UInt64(envelopeId), recipientRow: recipientRow, receivedAt: UInt64(max(0, now)), isNew: true)
    }

    /// Returns the row and counters of the active device at `address`, from the cache when it has them.
    ///
    /// - Throws: ``RelayFailure`` `unknownRecipient` for an unknown or revoked device.
    private func mailbox(of address: DeviceAddress) throws -> (row: Int64, count: Int64, bytes: Int64) {
        if isInTransaction, let cached = mailboxCounters.mailbox(at: address) {
            return (cached.row, cached.counters.count, cached.counters.bytes)
        }
        let recipient = try statement(
            "SELECT row_id, envelope_count, envelope_bytes FROM devices WHERE user_id = ? AND device_id = ? AND revoked_at IS NULL")
        try recipient.bind(address.userId, at: 1)
        try recipient.bind(Int64(address.deviceId), at: 2)
        defer { recipient.reset() }
        guard try recipient.nextRow() else {
            // Only on this failure path: name a revoked device in the reason. The code stays
            // unknownRecipient, because error 11 (revoked) closes the sender's own connection.
            let revoked = try run(
                "SELECT 1 FROM devices WHERE user_id = ? AND device_id = ? AND revoked_at IS NOT NULL",
                [.text(address.userId), .integer(Int64(address.deviceId))])
            if !revoked.isEmpty { throw RelayFailure(.unknownRecipient, "device \(address) is revoked; it receives nothing") }
            throw RelayFailure(.unknownRecipient, "no active device \(address)")
        }
        let mailbox = (row: recipient.int64(at: 0), count: recipient.int64(at: 1), bytes: recipient.int64(at: 2))
        if isInTransaction {
            mailboxCounters.insert(
                row: mailbox.row, address: address, counters: MailboxCounters.Counters(count: mailbox.count, bytes: mailbox.bytes))
        }
        return mailbox
    }

    /// Adds `count` envelopes and `bytes` (negative to subtract) to the counters of mailbox `row`:
    /// in the cache when a transaction is open and the cache has the row, else in the devices table.
    private func addToMailbox(row: Int64, count: Int64, bytes: Int64) throws {
        if isInTransaction && mailboxCounters.add(row: row, count: count, bytes: bytes) { return }
        let update = try statement(
            "UPDATE devices SET envelope_count = envelope_count + ?, envelope_bytes = envelope_bytes + ? WHERE row_id = ?")
        try update.bind(count, at: 1)
        try update.bind(bytes, at: 2)
        try update.bind(row, at: 3)
        defer { update.reset() }
        _ = try update.nextRow()
    }

    public func beginReceive(deviceRow: Int64) throws -> ReceiveSummary {
        try writeMailboxCounters()
        let rows = try run(
            "SELECT envelope_count, expired_unread, expired_since, prekeys_low FROM devices WHERE row_id = ?", [.integer(deviceRow)])
        guard let row = rows.first else { throw RelayFailure(.notEnrolled, "the device is not enrolled") }
        try run("UPDATE devices SET expired_unread = 0, expired_since = 0 WHERE row_id = ?", [.integer(deviceRow)])
        return ReceiveSummary(
            backlog: UInt32(clamping: row[0].int64 ?? 0), expiredUnread: UInt32(clamping: row[1].int64 ?? 0),
            expiredSince: UInt64(clamping: row[2].int64 ?? 0), prekeysLow: row[3].int64.map { UInt32(clamping: $0) })
    }

    public func envelopes(deviceRow: Int64, afterId: UInt64, limit: Int, maximumBytes: Int) throws -> [StoredEnvelope] {
        let rows = try run(
            "SELECT id, received_at, sealed FROM envelopes WHERE device_row = ? AND id > ? ORDER BY id LIMIT ?",
            [.integer(deviceRow), .integer(Int64(clamping: afterId)), .integer(Int64(limit))])
        var result: [StoredEnvelope] = []
        var total = 0
        for row in rows {
            let sealed = row[2].bytes ?? []
            // Always return at least one envelope, so a single large one still makes progress.
            if !result.isEmpty && total + sealed.count > maximumBytes { break }
            total += sealed.count
            result.append(
                StoredEnvelope(id: UInt64(row[0].int64 ?? 0), receivedAt: UInt64(clamping: row[1].int64 ?? 0), sealed: sealed))
        }
        return result
    }

    public func acknowledge(deviceRow: Int64, ids: [UInt64]) throws {
        guard !ids.isEmpty else { return }
        // A lookup and a delete by rowid per id. `DELETE … RETURNING` and `id IN (…)` each made
        // SQLite build, zero and free an ephemeral table per statement, which cost more than the
        // deletes themselves (callgrind of the `relay storage` benchmark case).
        let lookup = try statement("SELECT size, dedupe_key FROM envelopes WHERE id = ? AND device_row = ?")
        let delete = try statement("DELETE FROM envelopes WHERE id = ?")
        var count: Int64 = 0
        var bytes: Int64 = 0
        let now = EventLoop.now()
        for id in ids {
            let rowId = Int64(clamping: id)
            try lookup.bind(rowId, at: 1)
            try lookup.bind(deviceRow, at: 2)
            // An id of another mailbox, or one already deleted (named twice), changes nothing.
            let found = try lookup.nextRow()
            if found {
                count += 1
                bytes += lookup.int64(at: 0)
                // Envelopes stored before the key moved onto the row have none.
                if let key = RecentAcknowledgements.Key(lookup.bytes(at: 1)) {
                    recentAcknowledgements.insert(key, envelopeId: id, now: now)
                }
            }
            lookup.reset()
            guard found else { continue }

            try delete.bind(rowId, at: 1)
            defer { delete.reset() }
            _ = try delete.nextRow()
        }
        if count > 0 { try addToMailbox(row: deviceRow, count: -count, bytes: -bytes) }
    }

    // MARK: - Prekeys

    public func uploadPrekeys(deviceRow: Int64, signed: SignedPrekey, oneTime: [OneTimePrekey]) throws {
        let keys = try run("SELECT identity_key FROM devices WHERE row_id = ?", [.integer(deviceRow)])
        guard let identity = keys.first?[0].bytes, let identityKey = try? Ed25519PublicKey(rawRepresentation: identity) else {
            throw RelayFailure(.notEnrolled, "the device is not enrolled")
        }
        // The relay checks the signature so that a broken client learns at once, not its peers later.
        let signedBytes = SignedPrekey.signedBytes(suite: .classic, id: signed.id, publicKey: signed.publicKey)
        guard identityKey.isValidSignature(signed.signature, for: signedBytes) else {
            throw RelayFailure(.malformedRequest, "the signed prekey \(signed.id) has an invalid signature")
        }
        try run(
            "INSERT OR REPLACE INTO signed_prekeys (device_row, key_id, public_key, signature) VALUES (?, ?, ?, ?)",
            [.integer(deviceRow), .integer(Int64(signed.id)), .blob(signed.publicKey), .blob(signed.signature)])
        for key in oneTime {
            try run(
                "INSERT OR REPLACE INTO one_time_prekeys (device_row, key_id, public_key) VALUES (?, ?, ?)",
                [.integer(deviceRow), .integer(Int64(key.id)), .blob(key.publicKey)])
        }
        try run("UPDATE devices SET prekeys_low = NULL WHERE row_id = ?", [.integer(deviceRow)])
    }

    public func claimPrekeys(userId: String, lowThreshold: Int) throws -> PrekeyClaim {
        let devices = try run(
            """
            SELECT d.row_id, d.device_id, d.suite, d.identity_key, d.envelope_key, s.key_id, s.public_key, s.signature
            FROM devices d LEFT JOIN signed_prekeys s ON s.device_row = d.row_id
            WHERE d.user_id = ? AND d.revoked_at IS NULL ORDER BY d.device_id
            """, [.text(userId)])
        guard !devices.isEmpty else { throw RelayFailure(.notFound, "no active device for user \(userId)") }

        var claim = PrekeyClaim(bundles: [], lowDevices: [])
        for row in devices {
            let rowId = row[0].int64 ?? 0
            let deviceId = UInt32(clamping: row[1].int64 ?? 0)
            let keys = DeviceKeys(
                deviceId: deviceId, suite: Suite(rawValue: UInt16(clamping: row[2].int64 ?? 1)),
                identityKey: row[3].bytes ?? [], envelopeKey: row[4].bytes ?? [])
            var signed: SignedPrekey?
            if let id = row[5].int64, let publicKey = row[6].bytes, let signature = row[7].bytes {
                signed = SignedPrekey(id: UInt32(clamping: id), publicKey: publicKey, signature: signature)
            }

            // DELETE … RETURNING inside the storage thread's transaction takes the key out in one
            // step, so two claims can never receive the same one-time prekey.
            let taken = try run(
                """
                DELETE FROM one_time_prekeys WHERE rowid = (
                    SELECT rowid FROM one_time_prekeys WHERE device_row = ? ORDER BY key_id LIMIT 1
                ) RETURNING key_id, public_key
                """, [.integer(rowId)])
            var oneTime: OneTimePrekey?
            if let key = taken.first, let id = key[0].int64, let publicKey = key[1].bytes {
                oneTime = OneTimePrekey(id: UInt32(clamping: id), publicKey: publicKey)
            }

            let remaining = try run("SELECT count(*) FROM one_time_prekeys WHERE device_row = ?", [.integer(rowId)]).first?[0].int64 ?? 0
            if remaining < Int64(lowThreshold) {
                try run("UPDATE devices SET prekeys_low = ? WHERE row_id = ?", [.integer(remaining), .integer(rowId)])
                claim.lowDevices.append((rowId, UInt32(clamping: remaining)))
            }
            claim.bundles.append(
                DevicePrekeyBundle(
                    address: DeviceAddress(userId: userId, deviceId: deviceId), device: keys, signedPrekey: signed,
                    oneTimePrekey: oneTime))
        }
        return claim
    }

    // MARK: - Directory

    public func directory(query: String) throws -> [DirectoryEntry] {
        let users = try run(
            "SELECT id, display_name, role, unit FROM users WHERE revoked_at IS NULL ORDER BY display_name, id")
        let needle = query.lowercased()
        var entries: [DirectoryEntry] = []
        for row in users {
            guard let id = row[0].string else { continue }
            let name = row[1].string ?? ""
            let role = row[2].string ?? ""
            let unit = row[3].string ?? ""
            let matches =
                needle.isEmpty || id == query || name.lowercased().contains(needle) || role.lowercased().contains(needle)
                || unit.lowercased().contains(needle)
            guard matches else { continue }

            let devices = try run(
                """
                SELECT device_id, suite, identity_key, envelope_key,
                    (SELECT bytes FROM certificates c WHERE c.device_row = devices.row_id AND c.revoked_at IS NULL
                        AND c.bytes IS NOT NULL ORDER BY c.serial DESC LIMIT 1)
                FROM devices WHERE user_id = ? AND revoked_at IS NULL ORDER BY device_id
                """, [.text(id)])
            let keys = devices.map { device in
                DeviceKeys(
                    deviceId: UInt32(clamping: device[0].int64 ?? 0), suite: Suite(rawValue: UInt16(clamping: device[1].int64 ?? 1)),
                    identityKey: device[2].bytes ?? [], envelopeKey: device[3].bytes ?? [], certificate: device[4].bytes ?? [])
            }
            entries.append(DirectoryEntry(userId: id, displayName: name, role: role, unit: unit, devices: keys))
            if entries.count == WireLimits.directoryEntries { break }
        }
        return entries
    }

    // MARK: - Expiry

    public func sweepExpired(now: Int64) throws -> Int {
        do {
            try settleMailboxCounters()
            let groups = try run(
                "SELECT device_row, count(*), sum(size), min(expires_at) FROM envelopes WHERE expires_at <= ? GROUP BY device_row",
                [.integer(now)])
            var total = 0
            for group in groups {
                guard let row = group[0].int64, let count = group[1].int64 else { continue }
                let bytes = group[2].int64 ?? 0
                let oldest = group[3].int64 ?? now
                try run(
                    """
                    UPDATE devices SET envelope_count = envelope_count - ?1, envelope_bytes = envelope_bytes - ?2,
                        expired_unread = expired_unread + ?1,
                        expired_since = CASE WHEN expired_since = 0 THEN ?3 ELSE min(expired_since, ?3) END
                    WHERE row_id = ?4
                    """, [.integer(count), .integer(bytes), .integer(oldest), .integer(row)])
                total += Int(count)
            }
            try run("DELETE FROM envelopes WHERE expires_at <= ?", [.integer(now)])
            return total
        }
    }

    public func revokedDevices(among deviceRows: [Int64]) throws -> [Int64] {
        let check = try statement("SELECT revoked_at FROM devices WHERE row_id = ?")
        var revoked: [Int64] = []
        for row in deviceRows {
            try check.bind(row, at: 1)
            if try check.nextRow(), !check.isNull(at: 0) { revoked.append(row) }
            check.reset()
        }
        return revoked
    }

    // MARK: - Operator commands

    public func users() throws -> [UserRecord] {
        let rows = try run(
            """
            SELECT u.id, u.display_name, u.role, u.unit, u.created_at, u.revoked_at,
                (SELECT count(*) FROM devices d WHERE d.user_id = u.id AND d.revoked_at IS NULL),
                (SELECT count(*) FROM invites i WHERE i.user_id = u.id AND i.used_at IS NULL AND i.expires_at > ?)
            FROM users u ORDER BY u.rowid
            """, [.integer(Int64(Date().timeIntervalSince1970))])
        return try rows.map { row in
            let id = row[0].string ?? ""
            let deviceIds = try run(
                "SELECT device_id FROM devices WHERE user_id = ? AND revoked_at IS NULL ORDER BY device_id", [.text(id)]
            ).compactMap { $0[0].int64.map { UInt32(clamping: $0) } }
            return UserRecord(
                id: id, displayName: row[1].string ?? "", role: row[2].string ?? "", unit: row[3].string ?? "",
                createdAt: row[4].int64 ?? 0, revokedAt: row[5].int64, activeDevices: Int(row[6].int64 ?? 0), deviceIds: deviceIds,
                pendingInvites: Int(row[7].int64 ?? 0))
        }
    }

    public func revoke(userId: String, now: Int64) throws -> Int {
        try transaction {
            try settleMailboxCounters()
            guard try !run("SELECT 1 FROM users WHERE id = ?", [.text(userId)]).isEmpty else {
                throw RelayError.userNotFound(userId)
            }
            let devices = try run(
                "SELECT row_id FROM devices WHERE user_id = ? AND revoked_at IS NULL", [.text(userId)]
            ).compactMap { $0[0].int64 }
            for row in devices {
                try run("DELETE FROM envelopes WHERE device_row = ?", [.integer(row)])
                try run("DELETE FROM one_time_prekeys WHERE device_row = ?", [.integer(row)])
                try run("DELETE FROM signed_prekeys WHERE device_row = ?", [.integer(row)])
                try run(
                    "UPDATE devices SET revoked_at = ?, envelope_count = 0, envelope_bytes = 0 WHERE row_id = ?",
                    [.integer(now), .integer(row)])
                try revokeCertificates(deviceRow: row, now: now)
            }
            try run("UPDATE users SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", [.integer(now), .text(userId)])
            try run("UPDATE invites SET used_at = coalesce(used_at, ?) WHERE user_id = ?", [.integer(now), .text(userId)])
            return devices.count
        }
    }

    public func revokeDevice(_ address: DeviceAddress, now: Int64) throws {
        try transaction {
            try settleMailboxCounters()
            let rows = try run(
                "SELECT row_id FROM devices WHERE user_id = ? AND device_id = ? AND revoked_at IS NULL",
                [.text(address.userId), .integer(Int64(address.deviceId))])
            guard let row = rows.first?[0].int64 else { throw RelayError.deviceNotFound(address.description) }
            try run("DELETE FROM envelopes WHERE device_row = ?", [.integer(row)])
            try run("DELETE FROM one_time_prekeys WHERE device_row = ?", [.integer(row)])
            try run("DELETE FROM signed_prekeys WHERE device_row = ?", [.integer(row)])
            try run(
                "UPDATE devices SET revoked_at = ?, envelope_count = 0, envelope_bytes = 0 WHERE row_id = ?",
                [.integer(now), .integer(row)])
            try revokeCertificates(deviceRow: row, now: now)
        }
    }

    public func statistics() throws -> RelayStatistics {
        try writeMailboxCounters()
        let totals = try run(
            """
            SELECT (SELECT count(*) FROM users WHERE revoked_at IS NULL),
                (SELECT count(*) FROM devices WHERE revoked_at IS NULL),
                (SELECT coalesce(sum(envelope_count), 0) FROM devices),
                (SELECT coalesce(sum(envelope_bytes), 0) FROM devices),
                (SELECT count(*) FROM one_time_prekeys)
            """)
        let mailboxes = try run(
            """
            SELECT user_id, device_id, envelope_count, envelope_bytes FROM devices
            WHERE revoked_at IS NULL ORDER BY envelope_count DESC, user_id, device_id
            """
        ).map { row in
            MailboxStatistics(
                address: "\(row[0].string ?? "").\(row[1].int64 ?? 0)", envelopes: Int(row[2].int64 ?? 0),
                bytes: Int(row[3].int64 ?? 0))
        }
        let row = totals.first ?? []
        func value(_ index: Int) -> Int { index < row.count ? Int(row[index].int64 ?? 0) : 0 }
        return RelayStatistics(
            users: value(0), devices: value(1), envelopes: value(2), bytes: value(3), oneTimePrekeys: value(4), mailboxes: mailboxes)
    }
}

/// Derives user ids from display names.
public enum UserSlug {
    /// Returns a lowercase ASCII id. German umlauts and ß are spelled out, other accents dropped,
    /// and any other run of characters becomes one hyphen. The result is at most 60 characters
    /// (room for a "-NN" suffix), or "user" when nothing is left.
    public static func make(from name: String) -> String {
        var spelled = ""
        for character in name.lowercased() {
            switch character {
            case "ä": spelled += "ae"
            case "ö": spelled += "oe"
            case "ü": spelled += "ue"
            case "ß": spelled += "ss"
            default: spelled.append(character)
            }
        }
        let folded = spelled.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil)
        var slug = ""
        for scalar in folded.unicodeScalars {
            if scalar.isASCII, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                slug.unicodeScalars.append(scalar)
            } else if !slug.isEmpty, !slug.hasSuffix("-") {
                slug += "-"
            }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        slug = String(slug.prefix(WireLimits.userId - 4))
        while slug.hasSuffix("-") { slug.removeLast() }
        return slug.isEmpty ? "user" : slug
    }
}
