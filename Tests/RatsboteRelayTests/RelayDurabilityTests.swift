import Foundation
import Glibc
import RatsboteCrypto
import RatsboteRelay
import RatsboteSupport
import RatsboteTestSupport
import RatsboteWire
import Testing

/// Signals during a send storm: nothing the relay acknowledged may be lost.
@Suite struct RelayDurabilityTests {
    /// Runs `senders` pipelined senders until they fail, calls `interrupt` after `delay`, and
    /// returns the envelope ids the relay acknowledged.
    private func storm(
        _ relay: TestRelay, to recipient: DeviceAddress, senders: [TestClient], delay: Double, interrupt: () -> Void
    ) -> [UInt64] {
        let acknowledged = Locked<[UInt64]>([])
        let group = DispatchGroup()
        for client in senders {
            let box = UncheckedBox(client)
            group.enter()
            Thread {
                defer { group.leave() }
                // Bounded: at most 200 rounds of 16 pipelined sends per sender.
                for _ in 0..<200 {
                    do {
                        var ids: [UInt32] = []
                        for _ in 0..<16 {
                            ids.append(try box.value.post(.send(SendRequest(recipient: recipient, idempotencyId: Random.bytes(count: 16), sealed: Random.bytes(count: 1024)))))
                        }
                        for id in ids {
                            if case .stored(let envelopeId) = try box.value.response(to: id) {
                                acknowledged.withLock { $0.append(envelopeId) }
                            }
                        }
                    } catch {
                        return
                    }
                }
            }.start()
        }
        usleep(UInt32(delay * 1_000_000))
        interrupt()
        _ = group.wait(timeout: .now() + 30)
        return acknowledged.withLock { $0 }
    }

    private func deliveredIds(_ relay: TestRelay, _ device: TestDevice) throws -> Set<UInt64> {
        let client = try relay.connect(device)
        guard case .receiving(let backlog, _, _) = try client.request(.receive) else { return [] }
        return Set(try client.envelopes(Int(backlog)).map(\.id))
    }

    @Test func concurrentSendsShareOneCommit() throws {
        let relay = try TestRelay(environment: ["RATSBOTE_LOG_LEVEL": "debug"])
        let (_, bob, _) = try relay.enrolledDevice(name: "Bob")
        let (_, _, alice) = try relay.enrolledDevice(name: "Alice")

        // CLIENT: 64 pipelined sends arrive faster than one fsync, so later ones share a batch.
        var ids: [UInt32] = []
        for index in 0..<64 {
            ids.append(try alice.post(.send(SendRequest(recipient: bob, idempotencyId: Random.bytes(count: 16), sealed: Array("m\(index)".utf8)))))
        }
        for id in ids { #expect(try alice.response(to: id).failureCode == nil) }

        let batchSizes = relay.serve.log.split(separator: "\n").filter { $0.contains("msg=\"storage batch committed\"") }.compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("jobs=") }.flatMap { Int($0.dropFirst(5)) }
        }
        #expect(batchSizes.contains { $0 > 1 }, "batch sizes: \(batchSizes)")
    }

    @Test(arguments: [SIGTERM, SIGINT, SIGKILL])
    func signalDuringSendStormLosesNothingAcknowledged(signal: Int32) throws {
        let relay = try TestRelay()
        let (bobDevice, bob, _) = try relay.enrolledDevice(name: "Bob")
        let senders = try (0..<4).map { try relay.enrolledDevice(name: "Sender \($0)").2 }
        senders.forEach { $0.setTimeout(5) }

        var status: Int32 = -1
        let acknowledged = storm(relay, to: bob, senders: senders, delay: 0.8) { status = relay.stop(signal: signal) }
        #expect(acknowledged.count > 0)
        print("storm with signal \(signal): \(acknowledged.count) envelopes acknowledged before the signal")
        if signal != SIGKILL {
            #expect(status == 0)
            #expect(relay.serve.log.contains("msg=\"relay stopped\""))
        }

        try relay.restart()
        let delivered = try deliveredIds(relay, bobDevice)
        let missing = Set(acknowledged).subtracting(delivered)
        #expect(missing.isEmpty, "\(missing.count) of \(acknowledged.count) acknowledged envelopes were lost")
    }
}
