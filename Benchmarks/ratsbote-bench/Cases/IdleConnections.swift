import Foundation
import RatsboteCrypto
import RatsboteNet
import RatsboteWire

/// Opens many connections that finish the handshake, send one `ping` and then stay silent.
///
/// They use one transport key that is not enrolled: enrolling 10,000 devices would take 10,000
/// invite commands. The relay keeps the same state per connection either way (socket, Noise
/// transport, buffers); it answers the ping with error 3 (`notEnrolled`), which proves that the
/// connection passed the handshake and the device lookup.
final class IdleConnections: LoadConnectionDelegate, @unchecked Sendable {
    // @unchecked: everything but the constructor runs on `owner`'s thread.
    let owner: LoadLoop
    private let transportKey = X25519PrivateKey.generate(storage: .wiped)
    private var connections: [LoadConnection] = []
    private(set) var answered = 0
    private(set) var closed = 0
    private(set) var lastCloseReason = ""

    init() throws {
        owner = try LoadLoop()
        owner.start(name: "ratsbote-idle")
        // The relay closes a connection after 300 s without a byte (idleTimeoutSeconds by
        // default), so idle clients ping, as real ones do.
        owner.sync { [self] in
            owner.loop.scheduleRepeating(every: IdleConnections.keepAliveSeconds) { [unowned self] in
                for connection in connections where connection.isEstablished { connection.post(.ping) }
            }
        }
    }

    /// The interval between pings of an idle connection, well inside the relay's default idle timeout.
    static let keepAliveSeconds = 60.0

    /// Opens `count` connections with at most `concurrent` handshakes at a time, so none exceeds
    /// the relay's handshake timeout while the 2 cores work through the key agreements.
    func open(count: Int, concurrent: Int = 200, port: UInt16, relayKey: X25519PublicKey, progress: (Int) -> Void) throws {
        var opened = 0
        let deadline = Date().addingTimeInterval(Double(count) / 50 + 60)
        while opened < count {
            let waiting = owner.sync { [self] in connections.count - answered - closed }
            let batch = Swift.min(concurrent - waiting, count - opened)
            if batch > 0 {
                let result: Result<Void, any Error> = owner.sync { [self] in
                    Result {
                        for _ in 0..<batch {
                            let connection = try LoadConnection(on: owner, port: port, relayKey: relayKey, transportKey: transportKey)
                            connection.delegate = self
                            connections.append(connection)
                        }
                    }
                }
                try result.get()
                opened += batch
                if opened % 1000 < batch { progress(opened) }
            } else {
                usleep(2_000)
            }
            let failures = owner.sync { [self] in (closed, lastCloseReason) }
            if failures.0 > 0 {
                throw RelayBenchError(description: "\(failures.0) idle connections were closed; last reason: \(failures.1)")
            }
            guard Date() < deadline else { throw RelayBenchError(description: "opening \(count) connections timed out") }
        }
        let done = waitUntil(seconds: 60) { $0.answered + $0.closed >= count }
        let state = owner.sync { [self] in (answered, closed, lastCloseReason) }
        guard done, state.1 == 0 else {
            throw RelayBenchError(
                description: "\(state.0) of \(count) idle connections answered, \(state.1) closed (last reason: \(state.2))")
        }
    }

    /// The number of connections that received a response to their ping, less those closed since.
    var openCount: Int { owner.sync { [self] in answered - closed } }

    /// The number of connections the relay closed, or that failed.
    var closedCount: Int { owner.sync { [self] in closed } }

    /// Closes every connection and stops the thread.
    func shutdown() {
        owner.sync { [self] in
            for connection in connections { connection.close(reason: "finished") }
        }
        owner.stopAndJoin()
    }

    private func waitUntil(seconds: Double, _ condition: @escaping (IdleConnections) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if owner.sync({ [self] in condition(self) }) { return true }
            usleep(10_000)
        }
        return false
    }

    func connectionEstablished(_ connection: LoadConnection) {
        connection.post(.ping)
    }

    func connection(_ connection: LoadConnection, received frame: RelayFrame) {
        // Count only the first response, to the ping sent after the handshake; tag marks it.
        if case .response = frame, connection.tag == 0 {
            connection.tag = 1
            answered += 1
        }
    }

    func connectionClosed(_ connection: LoadConnection, reason: String) {
        if reason != "finished" {
            closed += 1
            lastCloseReason = reason
        }
    }
}
