import Foundation
import RatsboteCrypto
@testable import RatsboteRelay
import RatsboteStorage
import RatsboteTestSupport
import RatsboteWire
import Testing

/// The SQLite store's send and acknowledgement paths, run directly on a database file.
@Suite struct RelayStoreTests {
    private struct InjectedStorageFailure: Error {}

    /// Creates a store in its own temporary folder, with one enrolled device per name.
    private func makeStore(devices names: [String]) throws -> (SQLiteRelayStore, [DeviceAddress], [Int64], URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("relay-store-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = try SQLiteRelayStore(path: folder.appendingPathComponent("relay.sqlite").path)
        var addresses: [DeviceAddress] = []
        var rows: [Int64] = []
        for name in names {
            let token = Random.bytes(count: 32)
            _ = try store.createUser(
                displayName: name, role: "member", unit: "council", inviteTokenHash: token, inviteExpiresAt: 2_000_000_000, now: 1_000)
            let enrollment = try store.enroll(
                inviteTokenHash: token, transportKey: Random.bytes(count: 32), identityKey: Random.bytes(count: 32),
                envelopeKey: Random.bytes(count: 32), suite: 1, now: 1_000)
            addresses.append(enrollment.device.address)
            rows.append(enrollment.device.rowId)
        }
        return (store, addresses, rows, folder)
    }

    private func send(to recipient: DeviceAddress, key: [UInt8] = Random.bytes(count: 32), bytes: Int = 100) -> PendingSend {
        PendingSend(dedupeKey: key, recipient: recipient, timeToLive: 0, sealed: Random.bytes(count: bytes))
    }

    private func storeOne(_ store: SQLiteRelayStore, _ pending: PendingSend, now: Int64 = 2_000) throws -> StoredSend {
        try store.transaction {
            try store.writeOrAbortBatch { try store.store(pending, defaultTimeToLive: 3_600, limits: RelayLimits(), now: now) }
        }
    }

    private func mailbox(_ store: SQLiteRelayStore, row: Int64) throws -> [UInt64] {
        try store.envelopes(deviceRow: row, afterId: 0, limit: 1_000, maximumBytes: 1 << 30).map(\.id)
    }

    @Test func acknowledgeDeletesOnlyOwnEnvelopesOnce() throws {
        let (store, addresses, rows, folder) = try makeStore(devices: ["Bob", "Alice"])
        defer { try? FileManager.default.removeItem(at: folder) }
        var bobIds: [UInt64] = []
        try store.transaction {
            for _ in 0..<150 {
                bobIds.append(
                    try store.store(send(to: addresses[0]), defaultTimeToLive: 3_600, limits: RelayLimits(), now: 2_000).envelopeId)
            }
        }
        let aliceId = try storeOne(store, send(to: addresses[1]))

        // 130 ids, one of them twice, and Alice's id, which Bob cannot delete.
        let acknowledged = Array(bobIds.prefix(130)) + [bobIds[5], aliceId.envelopeId]
        try store.transaction { try store.writeOrAbortBatch { try store.acknowledge(deviceRow: rows[0], ids: acknowledged) } }

        #expect(try mailbox(store, row: rows[0]) == Array(bobIds.suffix(20)))
        #expect(try mailbox(store, row: rows[1]) == [aliceId.envelopeId])
        let statistics = try store.statistics()
        let bob = statistics.mailboxes.first { $0.address == addresses[0].description }
        #expect(bob?.envelopes == 20)
        #expect(bob?.bytes == 20 * 100)
        #expect(statistics.envelopes == 21)
    }

    @Test func acknowledgeOfEmptyListChangesNothing() throws {
        let (store, addresses, rows, folder) = try makeStore(devices: ["Bob"])
        defer { try? FileManager.default.removeItem(at: folder) }
        let stored = try storeOne(store, send(to: addresses[0]))
        try store.transaction { try store.acknowledge(deviceRow: rows[0], ids: []) }
        #expect(try mailbox(store, row: rows[0]) == [stored.envelopeId])
    }

    @Test func storageErrorRollsBackWholeBatch() throws {
        let (store, addresses, rows, folder) = try makeStore(devices: ["Bob"])
        defer { try? FileManager.default.removeItem(at: folder) }

        #expect(throws: InjectedStorageFailure.self) {
            try store.transaction {
                _ = try store.store(send(to: addresses[0]), defaultTimeToLive: 3_600, limits: RelayLimits(), now: 2_000)
                // The connection's job catches its own error, so the batch must roll back without seeing it.
                _ = try? store.writeOrAbortBatch { throw InjectedStorageFailure() }
            }
        }
        #expect(try mailbox(store, row: rows[0]).isEmpty)
        #expect(try store.statistics().envelopes == 0)

        // The next batch starts clean and commits.
        let stored = try storeOne(store, send(to: addresses[0]))
        #expect(try mailbox(store, row: rows[0]) == [stored.envelopeId])
    }

    @Test func relayFailureKeepsRestOfBatch() throws {
        let (store, addresses, rows, folder) = try makeStore(devices: ["Bob"])
        defer { try? FileManager.default.removeItem(at: folder) }
        let unknown = DeviceAddress(userId: "nobody", deviceId: 1)

        var stored: StoredSend?
        try store.transaction {
            stored = try store.store(send(to: addresses[0]), defaultTimeToLive: 3_600, limits: RelayLimits(), now: 2_000)
            #expect(throws: RelayFailure.self) {
                try store.writeOrAbortBatch {
                    try store.store(send(to: unknown), defaultTimeToLive: 3_600, limits: RelayLimits(), now: 2_000)
                }
            }
        }
        #expect(try mailbox(store, row: rows[0]) == [stored?.envelopeId].compactMap { $0 })
    }

    /// The counters a batch keeps in memory must match a count of the rows after every commit and
    /// after a rollback, also for a mailbox that is only acknowledged in a batch.
    @Test func cachedCountersMatchRowsAfterRollback() throws {
        let (store, addresses, rows, folder) = try makeStore(devices: ["Bob", "Alice"])
        defer { try? FileManager.default.removeItem(at: folder) }
        func expectCounts(_ bob: Int, _ alice: Int) throws {
            let mailboxes = try store.statistics().mailboxes
            for (address, expected) in [(addresses[0], bob), (addresses[1], alice)] {
                let entry = mailboxes.first { $0.address == address.description }
                #expect(entry?.envelopes == expected)
                #expect(entry?.bytes == expected * 100)
            }
        }
        var bobIds: [UInt64] = []
        try store.transaction {
            for _ in 0..<3 {
                bobIds.append(try store.store(send(to: addresses[0]), defaultTimeToLive: 3_600, limits: RelayLimits(), now: 2_000).envelopeId)
            }
            _ = try store.store(send(to: addresses[1]), defaultTimeToLive: 3_600, limits: RelayLimits(), now: 2_000)
        }
        try expectCounts(3, 1)

        // A rolled-back batch leaves the counters as they were, and the next batch counts on from there.
        _ = try? store.transaction {
            for _ in 0..<2 {
                _ = try store.store(send(to: addresses[0]), defaultTimeToLive: 3_600, limits: RelayLimits(), now: 2_000)
            }
            try store.acknowledge(deviceRow: rows[0], ids: [bobIds[0]])
            throw InjectedStorageFailure()
        }
        try expectCounts(3, 1)
        try store.transaction {
            try store.acknowledge(deviceRow: rows[0], ids: [bobIds[0], bobIds[1]])
            _ = try store.store(send(to: addresses[1]), defaultTimeToLive: 3_600, limits: RelayLimits(), now: 2_000)
        }
        try expectCounts(1, 2)
    }

    /// `ratsbote-relay revoke` writes through its own connection while the relay serves; the
    /// relay's cached mailbox must not accept another envelope for the revoked device.
    @Test func revocationElsewhereEmptiesMailboxCache() throws {
        let (store, addresses, _, folder) = try makeStore(devices: ["Bob"])
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try storeOne(store, send(to: addresses[0]))

        let operatorStore = try SQLiteRelayStore(path: folder.appendingPathComponent("relay.sqlite").path)
        try operatorStore.revokeDevice(addresses[0], now: 3_000)

        #expect(throws: RelayFailure.self) { _ = try storeOne(store, send(to: addresses[0])) }
        #expect(try store.statistics().envelopes == 0)
    }

    @Test func repeatedKeyReturnsFirstEnvelope() throws {
        let (store, addresses, rows, folder) = try makeStore(devices: ["Bob"])
        defer { try? FileManager.default.removeItem(at: folder) }
        let key = Random.bytes(count: 32)
        let first = try storeOne(store, send(to: addresses[0], key: key))
        let again = try storeOne(store, send(to: addresses[0], key: key))
        #expect(first.isNew)
        #expect(!again.isNew)
        #expect(again.envelopeId == first.envelopeId)
        #expect(try mailbox(store, row: rows[0]) == [first.envelopeId])
    }

    @Test func acknowledgedKeyStaysInMemory() throws {
        let (store, addresses, rows, folder) = try makeStore(devices: ["Bob"])
        defer { try? FileManager.default.removeItem(at: folder) }
        let key = Random.bytes(count: 32)
        let first = try storeOne(store, send(to: addresses[0], key: key))
        try store.transaction { try store.acknowledge(deviceRow: rows[0], ids: [first.envelopeId]) }

        let retry = try storeOne(store, send(to: addresses[0], key: key))
        #expect(!retry.isNew)
        #expect(retry.envelopeId == first.envelopeId)
        #expect(try mailbox(store, row: rows[0]).isEmpty)
    }

    @Test func recentAcknowledgementsForgetOldAndExcessKeys() throws {
        var recent = RecentAcknowledgements(window: 10, capacity: 3)
        let keys = (0..<5).map { _ in RecentAcknowledgements.Key(Random.bytes(count: 32))! }
        recent.insert(keys[0], envelopeId: 1, now: 100)
        recent.insert(keys[1], envelopeId: 2, now: 105)
        #expect(recent.envelopeId(for: keys[0]) == 1)

        // keys[0] is now older than the 10-second window.
        recent.insert(keys[2], envelopeId: 3, now: 111)
        #expect(recent.envelopeId(for: keys[0]) == nil)
        #expect(recent.envelopeId(for: keys[1]) == 2)

        // Four keys within the window exceed the capacity of three, so the oldest goes.
        recent.insert(keys[3], envelopeId: 4, now: 112)
        recent.insert(keys[4], envelopeId: 5, now: 113)
        #expect(recent.envelopeId(for: keys[1]) == nil)
        #expect(recent.envelopeId(for: keys[4]) == 5)
        #expect(recent.count == 3)
        #expect(RecentAcknowledgements.Key(Random.bytes(count: 31)) == nil)
    }

    /// The schema before the idempotency key moved onto the envelope row (migrations 1 and 2).
    @Test func migrationMovesKeysOntoEnvelopes() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("relay-migration-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("relay.sqlite").path

        let keyOfStored = Random.bytes(count: 32)
        let keyOfAcknowledged = Random.bytes(count: 32)
        do {
            let old = try Database(path: path)
            try old.migrate(Array(SQLiteRelayStore.migrations.prefix(2)), name: "relay")
            try old.execute(
                """
                INSERT INTO users (id, display_name, role, unit, created_at) VALUES ('bob', 'Bob', 'member', 'council', 1);
                INSERT INTO devices (row_id, user_id, device_id, transport_key, identity_key, envelope_key, suite, enrolled_at,
                    envelope_count, envelope_bytes)
                VALUES (1, 'bob', 1, x'01', x'02', x'03', 1, 1, 1, 5);
                INSERT INTO envelopes (id, device_row, received_at, expires_at, size, sealed) VALUES (7, 1, 10, 4000000000, 5, x'0102030405');
                """)
            try old.query("INSERT INTO send_dedupe (key, envelope_id, expires_at) VALUES (?, 7, 4000000000)", [.blob(keyOfStored)])
            try old.query("INSERT INTO send_dedupe (key, envelope_id, expires_at) VALUES (?, 6, 4000000000)", [.blob(keyOfAcknowledged)])
        }

        let store = try SQLiteRelayStore(path: path)
        let bob = DeviceAddress(userId: "bob", deviceId: 1)
        let envelopes = try store.envelopes(deviceRow: 1, afterId: 0, limit: 10, maximumBytes: 1 << 20)
        #expect(envelopes.map(\.id) == [7])
        #expect(envelopes.first?.sealed == [1, 2, 3, 4, 5])

        // The stored envelope keeps its key; the acknowledged one's key is gone with the old table.
        let retry = try storeOne(store, send(to: bob, key: keyOfStored))
        #expect(!retry.isNew)
        #expect(retry.envelopeId == 7)
        let late = try storeOne(store, send(to: bob, key: keyOfAcknowledged))
        #expect(late.isNew)
        #expect(try store.run("SELECT count(*) FROM sqlite_master WHERE name = 'send_dedupe'") == [[.integer(0)]])
    }
}
