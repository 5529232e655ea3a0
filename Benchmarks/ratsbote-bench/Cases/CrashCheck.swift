// `ratsbote-bench crash-check`: sends numbered envelopes through a real relay, kills it with
// SIGKILL at random moments, restarts it, and checks that every envelope the relay acknowledged
// as stored reaches the receiving application exactly once after deduplication.

import Foundation
import Glibc
import RatsboteCrypto
import RatsboteWire

/// The crash-durability check.
enum CrashCheck {
    static let usage = """
        usage: ratsbote-bench crash-check [--cycles N] [--seed S] [--min-ms MS] [--max-ms MS]

          --cycles N    relay kills with SIGKILL, each followed by a restart (default 5)
          --seed S      seed of the kill moments, to repeat a run (default: from the clock)
          --min-ms MS   shortest time from a start to its kill in milliseconds (default 50)
          --max-ms MS   longest time from a start to its kill in milliseconds (default 800)

        Prints the counts and exits 0 when no acknowledged envelope is missing and none arrived
        that was never sent, 1 otherwise, 2 for a usage error.
        """

    static func main(_ arguments: [String]) -> Int32 {
        var cycles = 5
        var seed = monotonicNanoseconds() ^ UInt64(getpid())
        var minimum = 50
        var maximum = 800
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            let value = remaining.first.flatMap { UInt64($0) }
            switch argument {
            case "--help", "-h":
                print(usage)
                return 0
            case "--cycles" where value != nil && value! >= 1: cycles = Int(value!)
            case "--seed" where value != nil: seed = value!
            case "--min-ms" where value != nil: minimum = Int(value!)
            case "--max-ms" where value != nil && value! >= 1: maximum = Int(value!)
            default:
                FileHandle.standardError.write(Data("ratsbote-bench crash-check: invalid argument '\(argument)'\n\n\(usage)\n".utf8))
                return 2
            }
            _ = remaining.popFirst()
        }
        guard minimum < maximum else {
            FileHandle.standardError.write(Data("ratsbote-bench crash-check: --min-ms must be below --max-ms\n".utf8))
            return 2
        }

        do {
            print("crash-check: \(cycles) cycles, seed \(seed), kill \(minimum) to \(maximum) ms after each start")
            let driver = try CrashDriver(cycles: cycles, seed: seed, killWindow: minimum..<maximum)
            let report = try driver.run()
            print(report.text)
            return report.passed ? 0 : 1
        } catch {
            FileHandle.standardError.write(Data("ratsbote-bench crash-check: \(error)\n".utf8))
            return 1
        }
    }
}

/// A small seeded generator (SplitMix64), so a failing run can be repeated with `--seed`.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// The counts a crash check ends with.
struct CrashReport {
    var cycles = 0
    var sent = 0
    var acknowledgedByRelay = 0
    var delivered = 0
    var duplicatesFiltered = 0
    var missing = 0
    var unexpected = 0
    var neverAcknowledged = 0
    var backlogAfterCleanRestart = -1
    var seconds = 0.0
    var timedOut = false

    var passed: Bool { missing == 0 && unexpected == 0 && !timedOut }

    var verdict: String {
        if passed { return "PASS" }
        return timedOut ? "FAIL (final drain timed out)" : "FAIL"
    }

    var text: String {
        """
        cycles:                        \(cycles)
        sent:                          \(sent)
        acknowledged by relay:         \(acknowledgedByRelay)
        delivered (after dedupe):      \(delivered)
        duplicates filtered:           \(duplicatesFiltered)
        missing:                       \(missing)
        delivered but never sent:      \(unexpected)
        sent, never acknowledged:      \(neverAcknowledged)
        backlog after clean restart:   \(backlogAfterCleanRestart)
        seconds:                       \(String(format: "%.1f", seconds))
        result:                        \(verdict)
        """
    }
}

/// Drives one sender and one receiver device through relay kills, on one event loop thread.
final class CrashDriver: LoadConnectionDelegate, @unchecked Sendable {
    // @unchecked: after init every property is used on `owner`'s thread only; the main thread
    // waits on `finished` and reads the report after it.
    private enum Phase {
        /// Kills follow at random moments.
        case crashing
        /// No more kills: resend what is unacknowledged and drain the mailbox.
        case draining
        /// After a SIGTERM restart: read what the mailbox still holds.
        case verifying
        case finished
    }

    /// Keys and address of one device; the keys survive reconnects.
    private struct Device {
        let transport = X25519PrivateKey.generate(storage: .wiped)
        let identity = Ed25519SigningKey.generate()
        let envelopeKey = X25519PrivateKey.generate(storage: .wiped).publicKey.rawRepresentation
        let token: [UInt8]
        var address: DeviceAddress?
        var enrollRequest: UInt32 = 0
    }

    private let owner: LoadLoop
    private let relay: RelayProcess
    private let cycles: Int
    private let killWindow: Range<Int>
    private var random: SeededGenerator
    private let window = 32
    private let envelopeBytes = 256
    /// Distinguishes this run's idempotency ids from any other run's.
    private let runId = Random.bytes(count: 8)
    private let finished = DispatchSemaphore(value: 0)
    private let started = Date()

    private var phase = Phase.crashing
    private var senderDevice: Device
    private var receiverDevice: Device
    private var sender: LoadConnection?
    private var receiver: LoadConnection?
    private var killAt: UInt64?
    private var drainDeadline: UInt64 = 0
    private var cycle = 0

    private var nextSequence: UInt64 = 1
    /// Sent, but no `stored` seen yet: resent with the same idempotency id after a restart.
    private var unacknowledged = Set<UInt64>()
    private var retry: [UInt64] = []
    private var inFlight: [UInt32: UInt64] = [:]
    private var stored = Set<UInt64>()
    private var deliveries: [UInt64: Int] = [:]
    private var duplicates = 0
    private var unexpected = 0
    private var pendingAcknowledgements: [UInt64] = []
    private var acknowledgementsInFlight = 0
    private var verifyBacklog: Int?
    private var verifyPushes = 0
    private var report = CrashReport()

    init(cycles: Int, seed: UInt64, killWindow: Range<Int>) throws {
        self.cycles = cycles
        self.killWindow = killWindow
        self.random = SeededGenerator(seed: seed)
        // The sender outpaces the default 1,000 sends per second in bursts after a restart;
        // rate limiting is not what this check is about.
        relay = try RelayProcess(limits: ["sendsPerSecond": 1_000_000, "sendBurst": 1_000_000])
        senderDevice = Device(token: try relay.invite())
        receiverDevice = Device(token: try relay.invite())
        owner = try LoadLoop()
    }

    /// Runs every cycle and the final drain; returns the counts.
    func run() throws -> CrashReport {
        owner.start(name: "ratsbote-crash-check")
        let startFailure: String? = owner.sync { [self] in
            owner.loop.scheduleRepeating(every: 0.005) { [unowned self] in tick() }
            do {
                try startRelay()
                return nil
            } catch {
                return "\(error)"
            }
        }
        if let startFailure { throw RelayBenchError(description: startFailure) }
        // Each cycle lasts at most the kill window plus a restart; the drain has its own deadline.
        let limit = Double(cycles) * (Double(killWindow.upperBound) / 1000 + 5) + 120
        if finished.wait(timeout: .now() + limit) == .timedOut {
            owner.sync { [self] in finish(timedOut: true) }
        }
        owner.stopAndJoin()
        relay.stop(signal: SIGKILL)
        return report
    }

    // MARK: - Relay and connections

    private func startRelay() throws {
        try relay.start()
        sender = try connect(senderDevice)
        if phase != .verifying { receiver = try connect(receiverDevice) }
        if phase == .crashing, senderDevice.address != nil, receiverDevice.address != nil { scheduleKill() }
    }

    private func connect(_ device: Device) throws -> LoadConnection {
        let connection = try LoadConnection(on: owner, port: relay.port, relayKey: relay.relayKey, transportKey: device.transport)
        connection.delegate = self
        return connection
    }

    private func scheduleKill() {
        killAt = monotonicNanoseconds() + UInt64(Int.random(in: killWindow, using: &random)) * 1_000_000
    }

    private func killAndRestart() {
        killAt = nil
        relay.stop(signal: SIGKILL)
        closeConnections()
        cycle += 1
        if cycles <= 20 || cycle % 50 == 0 {
            print(
                "cycle \(cycle): killed; sent \(nextSequence - 1), stored \(stored.count), delivered \(deliveries.count), "
                    + "duplicates \(duplicates)")
            fflush(nil)
        }
        if cycle >= cycles {
            phase = .draining
            drainDeadline = monotonicNanoseconds() + 60_000_000_000
        }
        do {
            try startRelay()
        } catch {
            print("restart failed: \(error)")
            finish(timedOut: true)
        }
    }

    private func closeConnections() {
        sender?.delegate = nil
        receiver?.delegate = nil
        sender?.close(reason: "relay killed")
        receiver?.close(reason: "relay killed")
        sender = nil
        receiver = nil
        // Sends in flight died with the relay; they stay unacknowledged and are sent again.
        inFlight.removeAll()
        retry.removeAll()
        pendingAcknowledgements.removeAll()
        acknowledgementsInFlight = 0
    }

    private func tick() {
        if let killAt, monotonicNanoseconds() >= killAt {
            return killAndRestart()
        }
        if let sender, sender.isEstablished, senderDevice.address != nil {
            while let sequence = retry.popLast() { post(sequence, on: sender) }
        }
        switch phase {
        case .draining:
            if unacknowledged.isEmpty && inFlight.isEmpty && acknowledgementsInFlight == 0 && pendingAcknowledgements.isEmpty
                && stored.isSubset(of: deliveries.keys)
            {
                beginVerify()
            } else if monotonicNanoseconds() > drainDeadline {
                finish(timedOut: true)
            }
        case .verifying:
            if let backlog = verifyBacklog, verifyPushes >= backlog, acknowledgementsInFlight == 0, pendingAcknowledgements.isEmpty {
                finish(timedOut: false)
            } else if monotonicNanoseconds() > drainDeadline {
                finish(timedOut: true)
            }
        case .crashing, .finished:
            break
        }
    }

    /// Stops the relay cleanly and starts it again, so the receiver sees what the mailbox still holds.
    private func beginVerify() {
        phase = .verifying
        drainDeadline = monotonicNanoseconds() + 30_000_000_000
        relay.stop(signal: SIGTERM)
        closeConnections()
        do {
            try relay.start()
            receiver = try connect(receiverDevice)
        } catch {
            print("restart for verification failed: \(error)")
            finish(timedOut: true)
        }
    }

    private func finish(timedOut: Bool) {
        guard phase != .finished else { return }
        phase = .finished
        closeConnections()
        report.cycles = cycle
        report.sent = Int(nextSequence - 1)
        report.acknowledgedByRelay = stored.count
        report.delivered = deliveries.count
        report.duplicatesFiltered = duplicates
        report.missing = stored.subtracting(deliveries.keys).count
        report.unexpected = unexpected
        report.neverAcknowledged = unacknowledged.count
        report.backlogAfterCleanRestart = verifyBacklog ?? -1
        report.seconds = Date().timeIntervalSince(started)
        report.timedOut = timedOut
        finished.signal()
    }

    // MARK: - Sending

    private func fillWindow(_ connection: LoadConnection) {
        guard phase == .crashing else { return }
        while inFlight.count < window {
            let sequence = nextSequence
            nextSequence += 1
            unacknowledged.insert(sequence)
            post(sequence, on: connection)
        }
    }

    /// Sends envelope `sequence`; the idempotency id depends only on it, so a resend after a crash
    /// is recognised by the relay when the first attempt was committed.
    private func post(_ sequence: UInt64, on connection: LoadConnection) {
        var sealed = [UInt8](repeating: 0xA5, count: envelopeBytes)
        withUnsafeBytes(of: sequence.littleEndian) { sealed.replaceSubrange(0..<8, with: $0) }
        var idempotency = runId
        withUnsafeBytes(of: sequence.littleEndian) { idempotency.append(contentsOf: $0) }
        guard let recipient = receiverDevice.address else { return }
        let id = connection.post(.send(SendRequest(recipient: recipient, idempotencyId: idempotency, sealed: sealed)))
        inFlight[id] = sequence
    }

    // MARK: - Delegate

    func connectionEstablished(_ connection: LoadConnection) {
        let isSender = connection === sender
        let device = isSender ? senderDevice : receiverDevice
        if device.address == nil {
            let signed = EnrollRequest.signedBytes(
                token: device.token, envelopeKey: device.envelopeKey, transportKey: device.transport.publicKey.rawRepresentation)
            let id = connection.post(
                .enroll(
                    EnrollRequest(
                        token: device.token, identityKey: device.identity.publicKey.rawRepresentation, envelopeKey: device.envelopeKey,
                        signature: device.identity.signature(for: signed))))
            if isSender { senderDevice.enrollRequest = id } else { receiverDevice.enrollRequest = id }
            return
        }
        ready(connection)
    }

    /// Starts the work of an enrolled connection: resends and new sends, or receiving.
    private func ready(_ connection: LoadConnection) {
        if connection === sender {
            guard receiverDevice.address != nil else { return }
            for sequence in unacknowledged.sorted() { post(sequence, on: connection) }
            fillWindow(connection)
        } else {
            connection.post(.receive)
        }
    }

    func connection(_ connection: LoadConnection, received frame: RelayFrame) {
        switch frame {
        case .response(let id, let response):
            if connection === sender { senderResponse(response, id: id, connection: connection) } else { receiverResponse(response, id: id, connection: connection) }
        case .push(.envelope(let id, _, let sealed)):
            guard sealed.count >= 8 else {
                unexpected += 1
                return
            }
            let sequence = sealed.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
            if sequence == 0 || sequence >= nextSequence {
                unexpected += 1
            } else if deliveries[sequence] != nil {
                duplicates += 1
                deliveries[sequence]! += 1
            } else {
                deliveries[sequence] = 1
            }
            pendingAcknowledgements.append(id)
            if phase == .verifying { verifyPushes += 1 }
        case .push, .request:
            break
        }
    }

    private func senderResponse(_ response: RelayResponse, id: UInt32, connection: LoadConnection) {
        if senderDevice.address == nil, id == senderDevice.enrollRequest {
            guard case .enrolled(let address, _, _, _) = response else {
                print("sender enrollment failed: \(response)")
                return finish(timedOut: true)
            }
            senderDevice.address = address
            return enrolledBoth()
        }
        guard let sequence = inFlight.removeValue(forKey: id) else { return }
        switch response {
        case .stored:
            stored.insert(sequence)
            unacknowledged.remove(sequence)
            fillWindow(connection)
        default:
            // A failure (for example internalError or shuttingDown) stored nothing; send again.
            retry.append(sequence)
        }
    }

    private func receiverResponse(_ response: RelayResponse, id: UInt32, connection: LoadConnection) {
        if receiverDevice.address == nil, id == receiverDevice.enrollRequest {
            guard case .enrolled(let address, _, _, _) = response else {
                print("receiver enrollment failed: \(response)")
                return finish(timedOut: true)
            }
            receiverDevice.address = address
            return enrolledBoth()
        }
        switch response {
        case .receiving(let backlog, _, _):
            if phase == .verifying { verifyBacklog = Int(backlog) }
        case .done:
            acknowledgementsInFlight -= 1
        case .failure(let failure):
            print("receiver request failed: code \(failure.rawCode) \(failure.reason)")
            if acknowledgementsInFlight > 0 { acknowledgementsInFlight -= 1 }
        default:
            break
        }
    }

    private func enrolledBoth() {
        guard senderDevice.address != nil, receiverDevice.address != nil, let sender, let receiver else { return }
        ready(receiver)
        ready(sender)
        scheduleKill()
    }

    func connectionFinishedRead(_ connection: LoadConnection) {
        guard connection === receiver, !pendingAcknowledgements.isEmpty else { return }
        while !pendingAcknowledgements.isEmpty {
            let batch = Array(pendingAcknowledgements.prefix(WireLimits.acknowledgementIds))
            pendingAcknowledgements.removeFirst(batch.count)
            connection.post(.acknowledge(ids: batch))
            acknowledgementsInFlight += 1
        }
    }

    func connectionClosed(_ connection: LoadConnection, reason: String) {
        // Only a kill closes connections on purpose, and it detaches the delegate first.
        print("connection closed unexpectedly: \(reason)")
    }
}
