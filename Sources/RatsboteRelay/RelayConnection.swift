import Foundation
import Glibc
import RatsboteCrypto
import RatsboteNet
import RatsboteNoise
import RatsboteSupport
import RatsboteWire

/// One client connection, confined to the event loop thread.
///
/// Lifecycle: the Noise IK handshake (`handshaking`), a storage lookup of the client's static key
/// (`authenticating`), then relay frames (`established`). Requests that touch storage go to the
/// storage thread, and their responses are sent from its completion. At most
/// ``RelayLimits/maximumRequestsInFlight`` wait at a time, and the connection stops reading while
/// that many wait or while its output exceeds ``RelayLimits/outputHighWaterBytes``.
final class RelayConnection: @unchecked Sendable {
    // @unchecked: every property is read and written on the event loop thread only. Storage jobs
    // capture the connection solely to post their completion back to that thread.
    /// Where the connection is in its lifecycle.
    enum Phase {
        /// Waiting for handshake message 1.
        case handshaking(NoiseHandshake)
        /// Handshake done; the device lookup is in the storage queue.
        case authenticating(NoiseTransport)
        /// Frames flow both ways.
        case established(NoiseTransport)
        /// Closed; nothing more is read or written.
        case closed
    }

    /// The delivery mode of envelopes after the client sent `receive`.
    enum Delivery {
        /// The client has not asked to receive.
        case off
        /// Envelopes wait in storage beyond what was pushed; the next page is fetched when the
        /// output drains. New envelopes are not pushed directly, the next page carries them.
        case catchingUp
        /// A page fetch is in the storage queue.
        case fetching
        /// Everything stored was pushed; new envelopes are pushed as they are committed.
        case live
    }

    let id: UInt64
    let descriptor: Int32
    unowned let server: RelayServer
    private var phase: Phase
    private var decoder: NoiseStreamDecoder
    private var encoder: NoiseStreamEncoder
    private var output: [UInt8] = []
    private var outputStart = 0
    private let openedAt: Double
    private var lastReceivedAt: Double
    var inFlight = 0
    /// Blob requests waiting for the blob thread; reading pauses at ``maximumBlobRequestsInFlight``.
    var blobRequestsInFlight = 0
    private var closeWhenFlushed = false
    /// Set while this connection waits in the server's after-batch flush list.
    private var flushQueued = false
    private var watchingWrite = false
    private var readingPaused = false

    /// The Noise static key of the client, its device transport key.
    private(set) var remoteKey: [UInt8] = []
    /// The enrolled device, once known.
    private(set) var device: DeviceRecord?
    /// Set when the relay was already at its connection limit at accept time.
    var rejectAfterHandshake = false
    private var delivery: Delivery = .off
    private var lastPushedId: UInt64 = 0

    private var limits: RelayLimits { server.configuration.limits }
    /// Envelopes per storage page while catching up.
    private let pageEnvelopes = 256

    init(id: UInt64, descriptor: Int32, server: RelayServer) throws {
        self.id = id
        self.descriptor = descriptor
        self.server = server
        self.phase = .handshaking(try RatsboteTransport.responderHandshake(localStatic: server.relayKey))
        let maximumFrame = server.configuration.limits.maximumFrameBytes
        self.decoder = NoiseStreamDecoder(maximumFrame: maximumFrame)
        self.encoder = NoiseStreamEncoder(maximumFrame: max(maximumFrame, WireLimits.frame))
        let now = EventLoop.now()
        self.openedAt = now
        self.lastReceivedAt = now
    }

    /// Whether a storage response or unsent output is still pending, for the drain on shutdown.
    var hasPendingWork: Bool { inFlight > 0 || outputStart < output.count }

    var logger: Logger { server.logger.with("connection", .public(String(id))) }

    // MARK: - Readiness

    func handle(_ events: IOEvents) {
        if !events.isDisjoint(with: .failed) && !events.contains(.readable) {
            // Nothing left to read and the socket is dead; closing stops the level-triggered event.
            close(reason: "peer hung up")
            return
        }
        if events.contains(.writable) { flush() }
        if events.contains(.readable) || events.contains(.readHangup) { readAvailable() }
    }

    private func readAvailable() {
        // A bounded number of reads per wake-up keeps one busy client from starving the others.
        for _ in 0..<16 {
            switch phase {
            case .closed, .authenticating: return
            case .established where readingPaused: return
            case .handshaking, .established: break
            }
            if !readOnce() { return }
        }
    }

    /// Reads once and processes what arrived; `false` when nothing more can be read now.
    private func readOnce() -> Bool {
        let buffer = server.readBuffer
        switch Socket.read(descriptor, into: buffer) {
        case .bytes(let count):
            lastReceivedAt = EventLoop.now()
            decoder.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            processInput()
            if case .closed = phase { return false }
            return count == buffer.count
        case .wouldBlock:
            return false
        case .closed:
            close(reason: "peer closed")
            return false
        case .failed(let code):
            close(reason: "read failed errno=\(code)")
            return false
        }
    }

    private func processInput() {
        switch phase {
        case .handshaking(var handshake):
            do {
                guard let message = try decoder.nextNoiseMessage() else { return }
                let payload = try handshake.readMessage(message)
                // Message 2 repeats the accepted version, as protocol/transport.md specifies. For a
                // version the relay does not speak it is empty, and error 15 follows as the first frame.
                let accepted = (try? ClientHello.decode(payload)).map { $0.version == RelayProtocol.version } ?? false
                let reply = try handshake.writeMessage(payload: accepted ? ClientHello().encoded() : [])
                guard let remote = handshake.remoteStaticKey else {
                    return fail(reason: "handshake without a static key")
                }
                let transport = try handshake.split()
                remoteKey = remote.rawRepresentation
                appendOutput(try NoiseStreamFraming.encode(noiseMessage: reply))
                handshakeFinished(helloPayload: payload, transport: transport)
            } catch {
                fail(reason: "handshake failed: \(error)")
            }
        case .established:
            processFrames()
        case .authenticating, .closed:
            return
        }
    }

    private func handshakeFinished(helloPayload: [UInt8], transport: NoiseTransport) {
        phase = .authenticating(transport)

        let hello = try? ClientHello.decode(helloPayload)
        guard let hello, hello.version == RelayProtocol.version else {
            phase = .established(transport)
            let version = hello.map { String($0.version) } ?? "unreadable"
            reject(RelayFailure(.unsupportedVersion, "relay protocol version \(version) is not supported; this relay speaks version \(RelayProtocol.version)"))
            return
        }
        if rejectAfterHandshake {
            phase = .established(transport)
            server.limitLog.record("connections", code: RelayErrorCode.tooManyConnections.rawValue, logger: server.logger, now: EventLoop.now())
            reject(RelayFailure(.tooManyConnections, "the relay has too many open connections; retry later"))
            return
        }

        let key = remoteKey
        inFlight += 1
        updateInterest()
        server.storage.submit { [self] store in
            let result = Result { try store.device(transportKey: key) }
            return { _ in self.authenticated(result) }
        }
    }

    private func authenticated(_ result: Result<DeviceRecord?, any Error>) {
        inFlight -= 1
        guard case .authenticating(let transport) = phase else { return }
        phase = .established(transport)
        switch result {
        case .failure(let error):
            logger.error("device lookup failed", ["error": .public("\(error)")])
            reject(RelayFailure(.internalError, "the relay could not read its database; retry later"))
            return
        case .success(let record):
            if let record {
                guard !record.isRevoked else {
                    reject(RelayFailure(.revoked, "this device was revoked by the operator"))
                    return
                }
                adopt(record)
                if case .closed = phase { return }
            }
        }
        processFrames()
        server.afterStorageCompletion()
    }

    /// Makes this connection the device's; closes it when the device has too many.
    private func adopt(_ record: DeviceRecord) {
        // An enrollment can complete after the client hung up; a closed connection must not
        // take a place in the registry.
        if case .closed = phase { return }
        guard server.register(self, device: record.rowId) else {
            server.limitLog.record(
                "connectionsPerDevice", code: RelayErrorCode.tooManyConnections.rawValue, logger: server.logger, now: EventLoop.now())
            reject(RelayFailure(.tooManyConnections, "this device has \(limits.maximumConnectionsPerDevice) connections open, the maximum"))
            return
        }
        device = record
    }

    // MARK: - Frames

    private func processFrames() {
        while inFlight < limits.maximumRequestsInFlight, blobRequestsInFlight < Self.maximumBlobRequestsInFlight, pendingOutput < limits.outputHighWaterBytes, !closeWhenFlushed {
            guard case .established(var transport) = phase else { return }
            let frame: [UInt8]?
            do {
                frame = try decoder.nextFrame(with: &transport)
                phase = .established(transport)
            } catch NoiseError.tooLarge(_, let maximum, let actual) {
                phase = .established(transport)
                server.limitLog.record("frameSize", code: RelayErrorCode.tooLarge.rawValue, logger: server.logger, now: EventLoop.now())
                reject(RelayFailure(.tooLarge, "a frame of \(actual) bytes exceeds the maximum of \(maximum)"))
                return
            } catch {
                return fail(reason: "transport failed: \(error)")
            }
            guard let frame else { break }
            handleFrame(frame)
        }
        updateInterest()
    }

    private func handleFrame(_ bytes: [UInt8]) {
        let decoded: RelayFrame
        do {
            decoded = try RelayFrame.decode(bytes)
        } catch {
            let requestId = bytes.count >= 5 && bytes[0] == 1 ? UInt32(bytes[1]) << 24 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 8 | UInt32(bytes[4]) : 0
            if case WireError.invalidValue(_, "opcode", _) = error {
                respond(requestId, .failure(RelayFailure(.unknownCommand, "unknown opcode; this relay speaks version \(RelayProtocol.version)")))
                return
            }
            logger.notice("malformed frame", ["error": .public("\(error)")])
            respond(requestId, .failure(RelayFailure(.malformedRequest, "the frame could not be decoded: \(error)")))
            closeWhenFlushed = true
            flush()
            return
        }
        guard case .request(let requestId, let request) = decoded else {
            logger.notice("malformed frame", ["error": .public("a client sent a response or push frame")])
            reject(RelayFailure(.malformedRequest, "clients send only request frames"))
            return
        }
        handle(request, id: requestId)
    }

    private func handle(_ request: RelayRequest, id requestId: UInt32) {
        if server.isShuttingDown, request != .ping {
            respond(requestId, .failure(RelayFailure(.shuttingDown, "the relay is shutting down; reconnect in a moment")))
            return
        }
        if case .enroll(let enroll) = request {
            return self.enroll(enroll, id: requestId)
        }
        guard let device else {
            respond(requestId, .failure(RelayFailure(.notEnrolled, "this device is not enrolled; enroll with an invite code first")))
            return
        }
        switch request {
        case .enroll:
            break
        case .ping:
            respond(requestId, .pong)
        case .send(let send):
            self.send(send, id: requestId)
        case .receive:
            startReceiving(id: requestId, device: device)
        case .acknowledge(let ids):
            let row = device.rowId
            submit(requestId) { store in
                try store.writeOrAbortBatch { try store.acknowledge(deviceRow: row, ids: ids) }
                return (.done, {})
            }
        case .uploadPrekeys(let signed, let oneTime):
            let row = device.rowId
            submit(requestId) { store in
                try store.savepoint { try store.uploadPrekeys(deviceRow: row, signed: signed, oneTime: oneTime) }
                return (.done, {})
            }
        case .claimPrekeys(let userId):
            let threshold = server.configuration.prekeysLowThreshold
            submit(requestId) { [unowned server] store in
                let claim = try store.savepoint { try store.claimPrekeys(userId: userId, lowThreshold: threshold) }
                let low = claim.lowDevices.map { ($0.rowId, $0.remaining) }
                return (.prekeys(claim.bundles), { for (row, remaining) in low { server.notifyPrekeysLow(row: row, remaining: remaining) } })
            }
        case .directory(let query):
            submit(requestId) { store in (.directory(try store.directory(query: query)), {}) }
        case .blob(let blob):
            handleBlob(blob, id: requestId, device: device)
        case .trust:
            let issuer = server.issuer
            let now = server.clock.now()
            submit(requestId) { store in (.trust(try issuer.trustMaterial(from: store, now: now)), {}) }
        }
    }

    /// Runs `work` on the storage thread and sends its response after the commit.
    ///
    /// `work` returns the response and a follow-up that runs on the loop only when committed.
    private func submit(
        _ requestId: UInt32, _ work: @escaping @Sendable (any RelayStore) throws -> (RelayResponse, @Sendable () -> Void)
    ) {
        inFlight += 1
        let logger = self.logger
        server.storage.submit { [self] store in
            let result: Result<(RelayResponse, @Sendable () -> Void), RelayFailure>
            do {
                result = .success(try work(store))
            } catch let failure as RelayFailure {
                result = .failure(failure)
            } catch {
                logger.error("storage operation failed", ["error": .public("\(error)")])
                result = .failure(RelayFailure(.internalError, "the relay could not complete the request; retry"))
            }
            return { committed in
                self.inFlight -= 1
                switch result {
                case .success(let (response, followUp)) where committed:
                    self.respond(requestId, response)
                    followUp()
                case .success:
                    self.respond(requestId, .failure(RelayFailure(.internalError, "the relay could not commit; retry")))
                case .failure(let failure):
                    self.respond(requestId, .failure(failure))
                }
                self.resume()
            }
        }
    }

    // MARK: - Commands

    private func enroll(_ request: EnrollRequest, id requestId: UInt32) {
        guard device == nil else {
            respond(requestId, .failure(RelayFailure(.alreadyEnrolled, "this device is already enrolled")))
            return
        }
        let signed = EnrollRequest.signedBytes(token: request.token, envelopeKey: request.envelopeKey, transportKey: remoteKey)
        guard let identity = try? Ed25519PublicKey(rawRepresentation: request.identityKey),
            identity.isValidSignature(request.signature, for: signed)
        else {
            respond(requestId, .failure(RelayFailure(.malformedRequest, "the enrollment signature does not verify with the identity key")))
            return
        }
        guard let tokenHash = try? BLAKE2b.hash(request.token) else { return fail(reason: "BLAKE2b failed") }
        let transportKey = remoteKey
        let now = server.clock.now()
        let issuer = server.issuer
        submit(requestId) { [self] store in
            let enrollment = try store.savepoint {
                let enrollment = try store.enroll(
                    inviteTokenHash: tokenHash, transportKey: transportKey, identityKey: request.identityKey,
                    envelopeKey: request.envelopeKey, suite: request.suite.rawValue, now: now)
                // The certificate commits with the device, so no enrolled device lacks one.
                try issuer.issue(deviceRow: enrollment.device.rowId, in: store, now: now)
                return enrollment
            }
            let response = RelayResponse.enrolled(
                address: enrollment.device.address, displayName: enrollment.displayName, role: enrollment.role, unit: enrollment.unit)
            return (response, { self.adopt(enrollment.device) })
        }
    }

    private func send(_ request: SendRequest, id requestId: UInt32) {
        guard let row = device?.rowId, server.takeSendToken(device: row) else {
            server.limitLog.record("sendRate", code: RelayErrorCode.rateLimited.rawValue, logger: server.logger, now: EventLoop.now())
            respond(requestId, .failure(RelayFailure(.rateLimited, "more than \(Int(limits.sendsPerSecond)) sends per second; slow down and retry")))
            return
        }
        guard let dedupeKey = try? BLAKE2b.hash(remoteKey + request.idempotencyId) else { return fail(reason: "BLAKE2b failed") }
        let pending = PendingSend(dedupeKey: dedupeKey, recipient: request.recipient, timeToLive: request.timeToLive, sealed: request.sealed)
        let ttl = Int64(server.configuration.envelopeTimeToLiveSeconds)
        let limits = self.limits
        let now = server.clock.now()
        let sealed = request.sealed
        submit(requestId) { [unowned server] store in
            // No savepoint per send: `store` rejects before its first write, and a failed write
            // rolls back the whole batch. Savepoints for sends and acknowledgements cost about 30 of
            // 108 µs of storage CPU per envelope (`relay storage` benchmark case).
            let stored = try store.writeOrAbortBatch { try store.store(pending, defaultTimeToLive: ttl, limits: limits, now: now) }
            let envelope = StoredEnvelope(id: stored.envelopeId, receivedAt: stored.receivedAt, sealed: sealed)
            return (.stored(envelopeId: stored.envelopeId), { if let row = stored.recipientRow { server.deliver(envelope, to: row) } })
        }
    }

    private func startReceiving(id requestId: UInt32, device: DeviceRecord) {
        let row = device.rowId
        let page = pageEnvelopes
        let pageBytes = limits.outputHighWaterBytes
        delivery = .fetching
        lastPushedId = 0
        inFlight += 1
        server.storage.submit { [self] store in
            let result = Result {
                let summary = try store.beginReceive(deviceRow: row)
                let envelopes = try store.envelopes(deviceRow: row, afterId: 0, limit: page, maximumBytes: pageBytes)
                return (summary, envelopes)
            }
            return { committed in
                self.inFlight -= 1
                switch result {
                case .success(let (summary, envelopes)) where committed:
                    self.respond(
                        requestId,
                        .receiving(backlog: summary.backlog, expiredUnread: summary.expiredUnread, expiredSince: summary.expiredSince))
                    if let remaining = summary.prekeysLow { self.push(.prekeysLow(remaining: remaining)) }
                    self.pageArrived(envelopes)
                default:
                    self.delivery = .off
                    self.respond(requestId, .failure(RelayFailure(.internalError, "the relay could not read the mailbox; retry")))
                }
                self.resume()
            }
        }
    }

    private func pageArrived(_ envelopes: [StoredEnvelope]) {
        guard case .fetching = delivery, !isClosed else { return }
        for envelope in envelopes where envelope.id > lastPushedId {
            push(.envelope(id: envelope.id, receivedAt: envelope.receivedAt, sealed: envelope.sealed))
            lastPushedId = envelope.id
        }
        // Only an empty page proves that storage held nothing newer when it was read (a page
        // can also end at its byte budget). Anything committed after that read reaches `offer`
        // after this completion, because the storage thread and the loop both keep order.
        delivery = envelopes.isEmpty ? .live : .catchingUp
        fetchNextPageIfReady()
    }

    private func fetchNextPageIfReady() {
        guard case .catchingUp = delivery, pendingOutput < limits.outputHighWaterBytes / 2, let row = device?.rowId else { return }
        delivery = .fetching
        let after = lastPushedId
        let page = pageEnvelopes
        let pageBytes = limits.outputHighWaterBytes
        inFlight += 1
        server.storage.submit { [self] store in
            let result = Result { try store.envelopes(deviceRow: row, afterId: after, limit: page, maximumBytes: pageBytes) }
            return { _ in
                self.inFlight -= 1
                switch result {
                case .success(let envelopes):
                    self.pageArrived(envelopes)
                case .failure(let error):
                    self.logger.error("mailbox read failed", ["error": .public("\(error)")])
                    self.delivery = .catchingUp
                }
                self.resume()
            }
        }
    }

    /// Pushes a newly committed envelope if this connection is live and has room.
    func offer(_ envelope: StoredEnvelope) {
        guard case .live = delivery, envelope.id > lastPushedId else { return }
        guard pendingOutput < limits.outputHighWaterBytes else {
            // The client reads slowly: stop pushing directly and page from storage once it drains.
            delivery = .catchingUp
            logger.debug("delivery paused", ["queuedBytes": .public(String(pendingOutput))])
            return
        }
        push(.envelope(id: envelope.id, receivedAt: envelope.receivedAt, sealed: envelope.sealed))
        lastPushedId = envelope.id
    }

    // MARK: - Output

    private var pendingOutput: Int { output.count - outputStart }

    private var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }

    func push(_ push: RelayPush) {
        send(.push(push))
    }

    func respond(_ requestId: UInt32, _ response: RelayResponse) {
        send(.response(id: requestId, response))
    }

    private func send(_ frame: RelayFrame) {
        guard case .established(var transport) = phase else { return }
        do {
            let bytes = try encoder.encode(frame: frame.encoded(), with: &transport)
            phase = .established(transport)
            appendOutput(bytes)
        } catch {
            fail(reason: "encrypting a frame failed: \(error)")
        }
    }

    /// Sends a failure with request id 0 and closes once it is written.
    private func reject(_ failure: RelayFailure) {
        logger.info("connection rejected", ["code": .public(String(failure.rawCode))])
        respond(0, .failure(failure))
        closeWhenFlushed = true
        flush()
    }

    private func appendOutput(_ bytes: [UInt8]) {
        if outputStart > 0 && outputStart >= output.count / 2 {
            output.removeFirst(outputStart)
            outputStart = 0
        }
        output.append(contentsOf: bytes)
        if server.isCompletingBatch {
            // Many responses of one storage batch often go to the same connection; one write
            // after the batch replaces a system call per response.
            if !flushQueued {
                flushQueued = true
                server.flushAfterBatch(self)
            }
            return
        }
        flush()
    }

    /// Writes output collected during a batch of storage completions.
    func flushQueuedOutput() {
        flushQueued = false
        flush()
    }

    private func flush() {
        if case .closed = phase { return }
        while outputStart < output.count {
            let result = output.withUnsafeBytes { buffer in
                Socket.write(descriptor, from: UnsafeRawBufferPointer(rebasing: buffer[outputStart...]))
            }
            switch result {
            case .bytes(let count):
                outputStart += count
            case .wouldBlock:
                updateInterest()
                return
            case .closed, .failed:
                close(reason: "write failed")
                return
            }
        }
        // Idle connections keep no large buffer, so 10,000 of them stay small.
        output.removeAll(keepingCapacity: output.capacity <= 16 * 1024)
        outputStart = 0
        if closeWhenFlushed {
            close(reason: "rejected")
            return
        }
        updateInterest()
        fetchNextPageIfReady()
    }

    /// Called after a storage completion: take more frames and more pages.
    func resume() {
        if case .closed = phase { return }
        processFrames()
        fetchNextPageIfReady()
        server.afterStorageCompletion()
    }

    private func updateInterest() {
        if case .closed = phase { return }
        let wantWrite = outputStart < output.count
        var authenticating = false
        if case .authenticating = phase { authenticating = true }
        let pause =
            authenticating || inFlight >= limits.maximumRequestsInFlight
            || blobRequestsInFlight >= Self.maximumBlobRequestsInFlight || pendingOutput >= limits.outputHighWaterBytes
            || closeWhenFlushed
        guard wantWrite != watchingWrite || pause != readingPaused else { return }
        watchingWrite = wantWrite
        let wasPaused = readingPaused
        readingPaused = pause
        var events: IOEvents = pause ? [] : .readable
        if wantWrite { events.insert(.writable) }
        server.loop.modify(descriptor, for: events)
        if wasPaused && !pause {
            // Frames may already sit decoded-ready in the buffer; take them now.
            processFrames()
        }
    }

    // MARK: - Closing

    /// Ends the connection of a device that was revoked while connected.
    func revoke() {
        reject(RelayFailure(.revoked, "this device was revoked by the operator"))
    }

    func checkTimeouts(now: Double) {
        switch phase {
        case .handshaking:
            if now - openedAt > limits.handshakeTimeoutSeconds {
                server.limitLog.record("handshakeTimeout", code: 0, logger: server.logger, now: now)
                close(reason: "handshake timeout")
            }
        case .established, .authenticating:
            if now - lastReceivedAt > limits.idleTimeoutSeconds {
                server.limitLog.record("idleTimeout", code: 0, logger: server.logger, now: now)
                close(reason: "idle timeout")
            }
        case .closed:
            break
        }
    }

    private func fail(reason: String) {
        logger.notice("connection failed", ["reason": .public(reason)])
        close(reason: "protocol error")
    }

    func close(reason: String) {
        if case .closed = phase { return }
        phase = .closed
        // Stops page fetches that completions of pending storage jobs would otherwise start.
        delivery = .off
        server.connectionClosed(self, reason: reason)
        Socket.close(descriptor)
    }
}
