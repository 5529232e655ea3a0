import Foundation
import RatsboteCrypto
import RatsboteNoise
import RatsboteWire

/// A blocking connection to the relay: TCP, the Noise IK handshake with the relay's pinned key,
/// then request/response frames with pushes queued in between.
///
/// Every wait is bounded by `timeout`, so a relay that stops answering fails the operation
/// instead of hanging it. One thread uses a connection at a time.
final class RelayConnection {
    private let fd: Int32
    private var transport: NoiseTransport
    private var encoder = NoiseStreamEncoder()
    private var decoder = NoiseStreamDecoder(maximumFrame: WireLimits.frame)
    private var nextRequestId: UInt32 = 1
    private var pushes: [RelayPush] = []
    private let timeout: TimeInterval
    let address: String

    init(host: String, port: UInt16, relayKey: X25519PublicKey, transportKey: X25519PrivateKey, timeout: TimeInterval = 15) throws {
        self.address = "\(host):\(port)"
        self.timeout = timeout
        let fd = try Self.connect(host: host, port: port, timeout: timeout)
        self.fd = fd

        do {
            var handshake = try NoiseHandshake(
                pattern: .IK, role: .initiator, prologue: RatsboteTransport.prologue, localStatic: transportKey, remoteStatic: relayKey)
            let first = try handshake.writeMessage(payload: ClientHello().encoded())
            try Self.sendAll(fd, Self.lengthPrefixed(first), timeout: timeout, address: address)

            var decoder = NoiseStreamDecoder(maximumFrame: WireLimits.frame)
            let deadline = Date().addingTimeInterval(timeout)
            var reply: [UInt8]?
            while reply == nil {
                reply = try decoder.nextNoiseMessage()
                if reply == nil { decoder.append(try Self.receiveSome(fd, deadline: deadline, address: address)) }
            }
            _ = try handshake.readMessage(reply!)
            self.transport = try handshake.split()
            self.decoder = decoder
        } catch ClientError.relayUnreachable(let address, let reason) where reason != Self.timedOut {
            // The TCP connection worked but the relay dropped the handshake: the relay key
            // pinned from the invite code is not this relay's key.
            Glibc.close(fd)
            throw ClientError.handshakeRejected(address: address, reason: reason)
        } catch {
            Glibc.close(fd)
            throw Self.describe(error, address: "\(host):\(port)")
        }
    }

    deinit {
        Glibc.close(fd)
    }

    /// Sends a request and waits for its response; pushes that arrive meanwhile are queued.
    ///
    /// - Throws: ``ClientError/relay(_:)`` when the relay answers with an error.
    func request(_ request: RelayRequest) throws -> RelayResponse {
        let id = nextRequestId
        nextRequestId &+= 1
        try sendFrame(.request(id: id, request))

        let deadline = Date().addingTimeInterval(timeout)
        while true {
            switch try readFrame(deadline: deadline) {
            case .response(let responseId, let response) where responseId == id:
                if case .failure(let failure) = response { throw ClientError.relay(failure) }
                return response
            case .response(0, .failure(let failure)):
                // Request id 0 answers no request: the relay rejects the connection itself, for
                // example because this device was revoked.
                throw ClientError.relay(failure)
            case .response(let responseId, _):
                throw ClientError.protocolViolation("response for request \(responseId), expected \(id)")
            case .push(let push):
                pushes.append(push)
            case .request:
                throw ClientError.protocolViolation("the relay sent a request frame")
            case nil:
                throw ClientError.relayUnreachable(address: address, reason: Self.timedOut)
            }
        }
    }

    /// Returns the next push, waiting at most `wait` seconds; `nil` when none arrived.
    func nextPush(wait: TimeInterval) throws -> RelayPush? {
        if !pushes.isEmpty { return pushes.removeFirst() }
        let deadline = Date().addingTimeInterval(wait)
        while true {
            guard let frame = try readFrame(deadline: deadline, allowTimeout: true) else { return nil }
            switch frame {
            case .push(let push): return push
            case .response, .request: throw ClientError.protocolViolation("unexpected frame while waiting for envelopes")
            }
        }
    }

    private func sendFrame(_ frame: RelayFrame) throws {
        do {
            let bytes = try encoder.encode(frame: frame.encoded(), with: &transport)
            try Self.sendAll(fd, bytes, timeout: timeout, address: address)
        } catch {
            throw Self.describe(error, address: address)
        }
    }

    private func readFrame(deadline: Date, allowTimeout: Bool = false) throws -> RelayFrame? {
        do {
            while true {
                if let payload = try decoder.nextFrame(with: &transport) {
                    return try RelayFrame.decode(payload)
                }
                if allowTimeout, Date() >= deadline { return nil }
                let bytes: [UInt8]
                do {
                    bytes = try Self.receiveSome(fd, deadline: deadline, address: address)
                } catch ClientError.relayUnreachable(_, let reason) where allowTimeout && reason == Self.timedOut {
                    return nil
                }
                decoder.append(bytes)
            }
        } catch let error as ClientError {
            throw error
        } catch {
            throw Self.describe(error, address: address)
        }
    }

    // MARK: - Sockets

    static let timedOut = "timed out"

    private static func describe(_ error: Error, address: String) -> Error {
        if error is ClientError { return error }
        return ClientError.protocolViolation("\(error)")
    }

    private static func lengthPrefixed(_ message: [UInt8]) -> [UInt8] {
        [UInt8(message.count >> 8), UInt8(message.count & 0xff)] + message
    }

    private static func connect(host: String, port: UInt16, timeout: TimeInterval) throws -> Int32 {
        let address = "\(host):\(port)"
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            throw ClientError.relayUnreachable(address: address, reason: String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(result) }

        var lastReason = "no address"
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))

            // Non-blocking connect bounded by poll, then back to blocking mode.
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            var connected = Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0
            if !connected && errno == EINPROGRESS {
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                if poll(&pfd, 1, Int32(timeout * 1000)) == 1 {
                    var error: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                    connected = error == 0
                    if error != 0 { lastReason = String(cString: strerror(error)) }
                } else {
                    lastReason = timedOut
                }
            } else if !connected {
                lastReason = String(cString: strerror(errno))
            }
            if connected {
                _ = fcntl(fd, F_SETFL, flags)
                return fd
            }
            Glibc.close(fd)
        }
        throw ClientError.relayUnreachable(address: address, reason: lastReason)
    }

    private static func sendAll(_ fd: Int32, _ bytes: [UInt8], timeout: TimeInterval, address: String) throws {
        var offset = 0
        let deadline = Date().addingTimeInterval(timeout)
        while offset < bytes.count {
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let remaining = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
            guard poll(&pfd, 1, remaining) == 1 else {
                throw ClientError.relayUnreachable(address: address, reason: timedOut)
            }
            let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw ClientError.relayUnreachable(address: address, reason: String(cString: strerror(errno)))
            }
            offset += sent
        }
    }

    private static func receiveSome(_ fd: Int32, deadline: Date, address: String) throws -> [UInt8] {
        while true {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let remaining = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
            let ready = poll(&pfd, 1, remaining)
            if ready < 0 && errno == EINTR { continue }
            guard ready == 1 else { throw ClientError.relayUnreachable(address: address, reason: timedOut) }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, 65536, 0) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw ClientError.relayUnreachable(address: address, reason: String(cString: strerror(errno)))
            }
            if count == 0 { throw ClientError.relayUnreachable(address: address, reason: "connection closed by the relay") }
            buffer.removeLast(buffer.count - count)
            return buffer
        }
    }
}
