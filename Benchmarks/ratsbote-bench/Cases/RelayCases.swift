// Relay cases: durable end-to-end throughput, latency at half that rate, and the memory of
// 10,000 idle connections, each against a real `ratsbote-relay serve` process on loopback.

import Foundation
import Glibc
import RatsboteNet

/// Settings of the relay cases; `RATSBOTE_BENCH_RELAY_SECONDS` shortens the measured time for a quick look.
enum RelayBenchSettings {
    static let pairs = 100
    static let threads = 2
    static let envelopeBytes = 1024
    static let idleConnections = 10_000

    static var measuredSeconds: Double {
        ProcessInfo.processInfo.environment["RATSBOTE_BENCH_RELAY_SECONDS"].flatMap(Double.init) ?? 10
    }

    /// Throughput measured earlier in this process, so the latency case offers half of it.
    nonisolated(unsafe) static var measuredThroughput: Double?
}

extension CaseRegistry {
    mutating func addRelayCases() {
        addCustom("relay throughput.1KiB.100x100", unit: .reported(label: "env/s")) { _ in
            try relayThroughputCase()
        }
        addCustom("relay latency.1KiB.half-rate", unit: .reported(label: "ms")) { _ in
            try relayLatencyCase()
        }
        addCustom("relay idle connections.10000", unit: .reported(label: "MiB")) { _ in
            try relayIdleConnectionsCase()
        }
    }
}

private func progress(_ text: String) {
    FileHandle.standardError.write(Data("  \(text)\n".utf8))
}

/// A result line for a figure the case measured itself.
private func reported(
    _ name: String, _ label: String, _ value: Double, runs: Int = 1, missed: Bool? = nil, note: String
) -> CaseResult {
    CaseResult(
        name: name, unit: .reported(label: label), swift: value, c: nil, ratio: nil, target: nil, runs: runs, spread: 0,
        cSpread: nil, iterations: 1, swiftPeakBytes: nil, cPeakBytes: nil, note: note, missedOwnTarget: missed)
}

/// Runs the session for `seconds`, sampling relay memory once a second; returns the interval and the largest RSS.
///
/// It also prints where the CPU time went (relay threads, client threads) and the relay's system
/// calls per envelope, because on a shared 2-core machine those explain a figure better than the rate.
private func measure(_ session: LoadSession, seconds: Double) -> (LoadInterval, Int) {
    let relayBefore = session.relay.sample()
    let clientBefore = ProcessSample.read(pid: getpid())
    let before = session.takeInterval()
    let start = monotonicNanoseconds()
    var largest = 0
    var latencies = LatencyHistogram()
    while Double(monotonicNanoseconds() - start) / 1e9 < seconds {
        usleep(1_000_000)
        largest = max(largest, session.relay.memory().resident)
        latencies.merge(session.takeInterval().latencies)
    }
    let after = session.takeInterval()
    latencies.merge(after.latencies)
    let elapsed = Double(monotonicNanoseconds() - start) / 1e9
    let interval = LoadInterval.difference(after, before, seconds: elapsed, latencies: latencies)
    let envelopes = interval.counters.acknowledged
    progress("relay: " + session.relay.sample().perEnvelope(since: relayBefore, envelopes: envelopes, seconds: elapsed))
    progress("client: " + ProcessSample.read(pid: getpid()).perEnvelope(since: clientBefore, envelopes: envelopes, seconds: elapsed))
    progress("load average: " + Machine.loadAverage())
    return (interval, largest)
}

private func failureText(_ interval: LoadInterval) -> String {
    let failures = interval.counters.failures.filter { $0.value > 0 }
    if failures.isEmpty { return "no failures" }
    return "failures " + failures.sorted { $0.key < $1.key }.map { "code \($0.key): \($0.value)" }.joined(separator: ", ")
}

private func relayThroughputCase() throws -> [CaseResult] {
    let session = try LoadSession(
        pairs: RelayBenchSettings.pairs, threads: RelayBenchSettings.threads, envelopeBytes: RelayBenchSettings.envelopeBytes,
        log: progress)
    defer { _ = session.finish() }
    session.setPacing(.closedLoop)
    usleep(3_000_000)  // warm-up: mailboxes, SQLite pages and buffers reach their steady size
    let (interval, largest) = measure(session, seconds: RelayBenchSettings.measuredSeconds)
    let throughput = interval.acknowledgedPerSecond
    RelayBenchSettings.measuredThroughput = throughput
    let target = 50_000.0
    return [
        reported(
            "relay throughput.1KiB.100x100", "env/s", throughput, missed: throughput < target,
            note: String(
                format: "target >= %.0f; stored %.0f/s, %.1f s, %@", target, interval.storedPerSecond, interval.seconds,
                failureText(interval))),
        reported(
            "relay throughput.relay-rss", "MiB", Double(largest) / 1_048_576,
            note: "largest VmRSS of the relay process, sampled once a second"),
    ]
}

private func relayLatencyCase() throws -> [CaseResult] {
    let session = try LoadSession(
        pairs: RelayBenchSettings.pairs, threads: RelayBenchSettings.threads, envelopeBytes: RelayBenchSettings.envelopeBytes,
        log: progress)
    defer { _ = session.finish() }

    var throughput = RelayBenchSettings.measuredThroughput
    if throughput == nil {
        progress("measuring throughput for 5 s first, to offer half of it")
        session.setPacing(.closedLoop)
        usleep(2_000_000)
        throughput = measure(session, seconds: 5).0.acknowledgedPerSecond
        session.setPacing(.idle)
        usleep(2_000_000)  // let the mailboxes drain
    }
    let rate = (throughput ?? 0) / 2
    progress(String(format: "offering %.0f envelopes/s", rate))
    session.setPacing(.rate(rate))
    usleep(2_000_000)
    _ = session.takeInterval()
    let (interval, _) = measure(session, seconds: RelayBenchSettings.measuredSeconds)
    let histogram = interval.counters.latencies
    let p50 = Double(histogram.percentile(0.5) ?? 0) / 1000
    let p99 = Double(histogram.percentile(0.99) ?? 0) / 1000
    let note = String(
        format: "offered %.0f/s, acknowledged %.0f/s, %llu samples, %@", rate, interval.acknowledgedPerSecond, histogram.total,
        failureText(interval))
    return [
        reported("relay latency.p50.half-rate", "ms", p50, note: note),
        reported("relay latency.p99.half-rate", "ms", p99, missed: p99 > 20, note: "target <= 20 ms; " + note),
    ]
}

private func relayIdleConnectionsCase() throws -> [CaseResult] {
    let relay = try RelayProcess()
    let fileLimit = Socket.raiseOpenFileLimit()
    let count = RelayBenchSettings.idleConnections
    guard fileLimit > UInt64(count + 100) else {
        throw RelayBenchError(description: "the open-file limit is \(fileLimit), below the \(count) connections; raise it (ulimit -Hn)")
    }
    try relay.start()
    defer { relay.stop() }
    usleep(500_000)
    let baseline = relay.memory().resident
    let idle = try IdleConnections()
    defer { idle.shutdown() }
    try idle.open(count: count, port: relay.port, relayKey: relay.relayKey) { progress("\($0) connections open") }
    usleep(2_000_000)
    let memory = relay.memory()
    let perConnection = Double(memory.resident - baseline) / Double(count)
    let target = 300.0
    let resident = Double(memory.resident) / 1_048_576
    return [
        reported(
            "relay idle connections.10000", "MiB", resident, missed: resident > target,
            note: String(
                format: "target <= %.0f MiB; baseline %.1f MiB, %.1f KiB per connection, peak %.1f MiB", target,
                Double(baseline) / 1_048_576, perConnection / 1024, Double(memory.peak) / 1_048_576))
    ]
}
