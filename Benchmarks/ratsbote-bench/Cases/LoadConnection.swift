// Non-blocking relay client connections for load generation: many connections per thread on
// RatsboteNet's epoll loop, so 2 cores can drive hundreds of devices and hold 10,000 idle ones.

import Foundation
import Glibc
import RatsboteCrypto
import RatsboteNet
import RatsboteNoise
import RatsboteWire

/// The events of a connection, reported to the code that drives it on the loop thread.
protocol LoadConnectionDelegate: AnyObject {
    /// Handles the end of the handshake, after which requests may be posted.
    func connectionEstablished(_ connection: LoadConnection)
    /// Handles a response or push.
    func connection(_ connection: LoadConnection, received frame: RelayFrame)
    /// Runs after all frames of one read were handled, which suits batched acknowledgements.
    func connectionFinishedRead(_ connection: LoadConnection)
    /// Handles the close; the descriptor is already released.
    func connectionClosed(_ connection: LoadConnection, reason: String)
}

extension LoadConnectionDelegate {
    func connectionFinishedRead(_ connection: LoadConnection) {}
}

/// An epoll loop on its own thread with one read buffer shared by its connections.
final class LoadLoop: @unchecked Sendable {
    // @unchecked: `readBuffer` is used only on the loop thread; `loop` is thread-safe where used.
    let loop: EventLoop
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
    private let finished = DispatchSemaphore(value: 0)

    init() throws {
        loop = try EventLoop()
    }

    deinit {
        readBuffer.deallocate()
    }

    /// Starts the loop thread.
    func start(name: String) {
        let thread = Thread { [self] in
            loop.run()
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Runs `body` on the loop thread and waits for its result.
    func sync<Result>(_ body: @escaping () -> Result) -> Result {
        let box = ResultBox<Result>()
        box.body = body
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            box.value = box.body?()
            done.signal()
        }
        done.wait()
        return box.value!
    }

    /// Stops the loop and waits for its thread to end.
    func stopAndJoin() {
        loop.stop()
        finished.wait()
    }
}

/// Carries a closure to the loop thread and its value back to a waiting thread; the semaphore orders the accesses.
private final class ResultBox<Value>: @unchecked Sendable {
    var body: (() -> Value)?
    var value: Value?
}

/// One relay connection: non-blocking connect, Noise IK as initiator, then relay frames.
///
/// Confined to its loop's thread. Output is buffered and written when the socket accepts it.
final class LoadConnection: @unchecked Sendable {
    // @unchecked: every property is used on the owning loop's thread only.
    let descriptor: Int32
    let transportKey: X25519PrivateKey
    weak var delegate: (any LoadConnectionDelegate)?
    /// Free for the driver: the index of the device this connection belongs to.
    var tag = 0
    private let owner: LoadLoop
    private var handshake: NoiseHandshake?
    private var transport: NoiseTransport?
    private var encoder = NoiseStreamEncoder(maximumFrame: WireLimits.frame)
    private var decoder = NoiseStreamDecoder(maximumFrame: WireLimits.frame)
    private var output: [UInt8] = []
    private var outputStart = 0
    private var watchingWrite = false
    private var nextRequestId: UInt32 = 1
    private(set) var isClosed = false
    var isEstablished: Bool { transport != nil && !isClosed }

    /// Starts connecting to 127.0.0.1:`port` and queues handshake message 1; call on the loop thread.
    init(on owner: LoadLoop, port: UInt16, relayKey: X25519PublicKey, transportKey: X25519PrivateKey) throws {
        self.owner = owner
        self.transportKey = transportKey
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw NetError.systemCall("socket", errno: errno) }
        self.descriptor = descriptor
        do {
            try Socket.configureNonBlocking(descriptor)
            Socket.setNoDelay(descriptor)
            let address = try SocketAddress(parsing: "127.0.0.1:\(port)")
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_port = address.port.bigEndian
            socketAddress.sin_addr.s_addr = inet_addr(address.host)
            let rc = withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard rc == 0 || errno == EINPROGRESS else { throw NetError.systemCall("connect 127.0.0.1:\(port)", errno: errno) }

            var handshake = try RatsboteTransport.initiatorHandshake(localStatic: transportKey, relayStatic: relayKey)
            let first = try handshake.writeMessage(payload: ClientHello().encoded())
            self.handshake = handshake
            output = try NoiseStreamFraming.encode(noiseMessage: first)
            watchingWrite = true
            try owner.loop.register(descriptor, for: [.readable, .writable]) { [unowned self] events in handle(events) }
        } catch {
            Glibc.close(descriptor)
            throw error
        }
    }

    /// Sends `request` and returns its request id; does nothing once closed.
    @discardableResult
    func post(_ request: RelayRequest) -> UInt32 {
        let id = nextRequestId
        nextRequestId &+= 1
        guard !isClosed, var transport else { return id }
        do {
            let bytes = try encoder.encode(frame: RelayFrame.request(id: id, request).encoded(), with: &transport)
            self.transport = transport
            append(bytes)
        } catch {
            close(reason: "encrypting a request failed: \(error)")
        }
        return id
    }

    /// Closes the socket and tells the delegate; later calls do nothing.
    func close(reason: String) {
        guard !isClosed else { return }
        isClosed = true
        owner.loop.unregister(descriptor)
        Glibc.close(descriptor)
        output = []
        delegate?.connectionClosed(self, reason: reason)
    }

    // MARK: - Readiness

    private func handle(_ events: IOEvents) {
        if !events.isDisjoint(with: .failed) && !events.contains(.readable) {
            // Epoll reports a dead socket even when nothing is requested; closing stops the event.
            return close(reason: "connection failed or hung up")
        }
        if events.contains(.writable) { flush() }
        if !isClosed, !events.isDisjoint(with: [.readable, .readHangup]) { readAvailable() }
    }

    private func readAvailable() {
        // A bounded number of reads per wake-up keeps one busy connection from starving the rest.
        for _ in 0..<8 {
            let buffer = owner.readBuffer
            switch Socket.read(descriptor, into: buffer) {
            case .bytes(let count):
                decoder.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                processInput()
                if isClosed { return }
                if count < buffer.count {
                    delegate?.connectionFinishedRead(self)
                    return
                }
            case .wouldBlock:
                delegate?.connectionFinishedRead(self)
                return
            case .closed:
                close(reason: "closed by the relay")
                return
            case .failed(let code):
                close(reason: "read failed: \(String(cString: strerror(code)))")
                return
            }
        }
        delegate?.connectionFinishedRead(self)
    }

    private func processInput() {
        if var handshake {
            do {
                guard let reply = try decoder.nextNoiseMessage() else { return }
                _ = try handshake.readMessage(reply)
                transport = try handshake.split()
                self.handshake = nil
            } catch {
                return close(reason: "handshake failed: \(error)")
            }
            delegate?.connectionEstablished(self)
            if isClosed { return }
        }
        while !isClosed, var transport {
            let payload: [UInt8]?
            do {
                payload = try decoder.nextFrame(with: &transport)
                self.transport = transport
            } catch {
                return close(reason: "transport failed: \(error)")
            }
            guard let payload else { return }
            do {
                delegate?.connection(self, received: try RelayFrame.decode(payload))
            } catch {
                return close(reason: "undecodable frame: \(error)")
            }
        }
    }

    // MARK: - Output

    private func append(_ bytes: [UInt8]) {
        if outputStart > 0 && outputStart >= output.count / 2 {
            output.removeFirst(outputStart)
            outputStart = 0
        }
        output.append(contentsOf: bytes)
        if !watchingWrite { flush() }
    }

    private func flush() {
        while outputStart < output.count {
            let result = output.withUnsafeBytes { Socket.write(descriptor, from: UnsafeRawBufferPointer(rebasing: $0[outputStart...])) }
            switch result {
            case .bytes(let count):
                outputStart += count
            case .wouldBlock:
                if !watchingWrite {
                    watchingWrite = true
                    owner.loop.modify(descriptor, for: [.readable, .writable])
                }
                return
            case .closed, .failed:
                close(reason: "write failed")
                return
            }
        }
        output.removeAll(keepingCapacity: output.capacity <= 64 * 1024)
        outputStart = 0
        if watchingWrite {
            watchingWrite = false
            owner.loop.modify(descriptor, for: .readable)
        }
    }
}
