import Foundation
import Glibc
import RatsboteCrypto
import RatsboteRelay
import RatsboteTestSupport
import RatsboteWire
import Testing

/// Every limit a client controls, malformed input, and a client that never reads.
@Suite struct RelayLimitTests {
    @Test func oversizedFrameClosesOnlyThatConnection() throws {
        let relay = try TestRelay { $0["limits"] = ["maximumFrameBytes": 4096] }
        let (_, bob, alice) = try relay.enrolledDevice(name: "Alice")
        let (_, _, other) = try relay.enrolledDevice(name: "Other")

        try alice.post(.send(SendRequest(recipient: bob, idempotencyId: Random.bytes(count: 16), sealed: [UInt8](repeating: 7, count: 10_000))))
        guard case .response(0, .failure(let failure)) = try alice.readFrame() else {
            Issue.record("no failure frame for the oversized frame")
            return
        }
        #expect(failure.code == .tooLarge)
        #expect(alice.waitForClose())
        #expect(try other.request(.ping) == .pong)
    }

    @Test func malformedFrameClosesOnlyThatConnection() throws {
        let relay = try TestRelay()
        let (_, _, broken) = try relay.enrolledDevice(name: "Broken")
        let (_, _, other) = try relay.enrolledDevice(name: "Other")

        // CLIENT: an unknown opcode gets an error response and the connection stays open.
        try broken.sendRawFrame([1, 0, 0, 0, 9, 0x7f, 0x7f])
        #expect(try broken.response(to: 9).failureCode == .unknownCommand)
        #expect(try broken.request(.ping) == .pong)

        // CLIENT: a send whose body ends early is malformed, so the relay sends an error and closes.
        try broken.sendRawFrame([1, 0, 0, 0, 10, 0x00, 0x02, 0x05])
        #expect(try broken.response(to: 10).failureCode == .malformedRequest)
        #expect(broken.waitForClose())
        #expect(try other.request(.ping) == .pong)
    }

    @Test func garbageInsteadOfHandshakeClosesConnection() throws {
        let relay = try TestRelay()
        let raw = try TestClient(port: relay.port)
        try raw.writeAll([0, 40] + [UInt8](repeating: 0xAB, count: 40))
        #expect(raw.waitForClose())
        let (_, _, other) = try relay.enrolledDevice(name: "Other")
        #expect(try other.request(.ping) == .pong)
    }

    @Test func mailboxFullIsReportedAndClearsAfterAcknowledge() throws {
        let relay = try TestRelay { $0["limits"] = ["maximumMailboxEnvelopes": 2] }
        let (_, _, alice) = try relay.enrolledDevice(name: "Alice")
        let (_, bob, bobClient) = try relay.enrolledDevice(name: "Bob")
        #expect(try sendEnvelope(alice, to: bob, "one").failureCode == nil)
        #expect(try sendEnvelope(alice, to: bob, "two").failureCode == nil)
        #expect(try sendEnvelope(alice, to: bob, "three").failureCode == .mailboxFull)

        #expect(try bobClient.request(.receive) == .receiving(backlog: 2, expiredUnread: 0, expiredSince: 0))
        let delivered = try bobClient.envelopes(2)
        #expect(try bobClient.request(.acknowledge(ids: delivered.map(\.id))) == .done)
        #expect(try sendEnvelope(alice, to: bob, "three").failureCode == nil)
    }

    @Test func mailboxBytesLimit() throws {
        let relay = try TestRelay { $0["limits"] = ["maximumMailboxBytes": 1000] }
        let (_, _, alice) = try relay.enrolledDevice(name: "Alice")
        let (_, bob, _) = try relay.enrolledDevice(name: "Bob")
        let big = String(repeating: "x", count: 600)
        #expect(try sendEnvelope(alice, to: bob, big).failureCode == nil)
        #expect(try sendEnvelope(alice, to: bob, big).failureCode == .mailboxFull)
    }

    @Test func sendRateIsLimitedAndLoggedOncePerBurst() throws {
        let relay = try TestRelay { $0["limits"] = ["sendsPerSecond": 0.5, "sendBurst": 3] }
        let (_, _, alice) = try relay.enrolledDevice(name: "Alice")
        let (_, bob, _) = try relay.enrolledDevice(name: "Bob")
        var codes: [RelayErrorCode?] = []
        for index in 0..<10 { codes.append(try sendEnvelope(alice, to: bob, "m\(index)").failureCode) }
        #expect(codes.prefix(3).allSatisfy { $0 == nil })
        #expect(codes.dropFirst(3).allSatisfy { $0 == .rateLimited })
        #expect(try alice.request(.ping) == .pong)
        let lines = relay.serve.log.split(separator: "\n").filter { $0.contains("limit=sendRate") }
        #expect(lines.count == 1)
    }

    @Test func connectionsPerDeviceAreLimited() throws {
        let relay = try TestRelay { $0["limits"] = ["maximumConnectionsPerDevice": 1] }
        let (device, _, first) = try relay.enrolledDevice(name: "Alice")
        let second = try relay.connect(device)
        guard case .response(0, .failure(let failure)) = try second.readFrame() else {
            Issue.record("no failure frame")
            return
        }
        #expect(failure.code == .tooManyConnections)
        #expect(second.waitForClose())
        #expect(try first.request(.ping) == .pong)
    }

    @Test func totalConnectionsAreLimited() throws {
        let relay = try TestRelay { $0["limits"] = ["maximumConnections": 2] }
        let (_, _, first) = try relay.enrolledDevice(name: "Alice")
        let secondDevice = TestDevice()
        let second = try relay.connect(secondDevice)
        #expect(try second.request(.ping).failureCode == .notEnrolled)
        let third = try relay.connect(TestDevice())
        guard case .response(0, .failure(let failure)) = try third.readFrame() else {
            Issue.record("no failure frame")
            return
        }
        #expect(failure.code == .tooManyConnections)
        #expect(third.waitForClose())
        #expect(try first.request(.ping) == .pong)
    }

    @Test func handshakeAndIdleTimeoutsCloseConnections() throws {
        let relay = try TestRelay { $0["limits"] = ["handshakeTimeoutSeconds": 1, "idleTimeoutSeconds": 1.5] }
        let silent = try TestClient(port: relay.port, timeout: 6)
        let idle = try TestClient(port: relay.port, relayKey: relay.relayKey, device: TestDevice(), timeout: 6)
        let start = Date()
        #expect(silent.waitForClose())
        #expect(idle.waitForClose())
        #expect(Date().timeIntervalSince(start) < 5.5)
        #expect(relay.serve.log.contains("reason=\"handshake timeout\""))
        #expect(relay.serve.log.contains("reason=\"idle timeout\""))
    }

    @Test func clientThatNeverReadsDoesNotStallTheRelay() throws {
        let relay = try TestRelay(configure: { $0["limits"] = ["outputHighWaterBytes": 65536] }, environment: ["RATSBOTE_LOG_LEVEL": "debug"])
        let (_, _, alice) = try relay.enrolledDevice(name: "Alice")
        let (bobDevice, bob, _) = try relay.enrolledDevice(name: "Bob")
        let (_, _, observer) = try relay.enrolledDevice(name: "Observer")
        // A small receive buffer keeps the kernel from absorbing what the relay sends.
        let bobClient = try TestClient(port: relay.port, relayKey: relay.relayKey, device: bobDevice, receiveBufferBytes: 16384)

        // CLIENT: Bob starts receiving and then stops reading from his socket.
        #expect(try bobClient.request(.receive) == .receiving(backlog: 0, expiredUnread: 0, expiredSince: 0))
        let payload = [UInt8](repeating: 0x42, count: 60_000)
        var stored: [UInt64] = []
        for index in 0..<80 {
            var sealed = payload
            sealed[0] = UInt8(index & 0xff)
            let response = try alice.request(.send(SendRequest(recipient: bob, idempotencyId: Random.bytes(count: 16), sealed: sealed)))
            guard case .stored(let id) = response else {
                Issue.record("send \(index): \(response)")
                return
            }
            stored.append(id)
        }
        #expect(try observer.request(.ping) == .pong)
        #expect(relay.serve.log.contains("msg=\"delivery paused\""))

        // CLIENT: once Bob reads, every envelope arrives in order, paged from storage.
        let delivered = try bobClient.envelopes(80)
        #expect(delivered.map(\.id) == stored)
        #expect(delivered.enumerated().allSatisfy { $0.element.sealed.first == UInt8($0.offset & 0xff) })
    }

    @Test func logsNameNoSenderAndNoKey() throws {
        let relay = try TestRelay()
        let (aliceDevice, _, alice) = try relay.enrolledDevice(name: "Alice Absender")
        let (_, bob, bobClient) = try relay.enrolledDevice(name: "Bob")
        _ = try sendEnvelope(alice, to: bob, "secret content")
        _ = try bobClient.request(.receive)
        _ = try bobClient.envelopes(1)
        relay.stop()
        let log = relay.serve.log
        #expect(!log.contains("alice"))
        #expect(!log.contains(Encoding.hex(aliceDevice.transport.publicKey.rawRepresentation)))
        #expect(!log.contains("secret content"))
        #expect(log.contains("msg=\"relay stopped\""))
    }
}
