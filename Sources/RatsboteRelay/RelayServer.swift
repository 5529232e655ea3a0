import Foundation
import Glibc
import RatsboteCrypto
import RatsboteNet
import RatsboteNoise
import RatsboteSupport
import RatsboteWire

/// The running relay: one epoll thread for every connection and one storage thread.
///
/// Connections, the registry of online devices and the limit log live on the loop thread.
/// ``run(onListening:)`` blocks until ``shutdown()``, which stops accepting, lets queued
/// storage work commit and sends its responses, and then returns.
public final class RelayServer: @unchecked Sendable {
    // @unchecked: all mutable state below is touched only on the event loop thread; `shutdown()`
    // only posts a task to the loop.
    let configuration: RelayConfiguration
    let relayKey: X25519PrivateKey
    /// Signs participant certificates at enrollment and the revocation list on request.
    let issuer: CertificateIssuer
    let logger: Logger
    let clock: RelayClock
    let loop: EventLoop
    let storage: StorageQueue
    /// Document blobs, on their own thread.
    let blobs: BlobService
    private let listener: TCPListener

    private var connections: [UInt64: RelayConnection] = [:]
    /// Established connections by device row, for pushes.
    private var online: [Int64: [RelayConnection]] = [:]
    private var nextConnectionId: UInt64 = 1
    var limitLog = LimitLog()
    /// Send-rate buckets by device row, shared by all connections of a device. A bucket stays
    /// after disconnect, so reconnecting does not refill it.
    private var sendBuckets: [Int64: TokenBucket] = [:]
    /// One read buffer for every connection: reads happen one at a time on the loop thread, and
    /// a buffer per connection would cost 64 KiB for each idle client.
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    /// Set while accepting fails (for example EMFILE), so the level-triggered listener does not spin.
    private var acceptPausedUntil: Double?
    /// True while storage completions run; output is then collected and written once per connection.
    private(set) var isCompletingBatch = false
    private var connectionsToFlush: [RelayConnection] = []
    private(set) var isShuttingDown = false
    private var shutdownDeadline = 0.0

    /// The address the listener is bound to.
    public var listeningAddress: SocketAddress { listener.boundAddress }

    /// Opens the store and binds the listener; nothing is accepted until ``run(onListening:)``.
    ///
    /// - Throws: ``RelayError`` for a missing or invalid data folder, ``RelayError/listenFailed(address:reason:)``.
    public init(folder: RelayDataFolder, listen address: SocketAddress, logger: Logger, clock: RelayClock = RelayClock()) throws {
        self.configuration = try folder.loadConfiguration()
        self.relayKey = try folder.loadRelayKey()
        self.issuer = try folder.loadIssuer()
        self.logger = logger
        self.clock = clock
        self.loop = try EventLoop()
        let store = try folder.openStore()
        self.storage = StorageQueue(store: store, loop: loop, logger: logger)
        self.blobs = BlobService(store: try BlobStore(dataPath: folder.path), limits: configuration.blobs)
        do {
            self.listener = try TCPListener(address: address)
        } catch {
            throw RelayError.listenFailed(address: address.description, reason: "\(error)")
        }
    }

    /// Serves until ``shutdown()``; `onListening` is called once the listener accepts.
    public func run(onListening: (SocketAddress) -> Void) throws {
        let fileLimit = Socket.raiseOpenFileLimit()
        let connectionLimit = configuration.limits.maximumConnections
        if fileLimit < UInt64(connectionLimit + 64) {
            // Accepting then fails with EMFILE before the configured limit is reached.
            logger.warning(
                "open file limit is below the connection limit",
                ["openFileLimit": .public(String(fileLimit)), "maximumConnections": .public(String(connectionLimit))])
        }
        storage.start()
        if clock.offsetSeconds != 0 {
            logger.warning("clock offset in effect (test use only)", ["offsetSeconds": .public(String(clock.offsetSeconds))])
        }

        storage.afterBatch = { [unowned self] in flushAfterBatch() }
        storage.beforeBatch = { [unowned self] in isCompletingBatch = true }
        try loop.register(listener.descriptor, for: .readable) { [unowned self] _ in acceptConnections() }
        loop.scheduleRepeating(every: 0.5) { [unowned self] in checkTimeouts() }
        loop.scheduleRepeating(every: configuration.sweepIntervalSeconds) { [unowned self] in sweep() }
        // Output buffered for slow readers during a stall is freed afterwards. Without a trim the
        // relay's resident memory would stay at the stall's peak, as in the soak runs of docs/reliability.md.
        loop.scheduleRepeating(every: 10) { [logger] in
            let started = EventLoop.now()
            ProcessMemory.trim()
            logger.debug("memory trimmed", ["microseconds": .public(String(Int((EventLoop.now() - started) * 1e6)))])
        }
        sweep()

        logger.info(
            "relay started",
            ["address": .public(listener.boundAddress.description), "openFileLimit": .public(String(fileLimit))])
        onListening(listener.boundAddress)
        loop.run()

        for connection in Array(connections.values) { connection.close(reason: "shutdown") }
        storage.stopAndWait()
        listener.close()
        readBuffer.deallocate()
        logger.info("relay stopped")
    }

    /// Stops accepting and drains; callable from any thread (a signal handler's queue).
    public func shutdown() {
        loop.execute { [self] in
            guard !isShuttingDown else { return }
            isShuttingDown = true
            shutdownDeadline = EventLoop.now() + 5
            loop.unregister(listener.descriptor)
            logger.info("relay stopping", ["connections": .public(String(connections.count))])
            checkDrained()
        }
    }

    private func checkDrained() {
        let busy = connections.values.contains { $0.hasPendingWork }
        if (storage.pendingCount == 0 && !busy) || EventLoop.now() > shutdownDeadline {
            loop.stop()
        }
    }

    // MARK: - Connections

    private func acceptConnections() {
        // Accept a bounded number per wake-up so established connections are not starved.
        for _ in 0..<256 {
            let accepted: (descriptor: Int32, peer: SocketAddress)?
            do {
                accepted = try listener.accept()
            } catch {
                // Out of descriptors or memory: pause accepting for a second instead of spinning.
                limitLog.record("accept", code: 0, logger: logger.with("error", .public("\(error)")), now: EventLoop.now())
                acceptPausedUntil = EventLoop.now() + 1
                loop.modify(listener.descriptor, for: [])
                return
            }
            guard let (descriptor, _) = accepted else { return }

            let limits = configuration.limits
            // Above the limit the connection still completes the handshake to receive the
            // numbered error; far above it (a flood) it is closed at once.
            if connections.count >= limits.maximumConnections + 64 {
                limitLog.record("connections", code: RelayErrorCode.tooManyConnections.rawValue, logger: logger, now: EventLoop.now())
                Socket.close(descriptor)
                continue
            }
            let id = nextConnectionId
            nextConnectionId += 1
            do {
                let connection = try RelayConnection(id: id, descriptor: descriptor, server: self)
                connection.rejectAfterHandshake = connections.count >= limits.maximumConnections
                connections[id] = connection
                try loop.register(descriptor, for: .readable) { [unowned connection] events in connection.handle(events) }
                logger.info("connection opened", ["connection": .public(String(id)), "open": .public(String(connections.count))])
            } catch {
                connections[id] = nil
                Socket.close(descriptor)
                logger.error("connection setup failed", ["error": .public("\(error)")])
            }
        }
    }

    func connectionClosed(_ connection: RelayConnection, reason: String) {
        loop.unregister(connection.descriptor)
        connections[connection.id] = nil
        if let row = connection.device?.rowId, var list = online[row] {
            list.removeAll { $0 === connection }
            online[row] = list.isEmpty ? nil : list
        }
        logger.info("connection closed", ["connection": .public(String(connection.id)), "reason": .public(reason)])
        if isShuttingDown { checkDrained() }
    }

    /// Registers an authenticated connection; `false` when its device has too many.
    func register(_ connection: RelayConnection, device row: Int64) -> Bool {
        let list = online[row] ?? []
        guard list.count < configuration.limits.maximumConnectionsPerDevice else { return false }
        online[row] = list + [connection]
        return true
    }

    /// Takes one send token of `device`; `false` when it sends faster than its rate.
    func takeSendToken(device row: Int64) -> Bool {
        let now = EventLoop.now()
        let limits = configuration.limits
        var bucket = sendBuckets[row] ?? TokenBucket(rate: limits.sendsPerSecond, burst: limits.sendBurst, now: now)
        let allowed = bucket.take(now: now)
        sendBuckets[row] = bucket
        return allowed
    }

    /// Offers a newly stored envelope to the recipient's open connections.
    func deliver(_ envelope: StoredEnvelope, to row: Int64) {
        for connection in online[row] ?? [] { connection.offer(envelope) }
    }

    /// Tells a device's open connections to refill one-time prekeys.
    func notifyPrekeysLow(row: Int64, remaining: UInt32) {
        for connection in online[row] ?? [] { connection.push(.prekeysLow(remaining: remaining)) }
    }

    /// Queues `connection` for one write after the current batch of storage completions.
    func flushAfterBatch(_ connection: RelayConnection) {
        connectionsToFlush.append(connection)
    }

    private func flushAfterBatch() {
        isCompletingBatch = false
        let connections = connectionsToFlush
        connectionsToFlush.removeAll(keepingCapacity: true)
        for connection in connections { connection.flushQueuedOutput() }
    }

    func afterStorageCompletion() {
        if isShuttingDown { checkDrained() }
    }

    private func checkTimeouts() {
        let now = EventLoop.now()
        if let until = acceptPausedUntil, now >= until, !isShuttingDown {
            acceptPausedUntil = nil
            loop.modify(listener.descriptor, for: .readable)
        }
        for connection in Array(connections.values) { connection.checkTimeouts(now: now) }
        if isShuttingDown { checkDrained() }
    }

    /// Deletes expired envelopes, and closes connections of devices the operator revoked since
    /// they connected (`revoke` runs in another process, so the relay learns of it here).
    private func sweep() {
        let now = clock.now()
        let logger = self.logger
        let onlineRows = Array(online.keys)
        blobs.sweep(now: now, logger: logger)
        storage.submit { [self] store in
            do {
                let count = try store.savepoint { try store.sweepExpired(now: now) }
                if count > 0 { logger.info("expired envelopes swept", ["count": .public(String(count))]) }
            } catch {
                logger.error("expiry sweep failed", ["error": .public("\(error)")])
            }
            let revoked = (try? store.revokedDevices(among: onlineRows)) ?? []
            return { _ in
                for row in revoked {
                    for connection in self.online[row] ?? [] { connection.revoke() }
                }
            }
        }
    }
}
