// The relay's storage work without sockets: sends and acknowledgements run directly on
// `SQLiteRelayStore` in group-commit batches, timed by the CPU time of the calling thread.

import CSodiumBench
import Foundation
import Glibc
import RatsboteCrypto
import RatsboteRelay
import RatsboteWire

/// Settings of the storage case, sized like the throughput case: 100 mailboxes, 1 KiB envelopes.
enum RelayStorageBenchSettings {
    static let mailboxes = 100
    static let envelopeBytes = 1024
    /// Sends per commit; the throughput case commits batches of a few hundred jobs.
    static let sendsPerBatch = 256
    static let warmUpBatches = 20
    static let measuredBatches = 200
}

extension CaseRegistry {
    mutating func addRelayStorageCase() {
        addCustom("relay storage.send-ack.1KiB", unit: .reported(label: "µs/env")) { _ in
            try relayStorageCase()
        }
    }
}

private func threadCPUNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// Stores batches of sends and acknowledges each batch one batch later, as receivers that keep up
/// do, and returns the storage thread's CPU time per envelope (one send plus its acknowledgement).
private func relayStorageCase() throws -> [CaseResult] {
    let settings = RelayStorageBenchSettings.self
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ratsbote-storage-bench-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let store = try SQLiteRelayStore(path: folder.appendingPathComponent("relay.sqlite").path)

    var addresses: [DeviceAddress] = []
    var rows: [Int64] = []
    for index in 0..<settings.mailboxes {
        let token = Random.bytes(count: 32)
        _ = try store.createUser(
            displayName: "Member \(index)", role: "member", unit: "council", inviteTokenHash: token, inviteExpiresAt: Int64.max / 2, now: 1)
        let enrollment = try store.enroll(
            inviteTokenHash: token, transportKey: Random.bytes(count: 32), identityKey: Random.bytes(count: 32),
            envelopeKey: Random.bytes(count: 32), suite: 1, now: 1)
        addresses.append(enrollment.device.address)
        rows.append(enrollment.device.rowId)
    }

    let limits = RelayLimits()
    let sealed = Random.bytes(count: settings.envelopeBytes)
    var unacknowledged: [[UInt64]] = Array(repeating: [], count: settings.mailboxes)
    var next = 0
    var cpu: UInt64 = 0
    var wall: UInt64 = 0
    var envelopes = 0
    let now = Int64(Date().timeIntervalSince1970)

    for batch in 0..<(settings.warmUpBatches + settings.measuredBatches) {
        // The keys are made outside the timed part: the relay derives them on the event loop.
        let keys = (0..<settings.sendsPerBatch).map { _ in Random.bytes(count: 32) }
        let acknowledgements = unacknowledged
        unacknowledged = Array(repeating: [], count: settings.mailboxes)

        let cpuStart = threadCPUNanoseconds()
        let wallStart = monotonicNanoseconds()
        try store.transaction {
            for (mailbox, ids) in acknowledgements.enumerated() where !ids.isEmpty {
                try store.writeOrAbortBatch { try store.acknowledge(deviceRow: rows[mailbox], ids: ids) }
            }
            for key in keys {
                let mailbox = next % settings.mailboxes
                next += 1
                let pending = PendingSend(dedupeKey: key, recipient: addresses[mailbox], timeToLive: 0, sealed: sealed)
                let stored = try store.writeOrAbortBatch { try store.store(pending, defaultTimeToLive: 2_592_000, limits: limits, now: now) }
                unacknowledged[mailbox].append(stored.envelopeId)
            }
        }
        if batch >= settings.warmUpBatches {
            cpu += threadCPUNanoseconds() - cpuStart
            wall += monotonicNanoseconds() - wallStart
            envelopes += settings.sendsPerBatch
        }
    }

    let perEnvelope = Double(cpu) / Double(envelopes) / 1000
    let wallPerEnvelope = Double(wall) / Double(envelopes) / 1000

    // The same statements in C, for the floor that SQLite itself sets.
    var twin = csb_storage_result()
    let cPath = folder.appendingPathComponent("c-twin.sqlite").path
    guard
        csb_relay_storage(
            cPath, Int32(settings.mailboxes), Int32(settings.sendsPerBatch), Int32(settings.warmUpBatches),
            Int32(settings.measuredBatches), settings.envelopeBytes, &twin) == 0, twin.envelopes > 0
    else {
        throw RelayBenchError(description: "the C twin of the storage case got an SQLite error on \(cPath); check that the temporary folder is writable and has space")
    }
    let cPerEnvelope = Double(twin.cpu_ns) / Double(twin.envelopes) / 1000
    let cWallPerEnvelope = Double(twin.elapsed_ns) / Double(twin.envelopes) / 1000
    return [
        CaseResult(
            name: "relay storage.send-ack.1KiB", unit: .reported(label: "µs/env"), swift: perEnvelope, c: cPerEnvelope,
            ratio: perEnvelope / cPerEnvelope, target: nil, runs: 1, spread: 0, cSpread: nil, iterations: envelopes,
            swiftPeakBytes: nil, cPeakBytes: nil,
            note: String(
                format: "CPU of the storing thread per send plus acknowledgement, %d per commit, %d mailboxes; elapsed incl. fsync %.1f (Swift), %.1f (C) µs/env",
                settings.sendsPerBatch, settings.mailboxes, wallPerEnvelope, cWallPerEnvelope),
            missedOwnTarget: nil)
    ]
}
