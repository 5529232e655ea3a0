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
    struct Entry {
        let address: DeviceAddress
        var count: Int64
        var bytes: Int64
    }

    private var rowsByAddress: [DeviceAddress: Int64] = [:]
    private var entries: [Int64: Entry] = [:]
    /// Rows whose counters changed since the last ``takeChanged()``.
    private var changed: [Int64] = []
    private var isChanged: Set<Int64> = []

    /// Returns the cached row of the active device at `address`.
    func row(for address: DeviceAddress) -> Int64? { rowsByAddress[address] }

    /// Returns the cached counters of mailbox `row`.
    func entry(row: Int64) -> Entry? { entries[row] }

    /// Starts caching mailbox `row` of `address` with the counters read from the database.
    mutating func insert(row: Int64, address: DeviceAddress, count: Int64, bytes: Int64) {
        rowsByAddress[address] = row
        entries[row] = Entry(address: address, count: count, bytes: bytes)
    }

    /// Adds `count` envelopes and `bytes` to mailbox `row`; `false` when the row is not cached.
    mutating func add(row: Int64, count: Int64, bytes: Int64) -> Bool {
        guard entries[row] != nil else { return false }
        entries[row]!.count += count
        entries[row]!.bytes += bytes
        if isChanged.insert(row).inserted { changed.append(row) }
        return true
    }

    /// Returns the rows and counters changed since the last call, in the order they first changed.
    mutating func takeChanged() -> [(row: Int64, count: Int64, bytes: Int64)] {
        defer {
            changed.removeAll(keepingCapacity: true)
            isChanged.removeAll(keepingCapacity: true)
        }
        return changed.compactMap { row in entries[row].map { (row, $0.count, $0.bytes) } }
    }

    /// Forgets everything, including changes not yet taken.
    mutating func removeAll() {
        rowsByAddress.removeAll()
        entries.removeAll()
        changed.removeAll()
        isChanged.removeAll()
    }
}
