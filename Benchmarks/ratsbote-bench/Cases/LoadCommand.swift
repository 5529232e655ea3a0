// `ratsbote-bench load`: keeps many connections open at a steady envelope rate for a set time and
// prints throughput, latency and relay memory per interval; the soak run is this with a long duration.

import Foundation
import Glibc
import RatsboteNet

/// The load and soak generator.
enum LoadCommand {
    static let usage = """
        usage: ratsbote-bench load [--connections N] [--rate R] [--duration S] [--interval S] [--threads T]
                                   [--idle M] [--window W] [--size BYTES]

          --connections N   enrolled devices, half sending and half receiving (default 200, even)
          --rate R          envelopes per second offered over all senders (default 10000); 0 sends
                            as fast as the window of outstanding sends allows
          --duration S      seconds of measured load after a 2 s warm-up (default 60)
          --interval S      seconds between report lines (default 5)
          --threads T       client threads (default 2)
          --idle M          additional idle connections held open during the run (default 0)
          --window W        outstanding sends per sender (default 32)
          --size BYTES      envelope size in bytes, at least 8 (default 1024)

        Each line: elapsed seconds, acknowledged envelopes/s, p50 and p99 latency from send to push
        (ms), relay VmRSS. The summary compares the relay's RSS after the first interval with the last.
        """

    /// Runs the command and returns the exit status: 0, 1 when the run failed, 2 for a usage error.
    static func main(_ arguments: [String]) -> Int32 {
        var connections = 200
        var rate = 10_000.0
        var duration = 60.0
        var interval = 5.0
        var threads = 2
        var idle = 0
        var window = 32
        var size = 1024
        var remaining = arguments[...]
        do {
            while let argument = remaining.popFirst() {
                switch argument {
                case "--help", "-h":
                    print(usage)
                    return 0
                case "--connections": connections = try integer(argument, &remaining, minimum: 2)
                case "--rate": rate = try number(argument, &remaining, minimum: 0)
                case "--duration": duration = try number(argument, &remaining, minimum: 1)
                case "--interval": interval = try number(argument, &remaining, minimum: 0.5)
                case "--threads": threads = try integer(argument, &remaining, minimum: 1)
                case "--idle": idle = try integer(argument, &remaining, minimum: 0)
                case "--window": window = try integer(argument, &remaining, minimum: 1)
                case "--size": size = try integer(argument, &remaining, minimum: 8)
                default: throw RelayBenchError(description: "unknown argument '\(argument)'; the options are listed below")
                }
            }
            guard connections % 2 == 0 else { throw RelayBenchError(description: "--connections must be even, got \(connections)") }
        } catch {
            FileHandle.standardError.write(Data("ratsbote-bench load: \(error)\n\n\(usage)\n".utf8))
            return 2
        }

        do {
            try run(
                pairs: connections / 2, rate: rate, duration: duration, interval: interval, threads: threads, idle: idle,
                window: window, size: size)
            return 0
        } catch {
            FileHandle.standardError.write(Data("ratsbote-bench load: \(error)\n".utf8))
            return 1
        }
    }

    private static func run(
        pairs: Int, rate: Double, duration: Double, interval: Double, threads: Int, idle: Int, window: Int, size: Int
    ) throws {
        print(Machine.description(arguments: CommandLine.arguments, clock: .monotonic))
        if idle > 0 { Socket.raiseOpenFileLimit() }
        let session = try LoadSession(pairs: pairs, threads: threads, window: window, envelopeBytes: size) { print($0) }
        defer { _ = session.finish() }
        var idleConnections: IdleConnections?
        defer { idleConnections?.shutdown() }
        if idle > 0 {
            let connections = try IdleConnections()
            idleConnections = connections
            try connections.open(count: idle, port: session.relay.port, relayKey: session.relay.relayKey) { print("\($0) idle connections open") }
        }

        session.setPacing(rate > 0 ? .rate(rate) : .closedLoop)
        usleep(2_000_000)
        let relayBefore = session.relay.sample()
        let clientBefore = ProcessSample.read(pid: getpid())
        var previous = session.takeInterval()
        let first = previous
        let start = monotonicNanoseconds()
        var lastTick = start
        var all = LatencyHistogram()
        var rssSamples: [Int] = []
        print("  elapsed_s  ack_per_s  p50_ms  p99_ms  relay_rss_mib  failures")
        while Double(monotonicNanoseconds() - start) / 1e9 < duration - 0.001 {
            let next = start + UInt64(Double(rssSamples.count + 1) * interval * 1e9)
            let now = monotonicNanoseconds()
            if next > now { usleep(UInt32(Swift.min(Double(next - now) / 1000, Double(UInt32.max)))) }
            let current = session.takeInterval()
            let tick = monotonicNanoseconds()
            let delta = LoadInterval.difference(current, previous, seconds: Double(tick - lastTick) / 1e9, latencies: current.latencies)
            all.merge(current.latencies)
            let memory = session.relay.memory().resident
            rssSamples.append(memory)
            print(
                String(
                    format: "%11.1f %10.0f %7.2f %7.2f %14.1f %9llu", Double(tick - start) / 1e9, delta.acknowledgedPerSecond,
                    milliseconds(delta.counters.latencies.percentile(0.5)), milliseconds(delta.counters.latencies.percentile(0.99)),
                    Double(memory) / 1_048_576, delta.failureCount))
            fflush(nil)
            previous = current
            lastTick = tick
        }

        let total = LoadInterval.difference(previous, first, seconds: Double(lastTick - start) / 1e9, latencies: all)
        let open = idleConnections?.openCount ?? 0
        let idleClosed = idleConnections?.closedCount ?? 0
        print(
            String(
                format: "summary: %.0f s, %llu envelopes acknowledged (%.0f/s), stored %llu, latency p50 %.2f ms p99 %.2f ms",
                total.seconds, total.counters.acknowledged, total.acknowledgedPerSecond, total.counters.stored,
                milliseconds(all.percentile(0.5)), milliseconds(all.percentile(0.99))))
        if let firstRSS = rssSamples.first, let lastRSS = rssSamples.last, let largest = rssSamples.max() {
            print(
                String(
                    format: "relay RSS: after first interval %.1f MiB, at end %.1f MiB, largest %.1f MiB, change %+.1f MiB",
                    Double(firstRSS) / 1_048_576, Double(lastRSS) / 1_048_576, Double(largest) / 1_048_576,
                    Double(lastRSS - firstRSS) / 1_048_576))
        }
        print("\(failureSummary(total)); connections closed during the run: \(total.counters.closedConnections); "
                + "idle connections open: \(open), closed by the relay: \(idleClosed)")
        let envelopes = total.counters.acknowledged
        print("relay: " + session.relay.sample().perEnvelope(since: relayBefore, envelopes: envelopes, seconds: total.seconds))
        print("client: " + ProcessSample.read(pid: getpid()).perEnvelope(since: clientBefore, envelopes: envelopes, seconds: total.seconds))
        print("load average at end: \(Machine.loadAverage())")
    }

    private static func failureSummary(_ interval: LoadInterval) -> String {
        let failures = interval.counters.failures.filter { $0.value > 0 }
        if failures.isEmpty { return "no failure responses" }
        return "failure responses: " + failures.sorted { $0.key < $1.key }.map { "code \($0.key) x\($0.value)" }.joined(separator: ", ")
    }

    private static func milliseconds(_ microseconds: UInt64?) -> Double {
        Double(microseconds ?? 0) / 1000
    }

    private static func integer(_ option: String, _ remaining: inout ArraySlice<String>, minimum: Int) throws -> Int {
        guard let text = remaining.popFirst(), let value = Int(text), value >= minimum else {
            throw RelayBenchError(description: "\(option) requires a whole number of at least \(minimum)")
        }
        return value
    }

    private static func number(_ option: String, _ remaining: inout ArraySlice<String>, minimum: Double) throws -> Double {
        guard let text = remaining.popFirst(), let value = Double(text), value >= minimum else {
            throw RelayBenchError(description: "\(option) requires a number of at least \(minimum)")
        }
        return value
    }
}
