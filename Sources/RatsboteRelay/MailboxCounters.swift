import RatsboteWire

/// The row and the counters (envelopes, bytes) of each active mailbox a batch touched, kept by
/// the storage thread between batches.
///
/// Every send needs its recipient's row and counters, and every send and acknowledgement changes
/// the counters. Without the cache that took two statements per envelope. With it, a mailbox's
/// row is read once and its counters are written once per batch, just before the commit.
///
/// The cache must never outlive a change it did not see. ``SQLiteRelayStore`` empties it when
/// another connection committed (`PRAGMA data_version` changed, as after `ratsbote-relay revoke`),
/// when a transaction rolls back, and before its own statements that change devices.
struct MailboxCounters {
    /// Envelopes and bytes stored in one mailbox.
    struct Counters {
        var count: Int64
        var bytes: Int64
    }

    private var rowsByAddress: [DeviceAddress: Int64] = [:]
    private var countersByRow: [Int64: Counters] = [:]
    /// Rows whose counters changed since the last ``takeChanged()``.
    private var changedRows: Set<Int64> = []

    /// Returns the cached row and counters of the active device at `address`.
    func mailbox(at address: DeviceAddress) -> (row: Int64, counters: Counters)? {
        guard let row = rowsByAddress[address], let counters = countersByRow[row] else { return nil }
        return (row, counters)
    }

    /// Starts caching mailbox `row` of `address` with the counters read from the database.
    mutating func insert(row: Int64, address: DeviceAddress, counters: Counters) {
        rowsByAddress[address] = row
        countersByRow[row] = counters
    }

    /// Adds `count` envelopes and `bytes` to mailbox `row`, and returns `false` when the row is not cached.
    mutating func add(row: Int64, count: Int64, bytes: Int64) -> Bool {
        guard var counters = countersByRow[row] else { return false }
        counters.count += count
        counters.bytes += bytes
        countersByRow[row] = counters
        changedRows.insert(row)
        return true
    }

    /// Returns the rows and counters changed since the last call, and starts collecting anew.
    mutating func takeChanged() -> [(row: Int64, counters: Counters)] {
        defer { changedRows.removeAll(keepingCapacity: true) }
        return changedRows.compactMap { row in countersByRow[row].map { (row, $0) } }
    }

    /// Forgets everything, including changes not yet taken.
    mutating func removeAll() {
        rowsByAddress.removeAll()
        countersByRow.removeAll()
        changedRows.removeAll()
    }
}
