// The load generator behind the relay benchmarks and `ratsbote-bench load`. Enrolled sender and
// receiver devices run on a few epoll threads. Senders send 1 KiB envelopes as fast as a window of
// outstanding sends allows (throughput) or at a fixed offered rate (latency, soak).

import Foundation
import Glibc
import RatsboteCrypto
import RatsboteNet
import RatsboteWire
import Synchronization

/// Monotonic nanoseconds, comparable between the threads of this process.
func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// Counters of one worker; the main thread reads copies of them between intervals.
struct LoadCounters: Sendable {
    var sendsIssued: UInt64 = 0
    /// Sends the relay confirmed with `stored`, so durable at the relay.
    var stored: UInt64 = 0
    /// Envelopes pushed to receivers.
    var pushed: UInt64 = 0
    /// Envelopes whose acknowledgement the relay confirmed with `done`; throughput counts these.
    var acknowledged: UInt64 = 0
    /// Failure responses by error code.
    var failures: [UInt16: UInt64] = [:]
    var closedConnections: UInt64 = 0
    /// Send-to-push latencies since the last `takeInterval`.
    var latencies = LatencyHistogram()

    mutating func add(_ other: LoadCounters) {
        sendsIssued += other.sendsIssued
        stored += other.stored
        pushed += other.pushed
        acknowledged += other.acknowledged
        for (code, count) in other.failures { failures[code, default: 0] += count }
        closedConnections += other.closedConnections
        latencies.merge(other.latencies)
    }
}

/// The pacing of sends.
enum SendPacing: Sendable {
    /// No sends.
    case idle
    /// As fast as the window of outstanding sends per sender allows.
    case closedLoop
    /// This many envelopes per second over all workers, spread evenly. A send that finds the
    /// window full waits and goes out later, so the offered rate holds.
    case rate(Double)
}

/// The generator's state of one enrolled device.
private final class LoadDevice {
    let connection: LoadConnection
    let identity = Ed25519SigningKey.generate()
    let envelopeKey = X25519PrivateKey.generate(storage: .wiped).publicKey.rawRepresentation
    let token: [UInt8]
    var address: DeviceAddress?
    var isReceiver: Bool
    /// For a sender: the receiver it sends to.
    var recipient: DeviceAddress?
    var inFlight = 0
    var sendCounter: UInt64 = 0
    var enrollRequest: UInt32 = 0
    var pendingAcknowledgements: [UInt64] = []
    var acknowledgementsInFlight: [UInt32: Int] = [:]

    init(connection: LoadConnection, token: [UInt8], isReceiver: Bool) {
        self.connection = connection
        self.token = token
        self.isReceiver = isReceiver
    }
}

/// The devices of one epoll thread and what they do; everything but the counters lives on that thread.
final class LoadWorker: LoadConnectionDelegate, @unchecked Sendable {
    // @unchecked: device state is confined to `owner`'s thread; `counters` sits behind a Mutex.
    let owner: LoadLoop
    private let index: Int
    private var devices: [LoadDevice] = []
    private var senders: [LoadDevice] = []
    private let counters = Mutex(LoadCounters())
    private var local = LoadCounters()
    private let window: Int
    private let envelopeBytes: Int
    private var pacing: SendPacing = .idle
    private var pacingStart: UInt64 = 0
    private var pacedIssued: UInt64 = 0
    private var nextSender = 0
    private var filler: [UInt8]
    private(set) var enrolled = 0
    private(set) var enrollFailures: [String] = []
    private(set) var receiving = 0

    init(index: Int, window: Int, envelopeBytes: Int) throws {
        self.index = index
        self.owner = try LoadLoop()
        self.window = window
        self.envelopeBytes = envelopeBytes
        // The relay is blind to content, so random bytes stand in for a sealed envelope.
        self.filler = Random.bytes(count: envelopeBytes)
        owner.start(name: "ratsbote-load-\(index)")
        owner.sync { [self] in
            owner.loop.scheduleRepeating(every: 0.001) { [unowned self] in paceSends() }
            owner.loop.scheduleRepeating(every: 0.05) { [unowned self] in publishCounters() }
            // Keeps devices that send nothing (pacing `.idle`, or receivers) inside the relay's idle timeout.
            owner.loop.scheduleRepeating(every: IdleConnections.keepAliveSeconds) { [unowned self] in
                for device in devices where device.address != nil && device.connection.isEstablished {
                    device.connection.post(.ping)
                }
            }
        }
    }

    /// Connects one device per token and enrolls it; half of them, alternating, become receivers.
    func enroll(tokens: [[UInt8]], port: UInt16, relayKey: X25519PublicKey) throws {
        let result: Result<Void, any Error> = owner.sync { [self] in
            Result {
                try addDevices(tokens: tokens, port: port, relayKey: relayKey)
            }
        }
        try result.get()
    }

    private func addDevices(tokens: [[UInt8]], port: UInt16, relayKey: X25519PublicKey) throws {
        for (offset, token) in tokens.enumerated() {
            let connection = try LoadConnection(
                on: owner, port: port, relayKey: relayKey, transportKey: X25519PrivateKey.generate(storage: .wiped))
            let device = LoadDevice(connection: connection, token: token, isReceiver: offset % 2 == 1)
            connection.tag = devices.count
            connection.delegate = self
            devices.append(device)
        }
    }

    /// Pairs each sender with the receiver enrolled after it, and has every receiver start receiving.
    func startReceiving() {
        owner.sync { [self] in
            senders = []
            for (offset, device) in devices.enumerated() where !device.isReceiver {
                if offset + 1 < devices.count, devices[offset + 1].isReceiver {
                    device.recipient = devices[offset + 1].address
                    senders.append(device)
                }
            }
            for device in devices where device.isReceiver {
                device.connection.post(.receive)
            }
        }
    }

    /// Switches how senders pace their sends; `.rate` is this worker's share.
    func setPacing(_ pacing: SendPacing) {
        owner.sync { [self] in
            self.pacing = pacing
            pacingStart = monotonicNanoseconds()
            pacedIssued = 0
            if case .closedLoop = pacing {
                for sender in senders { fillWindow(sender) }
            }
        }
    }

    /// Returns the cumulative counters, with the latencies since the previous call, and clears the latencies.
    func takeInterval() -> LoadCounters {
        owner.sync { [self] in publishCounters() }
        return counters.withLock { counters in
            let copy = counters
            counters.latencies = LatencyHistogram()
            return copy
        }
    }

    /// Waits until `condition` holds on the loop thread, checking every 10 ms, at most `seconds`.
    func wait(seconds: Double, until condition: @escaping (LoadWorker) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if owner.sync({ [self] in condition(self) }) { return true }
            usleep(10_000)
        }
        return false
    }

    /// Closes every connection and stops the thread.
    func shutdown() {
        owner.sync { [self] in
            for device in devices { device.connection.close(reason: "finished") }
        }
        owner.stopAndJoin()
    }

    // MARK: - Sending

    private func paceSends() {
        guard case .rate(let rate) = pacing, !senders.isEmpty else { return }
        let elapsed = Double(monotonicNanoseconds() - pacingStart) / 1e9
        let due = UInt64(elapsed * rate)
        var attempts = senders.count
        while pacedIssued < due && attempts > 0 {
            let sender = senders[nextSender]
            nextSender = (nextSender + 1) % senders.count
            if sender.inFlight < window && sender.connection.isEstablished {
                send(from: sender)
                pacedIssued += 1
                attempts = senders.count
            } else {
                attempts -= 1
            }
        }
    }

    private func fillWindow(_ sender: LoadDevice) {
        while sender.inFlight < window && sender.connection.isEstablished {
            send(from: sender)
        }
    }

    private func send(from sender: LoadDevice) {
        guard let recipient = sender.recipient else { return }
        sender.sendCounter += 1
        sender.inFlight += 1
        local.sendsIssued += 1
        // The first 8 bytes carry the send time, read back when the push arrives.
        var sealed = filler
        withUnsafeBytes(of: monotonicNanoseconds().littleEndian) { sealed.replaceSubrange(0..<8, with: $0) }
        var idempotency = [UInt8](repeating: 0, count: 16)
        withUnsafeBytes(of: sender.sendCounter.littleEndian) { idempotency.replaceSubrange(0..<8, with: $0) }
        withUnsafeBytes(of: UInt64(index << 32 | sender.connection.tag).littleEndian) { idempotency.replaceSubrange(8..<16, with: $0) }
        sender.connection.post(.send(SendRequest(recipient: recipient, idempotencyId: idempotency, sealed: sealed)))
    }

    // MARK: - Delegate

    func connectionEstablished(_ connection: LoadConnection) {
        let device = devices[connection.tag]
        guard device.address == nil else { return }
        let envelopeKey = device.envelopeKey
        let signed = EnrollRequest.signedBytes(
            token: device.token, envelopeKey: envelopeKey, transportKey: connection.transportKey.publicKey.rawRepresentation)
        device.enrollRequest = connection.post(
            .enroll(
                EnrollRequest(
                    token: device.token, identityKey: device.identity.publicKey.rawRepresentation, envelopeKey: envelopeKey,
                    signature: device.identity.signature(for: signed))))
    }

    func connection(_ connection: LoadConnection, received frame: RelayFrame) {
        let device = devices[connection.tag]
        switch frame {
        case .push(.envelope(let id, _, let sealed)):
            local.pushed += 1
            if sealed.count >= 8 {
                let sentAt = sealed.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
                let now = monotonicNanoseconds()
                if now >= sentAt { local.latencies.record(microseconds: (now - sentAt) / 1000) }
            }
            device.pendingAcknowledgements.append(id)
        case .push:
            break
        case .response(let id, let response):
            handle(response, id: id, device: device)
        case .request:
            connection.close(reason: "the relay sent a request frame")
        }
    }

    private func handle(_ response: RelayResponse, id: UInt32, device: LoadDevice) {
        if id == device.enrollRequest && device.address == nil {
            if case .enrolled(let address, _, _, _) = response {
                device.address = address
                enrolled += 1
            } else {
                enrollFailures.append("\(response)")
            }
            return
        }
        if let count = device.acknowledgementsInFlight.removeValue(forKey: id) {
            if case .done = response { local.acknowledged += UInt64(count) } else { recordFailure(response) }
            return
        }
        switch response {
        case .stored:
            device.inFlight -= 1
            local.stored += 1
            if case .closedLoop = pacing { fillWindow(device) }
        case .receiving:
            receiving += 1
        case .failure:
            if !device.isReceiver { device.inFlight -= 1 }
            recordFailure(response)
            if id == 0 { device.connection.close(reason: "rejected by the relay: \(response)") }
        default:
            break
        }
    }

    private func recordFailure(_ response: RelayResponse) {
        if case .failure(let failure) = response { local.failures[failure.rawCode, default: 0] += 1 }
    }

    func connectionFinishedRead(_ connection: LoadConnection) {
        let device = devices[connection.tag]
        // One acknowledgement per read batch, at most 1,024 ids each, as the protocol allows.
        while !device.pendingAcknowledgements.isEmpty {
            let batch = Array(device.pendingAcknowledgements.prefix(WireLimits.acknowledgementIds))
            device.pendingAcknowledgements.removeFirst(batch.count)
            let id = connection.post(.acknowledge(ids: batch))
            device.acknowledgementsInFlight[id] = batch.count
        }
    }

    func connectionClosed(_ connection: LoadConnection, reason: String) {
        local.closedConnections += 1
        if connection.tag < devices.count, devices[connection.tag].address == nil {
            enrollFailures.append(reason)
        }
    }

    private func publishCounters() {
        let delta = local
        local = LoadCounters()
        counters.withLock { $0.add(delta) }
    }
}

/// A relay process with enrolled senders and receivers spread over a few worker threads.
final class LoadSession {
    let relay: RelayProcess
    let workers: [LoadWorker]
    let devices: Int

    /// Starts a relay, creates `pairs` sender-receiver pairs and enrolls them.
    init(pairs: Int, threads: Int, window: Int = 32, envelopeBytes: Int = 1024, limits: [String: Any] = [:], log: (String) -> Void) throws {
        guard pairs > 0, threads > 0 else { throw RelayBenchError(description: "pairs and threads must be positive") }
        relay = try RelayProcess(limits: limits)
        devices = pairs * 2
        let started = Date()
        let tokens = try relay.invites(count: devices)
        log(String(format: "created %d invites in %.1f s", devices, Date().timeIntervalSince(started)))
        try relay.start()

        var workers: [LoadWorker] = []
        for index in 0..<threads {
            workers.append(try LoadWorker(index: index, window: window, envelopeBytes: envelopeBytes))
        }
        self.workers = workers
        // Give each worker whole pairs, so a sender and its receiver share a thread.
        let pairsPerWorker = (pairs + threads - 1) / threads
        var next = 0
        var counts: [Int] = []
        for worker in workers {
            let count = Swift.min(pairsPerWorker, pairs - next / 2) * 2
            try worker.enroll(tokens: Array(tokens[next..<(next + count)]), port: relay.port, relayKey: relay.relayKey)
            counts.append(count)
            next += count
        }
        for (worker, count) in zip(workers, counts) {
            let done = worker.wait(seconds: 60) { $0.enrolled + $0.enrollFailures.count >= count }
            let failures = worker.owner.sync { worker.enrollFailures }
            guard done, failures.isEmpty else {
                throw RelayBenchError(
                    description: "enrollment failed: \(failures.prefix(3)); relay log:\n\(relay.logTail())")
            }
        }
        for worker in workers { worker.startReceiving() }
        for (worker, count) in zip(workers, counts) {
            guard worker.wait(seconds: 30, until: { $0.receiving >= count / 2 }) else {
                throw RelayBenchError(description: "receivers did not start receiving within 30 s")
            }
        }
        log(String(format: "enrolled %d devices in %.1f s", devices, Date().timeIntervalSince(started)))
    }

    /// Sets the pacing of every worker; a rate is split evenly between them.
    func setPacing(_ pacing: SendPacing) {
        for worker in workers {
            if case .rate(let rate) = pacing {
                worker.setPacing(.rate(rate / Double(workers.count)))
            } else {
                worker.setPacing(pacing)
            }
        }
    }

    /// Returns the cumulative counters of all workers, with the latencies since the previous call.
    func takeInterval() -> LoadCounters {
        var total = LoadCounters()
        for worker in workers { total.add(worker.takeInterval()) }
        return total
    }

    /// Stops sending, closes the connections and stops the relay with SIGTERM.
    func finish() -> Int32 {
        setPacing(.idle)
        for worker in workers { worker.shutdown() }
        return relay.stop()
    }
}

/// The difference of two cumulative counter snapshots, as rates over `seconds`.
struct LoadInterval {
    let seconds: Double
    let counters: LoadCounters

    var acknowledgedPerSecond: Double { Double(counters.acknowledged) / seconds }
    var storedPerSecond: Double { Double(counters.stored) / seconds }
    var failureCount: UInt64 { counters.failures.values.reduce(0, +) }

    static func difference(_ later: LoadCounters, _ earlier: LoadCounters, seconds: Double, latencies: LatencyHistogram) -> LoadInterval {
        var delta = LoadCounters()
        delta.sendsIssued = later.sendsIssued - earlier.sendsIssued
        delta.stored = later.stored - earlier.stored
        delta.pushed = later.pushed - earlier.pushed
        delta.acknowledged = later.acknowledged - earlier.acknowledged
        for (code, count) in later.failures { delta.failures[code] = count - (earlier.failures[code] ?? 0) }
        delta.closedConnections = later.closedConnections - earlier.closedConnections
        delta.latencies = latencies
        return LoadInterval(seconds: seconds, counters: delta)
    }
}
