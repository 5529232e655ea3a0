import Foundation
import RatsboteNet
import RatsboteSupport
import Testing

@testable import RatsboteRelay

/// The pure pieces of the relay: user ids, the token bucket, the limit log and the configuration.
@Suite struct RelayUnitTests {
    @Test(arguments: [
        ("Jürgen Müller", "juergen-mueller"),
        ("Straße & Söhne", "strasse-soehne"),
        ("  Élodie  Ćirić ", "elodie-ciric"),
        ("Dezernat 2", "dezernat-2"),
        ("!!!", "user"),
        ("日本", "user"),
    ])
    func userSlugSpellsOutAndHyphenates(name: String, expected: String) {
        #expect(UserSlug.make(from: name) == expected)
    }

    @Test func userSlugStaysWithinLimit() {
        let slug = UserSlug.make(from: String(repeating: "Abcdefghij ", count: 20))
        #expect(slug.count <= 60)
        #expect(!slug.hasSuffix("-"))
    }

    @Test func tokenBucketRefillsAtItsRate() {
        var bucket = TokenBucket(rate: 2, burst: 3, now: 100)
        var taken: [Bool] = []
        for now in [100, 100, 100, 100, 100.5, 100.5] { taken.append(bucket.take(now: now)) }
        #expect(taken == [true, true, true, false, true, false])

        // A long pause refills to the burst, not beyond.
        var afterPause: [Bool] = []
        for _ in 0..<4 { afterPause.append(bucket.take(now: 200)) }
        #expect(afterPause == [true, true, true, false])
    }

    @Test func limitLogWritesOncePerInterval() {
        let handler = InMemoryLogHandler()
        let logger = Logger(label: "test", handler: handler)
        var log = LimitLog(interval: 10)
        log.record("sendRate", code: 8, logger: logger, now: 0)
        log.record("sendRate", code: 8, logger: logger, now: 1)
        log.record("sendRate", code: 8, logger: logger, now: 2)
        log.record("frameSize", code: 9, logger: logger, now: 2)
        log.record("sendRate", code: 8, logger: logger, now: 11)
        let lines = handler.lines
        #expect(lines.count == 3)
        #expect(lines.last?.contains("suppressedSinceLast=2") == true)
    }

    @Test func configurationFillsMissingLimits() throws {
        let json = #"{"organisation": "Teststadt", "publicAddress": "127.0.0.1:7443", "limits": {"sendBurst": 5}}"#
        let configuration = try JSONDecoder().decode(RelayConfiguration.self, from: Data(json.utf8))
        #expect(configuration.limits.sendBurst == 5)
        #expect(configuration.limits.maximumFrameBytes == RelayLimits().maximumFrameBytes)
        #expect(configuration.envelopeTimeToLiveSeconds == 30 * 86400)
    }

    @Test func clockOffsetComesFromEnvironment() {
        #expect(RelayClock.fromEnvironment(["RATSBOTE_RELAY_CLOCK_OFFSET": "-60"]).offsetSeconds == -60)
        #expect(RelayClock.fromEnvironment([:]).offsetSeconds == 0)
        #expect(RelayClock.fromEnvironment(["RATSBOTE_RELAY_CLOCK_OFFSET": "soon"]).offsetSeconds == 0)
    }

    @Test func socketAddressParsesIPv4AndIPv6() throws {
        #expect(try SocketAddress(parsing: "127.0.0.1:7443") == SocketAddress(host: "127.0.0.1", port: 7443))
        #expect(try SocketAddress(parsing: "localhost:0") == SocketAddress(host: "127.0.0.1", port: 0))
        let six = try SocketAddress(parsing: "[::1]:7443")
        #expect(six.host == "::1")
        #expect(six.description == "[::1]:7443")
        #expect(throws: NetError.self) { try SocketAddress(parsing: "::1:7443") }
        #expect(throws: NetError.self) { try SocketAddress(parsing: "relay.example.de:7443") }
        #expect(throws: NetError.self) { try SocketAddress(parsing: "127.0.0.1:70000") }
        #expect(throws: NetError.self) { try SocketAddress(parsing: "127.0.0.1") }
    }

    @Test func listenerBindsIPv6Loopback() throws {
        let listener = try TCPListener(address: try SocketAddress(parsing: "[::1]:0"))
        defer { listener.close() }
        #expect(listener.boundAddress.host == "::1")
        #expect(listener.boundAddress.port != 0)
    }
}
