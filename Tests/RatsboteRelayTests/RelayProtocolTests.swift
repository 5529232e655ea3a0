import Foundation
import RatsboteCrypto
import RatsboteRelay
import RatsboteTestSupport
import RatsboteWire
import Testing

/// Enrollment, mailboxes, prekeys and directory against a real relay process over loopback TCP.
@Suite struct RelayProtocolTests {
    @Test func enrollmentAssignsFirstDeviceAndRejectsReuse() throws {
        let relay = try TestRelay()
        let invite = try relay.invite(name: "Jürgen Müller")
        let device = TestDevice()
        let client = try relay.connect(device)

        // CLIENT: an unknown key may only enroll.
        #expect(try client.request(.ping).failureCode == .notEnrolled)
        let response = try client.request(.enroll(device.enrollRequest(invite)))
        #expect(response == .enrolled(address: DeviceAddress(userId: "juergen-mueller", deviceId: 1), displayName: "Jürgen Müller", role: "Rat", unit: "Fraktion A"))
        #expect(try client.request(.ping) == .pong)

        // CLIENT: the same code from another device is rejected.
        let other = TestDevice()
        let second = try relay.connect(other)
        #expect(try second.request(.enroll(other.enrollRequest(invite))).failureCode == .invalidInvite)

        // CLIENT: reconnecting with the enrolled key is authenticated without enrolling again.
        let again = try relay.connect(device)
        #expect(try again.request(.ping) == .pong)
        #expect(try again.request(.enroll(device.enrollRequest(invite))).failureCode == .alreadyEnrolled)
    }

    @Test func expiredInviteIsRejected() throws {
        let relay = try TestRelay()
        let invite = try relay.invite(name: "Erika Muster", expires: "1h")
        relay.stop()
        try relay.restart(environment: ["RATSBOTE_RELAY_CLOCK_OFFSET": "7200"])
        let device = TestDevice()
        let client = try relay.connect(device)
        #expect(try client.request(.enroll(device.enrollRequest(invite))).failureCode == .invalidInvite)
        #expect(relay.serve.log.contains("clock offset in effect"))
    }

    @Test func enrollmentWithWrongSignatureIsRejected() throws {
        let relay = try TestRelay()
        let invite = try relay.invite(name: "Erika Muster")
        let device = TestDevice()
        var request = device.enrollRequest(invite)
        request.signature[0] ^= 1
        let client = try relay.connect(device)
        #expect(try client.request(.enroll(request)).failureCode == .malformedRequest)
        // The invite was not consumed by the failed attempt.
        #expect(try client.request(.enroll(device.enrollRequest(invite))).failureCode == nil)
    }

    @Test func backlogThenLivePushThenAcknowledge() throws {
        let relay = try TestRelay()
        let (_, _, alice) = try relay.enrolledDevice(name: "Alice")
        let (bobDevice, bob, bobClient) = try relay.enrolledDevice(name: "Bob")

        var ids: [UInt64] = []
        for index in 0..<5 {
            guard case .stored(let id) = try sendEnvelope(alice, to: bob, "backlog \(index)") else {
                Issue.record("send \(index) was not stored")
                return
            }
            ids.append(id)
        }
        #expect(ids == ids.sorted())

        // CLIENT: receive reports the backlog, then the envelopes arrive in order.
        #expect(try bobClient.request(.receive) == .receiving(backlog: 5, expiredUnread: 0, expiredSince: 0))
        let backlog = try bobClient.envelopes(5)
        #expect(backlog.map(\.id) == ids)
        #expect(backlog.map { String(decoding: $0.sealed, as: UTF8.self) } == (0..<5).map { "backlog \($0)" })

        // SERVER: a new envelope for a live device is pushed at once.
        guard case .stored(let liveId) = try sendEnvelope(alice, to: bob, "live") else {
            Issue.record("live send was not stored")
            return
        }
        let live = try bobClient.envelopes(1)
        #expect(live.map(\.id) == [liveId])

        // CLIENT: acknowledge three, drop the connection; the rest comes again.
        #expect(try bobClient.request(.acknowledge(ids: Array(ids.prefix(3)))) == .done)
        bobClient.drop()
        let reconnected = try relay.connect(bobDevice)
        #expect(try reconnected.request(.receive) == .receiving(backlog: 3, expiredUnread: 0, expiredSince: 0))
        #expect(try reconnected.envelopes(3).map(\.id) == Array(ids.suffix(2)) + [liveId])
    }

    @Test func acknowledgeTouchesOnlyOwnMailbox() throws {
        let relay = try TestRelay()
        let (_, alice, aliceClient) = try relay.enrolledDevice(name: "Alice")
        let (_, bob, bobClient) = try relay.enrolledDevice(name: "Bob")
        guard case .stored(let id) = try sendEnvelope(aliceClient, to: bob, "for bob") else {
            Issue.record("send was not stored")
            return
        }
        _ = alice
        #expect(try aliceClient.request(.acknowledge(ids: [id])) == .done)
        #expect(try bobClient.request(.receive) == .receiving(backlog: 1, expiredUnread: 0, expiredSince: 0))
        #expect(try bobClient.envelopes(1).map(\.id) == [id])
    }

    @Test func idempotentRetryStoresOnce() throws {
        let relay = try TestRelay()
        let (_, _, alice) = try relay.enrolledDevice(name: "Alice")
        let (_, bob, bobClient) = try relay.enrolledDevice(name: "Bob")
        let idempotencyId = Random.bytes(count: 16)
        let first = try sendEnvelope(alice, to: bob, "once", id: idempotencyId)
        let retry = try sendEnvelope(alice, to: bob, "once", id: idempotencyId)
        #expect(first == retry)
        #expect(try bobClient.request(.receive) == .receiving(backlog: 1, expiredUnread: 0, expiredSince: 0))

        let stats = try relay.command(["stats", "--json"])
        #expect(stats.status == 0)
        #expect(stats.stdout.contains("\"envelopes\" : 1"))
    }

    @Test func sendToUnknownRecipientFails() throws {
        let relay = try TestRelay()
        let (_, _, alice) = try relay.enrolledDevice(name: "Alice")
        let response = try sendEnvelope(alice, to: DeviceAddress(userId: "nobody", deviceId: 1), "lost")
        #expect(response.failureCode == .unknownRecipient)
    }

    @Test func concurrentPrekeyClaimsHandOutEachKeyOnce() async throws {
        let relay = try TestRelay()
        let (bobDevice, bob, bobClient) = try relay.enrolledDevice(name: "Bob")
        let oneTime = (1...20).map { OneTimePrekey(id: UInt32($0), publicKey: X25519PrivateKey.generate(storage: .wiped).publicKey.rawRepresentation) }
        #expect(try bobClient.request(.uploadPrekeys(signed: bobDevice.signedPrekey(id: 7), oneTime: oneTime)) == .done)
        #expect(try bobClient.request(.receive) == .receiving(backlog: 0, expiredUnread: 0, expiredSince: 0))

        let claimers = try (0..<5).map { index in try relay.enrolledDevice(name: "Claimer \(index)").2 }
        let results = try await withThrowingTaskGroup(of: [UInt32?].self) { group in
            for client in claimers {
                let sendable = UncheckedBox(client)
                group.addTask {
                    var keys: [UInt32?] = []
                    for _ in 0..<5 {
                        guard case .prekeys(let bundles) = try sendable.value.request(.claimPrekeys(userId: bob.userId)) else { return keys }
                        keys.append(bundles.first?.oneTimePrekey?.id)
                        #expect(bundles.first?.signedPrekey?.id == 7)
                    }
                    return keys
                }
            }
            var all: [UInt32?] = []
            for try await keys in group { all += keys }
            return all
        }
        let handedOut = results.compactMap { $0 }
        #expect(results.count == 25)
        #expect(handedOut.count == 20)
        #expect(Set(handedOut).count == 20)

        // SERVER: the owner receives a prekeysLow push.
        var sawLow = false
        for _ in 0..<30 {
            if case .prekeysLow = try bobClient.nextPush() {
                sawLow = true
                break
            }
        }
        #expect(sawLow)
    }

    @Test func directoryMatchesNameRoleUnitAndId() throws {
        let relay = try TestRelay()
        let (_, alice, client) = try relay.enrolledDevice(name: "Alice Adler")
        _ = try relay.enrolledDevice(name: "Bernd Berg")
        guard case .directory(let everyone) = try client.request(.directory(query: "")) else {
            Issue.record("no directory")
            return
        }
        #expect(everyone.map(\.userId).sorted() == ["alice-adler", "bernd-berg"])
        guard case .directory(let byName) = try client.request(.directory(query: "ADLER")) else { return }
        #expect(byName.map(\.userId) == [alice.userId])
        #expect(byName.first?.devices.count == 1)
        guard case .directory(let byUnit) = try client.request(.directory(query: "fraktion")) else { return }
        #expect(byUnit.count == 2)
        guard case .directory(let byId) = try client.request(.directory(query: "bernd-berg")) else { return }
        #expect(byId.map(\.userId) == ["bernd-berg"])
        guard case .directory(let none) = try client.request(.directory(query: "zzz")) else { return }
        #expect(none.isEmpty)
    }

    @Test func expiryIsReportedOnReceive() throws {
        let relay = try TestRelay()
        let (_, _, alice) = try relay.enrolledDevice(name: "Alice")
        let (bobDevice, bob, _) = try relay.enrolledDevice(name: "Bob")
        _ = try sendEnvelope(alice, to: bob, "will expire")
        relay.stop()

        try relay.restart(environment: ["RATSBOTE_RELAY_CLOCK_OFFSET": String(31 * 86400)])
        let client = try relay.connect(bobDevice)
        guard case .receiving(let backlog, let expired, let since) = try client.request(.receive) else {
            Issue.record("receive failed")
            return
        }
        #expect(backlog == 0)
        #expect(expired == 1)
        let expectedSince = UInt64(Date().timeIntervalSince1970) + 30 * 86400
        #expect(since >= expectedSince - 60)
        #expect(since <= expectedSince + 60)

        // The gap is reported once.
        let again = try relay.connect(bobDevice)
        #expect(try again.request(.receive) == .receiving(backlog: 0, expiredUnread: 0, expiredSince: 0))
    }

    @Test func unsupportedVersionIsRejected() throws {
        let relay = try TestRelay()
        let client = try TestClient(port: relay.port, relayKey: relay.relayKey, device: TestDevice(), version: 99)
        guard case .response(0, .failure(let failure)) = try client.readFrame() else {
            Issue.record("no failure frame")
            return
        }
        #expect(failure.code == .unsupportedVersion)
        #expect(client.waitForClose())
    }
}

/// Moves a non-Sendable test client into a task; each client is used by one task only.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
