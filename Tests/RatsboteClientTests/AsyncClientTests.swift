import Foundation
import RatsboteCrypto
import RatsboteTestSupport
import Testing

@testable import RatsboteClient

@Suite(.serialized) struct AsyncClientTests {
    @Test func sendAndStreamIncomingMessages() async throws {
        let scenario = try Scenario()
        _ = try scenario.enroll("Alice Adler")
        let bob = try scenario.enroll("Bob Berg")

        let alice = try await RatsboteClient.open(home: scenario.home("Alice Adler"), passphrase: scenario.passphrase("Alice Adler"))
        let bobClient = try await RatsboteClient.open(home: scenario.home("Bob Berg"), passphrase: scenario.passphrase("Bob Berg"))
        #expect(try await alice.identity().displayName == "Alice Adler")

        let stream = bobClient.incomingMessages(every: 0.2)
        let report = try await alice.send(to: bob, subject: "async", body: "über die Warteschlange")
        #expect(report.delivered == 1)

        var received: [String] = []
        for try await message in stream {
            received.append(message.content.body)
            break
        }
        #expect(received == ["über die Warteschlange"])
        #expect(try await bobClient.inbox().count == 1)
    }

    @Test func relayDownIsReportedAsUnreachable() async throws {
        let scenario = try Scenario()
        _ = try scenario.enroll("Alice Adler")
        let alice = try await RatsboteClient.open(home: scenario.home("Alice Adler"), passphrase: scenario.passphrase("Alice Adler"))
        scenario.relay.stop()
        do {
            _ = try await alice.sync()
            Issue.record("sync succeeded with the relay stopped")
        } catch ClientError.relayUnreachable {
        }
    }
}
