import Foundation
import Glibc
import RatsboteCrypto
import RatsboteNoise
import RatsboteTestSupport
import RatsboteWire

/// Failures of the test client, each naming what it waited for.
enum TestClientError: Error, CustomStringConvertible {
    case connectFailed(String)
    case timedOut(String)
    case closedByRelay
    case unexpected(String)

    var description: String {
        switch self {
        case .connectFailed(let reason): return "connect failed: \(reason)"
        case .timedOut(let what): return "timed out waiting for \(what)"
        case .closedByRelay: return "the relay closed the connection"
        case .unexpected(let what): return "unexpected: \(what)"
        }
    }
}

/// Keys of one test device: the Noise transport key, the identity key and the envelope key.
struct TestDevice: Sendable {
    let transport = X25519PrivateKey.generate(storage: .wiped)
    let identity = Ed25519SigningKey.generate()
    let envelope = X25519PrivateKey.generate(storage: .wiped)

    /// Returns an enroll request for `invite`, signed as the relay expects.
    func enrollRequest(_ invite: InviteCode) -> EnrollRequest {
        let envelopeKey = envelope.publicKey.rawRepresentation
        let signed = EnrollRequest.signedBytes(token: invite.token, envelopeKey: envelopeKey, transportKey: transport.publicKey.rawRepresentation)
        return EnrollRequest(
            token: invite.token, identityKey: identity.publicKey.rawRepresentation, envelopeKey: envelopeKey,
            signature: identity.signature(for: signed))
    }

    /// Returns a new signed prekey with a valid signature.
    func signedPrekey(id: UInt32) -> SignedPrekey {
        let key = X25519PrivateKey.generate(storage: .wiped).publicKey.rawRepresentation
        return SignedPrekey(id: id, publicKey: key, signature: identity.signature(for: SignedPrekey.signedBytes(suite: .classic, id: id, publicKey: key)))
    }
}

/// A blocking relay client for tests: a socket with receive timeouts, the IK handshake as
/// initiator, then relay frames. Pushes that arrive while waiting for a response are queued.
final class TestClient {
    let descriptor: Int32
    private var transport: NoiseTransport?
    private var encoder = NoiseStreamEncoder(maximumFrame: 8 * 1024 * 1024)
    private var decoder = NoiseStreamDecoder(maximumFrame: 8 * 1024 * 1024)
    private var nextId: UInt32 = 1
    private(set) var pushes: [RelayPush] = []
    private var early: [(UInt32, RelayResponse)] = []

    /// Connects to `port` on 127.0.0.1 without a handshake.
    init(port: UInt16, timeout: Double = 10, receiveBufferBytes: Int32? = nil) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestClientError.connectFailed("socket") }
        if var size = receiveBufferBytes {
            // Set before connect, so the advertised window stays small (no autotuning).
            setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            Glibc.close(descriptor)
            throw TestClientError.connectFailed(String(cString: strerror(errno)))
        }
        setTimeout(timeout)
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Connects and completes the handshake with `device`'s transport key.
    convenience init(
        port: UInt16, relayKey: [UInt8], device: TestDevice, version: UInt8 = RelayProtocol.version, timeout: Double = 10,
        receiveBufferBytes: Int32? = nil
    ) throws {
        try self.init(port: port, timeout: timeout, receiveBufferBytes: receiveBufferBytes)
        try handshake(relayKey: relayKey, device: device, version: version)
    }

    deinit {
        Glibc.close(descriptor)
    }

    /// Drops the connection as a crashed client would, without waiting for anything.
    func drop() {
        shutdown(descriptor, Int32(SHUT_RDWR))
    }

    func setTimeout(_ seconds: Double) {
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    func handshake(relayKey: [UInt8], device: TestDevice, version: UInt8 = RelayProtocol.version) throws {
        var handshake = try RatsboteTransport.initiatorHandshake(
            localStatic: device.transport, relayStatic: try X25519PublicKey(rawRepresentation: relayKey))
        let first = try handshake.writeMessage(payload: ClientHello(version: version).encoded())
        try writeAll(try NoiseStreamFraming.encode(noiseMessage: first))
        while true {
            if let reply = try decoder.nextNoiseMessage() {
                _ = try handshake.readMessage(reply)
                transport = try handshake.split()
                return
            }
            try readMore("handshake reply")
        }
    }

    func writeAll(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { throw TestClientError.timedOut("send buffer") }
                throw TestClientError.closedByRelay
            }
            offset += sent
        }
    }

    private func readMore(_ what: String) throws {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress!, $0.count, 0) }
        if count == 0 { throw TestClientError.closedByRelay }
        if count < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK { throw TestClientError.timedOut(what) }
            if errno == ECONNRESET { throw TestClientError.closedByRelay }
            throw TestClientError.unexpected("recv errno \(errno)")
        }
        decoder.append(buffer[0..<count])
    }

    /// Encrypts and sends raw frame bytes (for malformed-frame tests).
    func sendRawFrame(_ bytes: [UInt8]) throws {
        guard var transport else { throw TestClientError.unexpected("no handshake") }
        let encoded = try encoder.encode(frame: bytes, with: &transport)
        self.transport = transport
        try writeAll(encoded)
    }

    /// Sends a request without waiting; returns its id.
    @discardableResult
    func post(_ request: RelayRequest) throws -> UInt32 {
        let id = nextId
        nextId += 1
        try sendRawFrame(RelayFrame.request(id: id, request).encoded())
        return id
    }

    /// Reads the next frame.
    func readFrame(_ what: String = "a frame") throws -> RelayFrame {
        guard var transport else { throw TestClientError.unexpected("no handshake") }
        defer { self.transport = transport }
        while true {
            if let frame = try decoder.nextFrame(with: &transport) { return try RelayFrame.decode(frame) }
            try readMore(what)
        }
    }

    /// Waits for the response to `id`, queueing pushes and responses to other ids.
    func response(to id: UInt32) throws -> RelayResponse {
        if let index = early.firstIndex(where: { $0.0 == id }) { return early.remove(at: index).1 }
        while true {
            switch try readFrame("response \(id)") {
            case .response(let responseId, let response) where responseId == id:
                return response
            case .response(let responseId, let response):
                early.append((responseId, response))
            case .push(let push):
                pushes.append(push)
            case .request:
                throw TestClientError.unexpected("a request frame from the relay")
            }
        }
    }

    /// Sends a request and waits for its response.
    func request(_ request: RelayRequest) throws -> RelayResponse {
        try response(to: try post(request))
    }

    /// Returns the next push, from the queue or the socket.
    func nextPush() throws -> RelayPush {
        if !pushes.isEmpty { return pushes.removeFirst() }
        while true {
            switch try readFrame("a push") {
            case .push(let push): return push
            case .response(let id, let response): early.append((id, response))
            case .request: throw TestClientError.unexpected("a request frame from the relay")
            }
        }
    }

    /// Envelopes pushed until `count` arrived.
    func envelopes(_ count: Int) throws -> [(id: UInt64, sealed: [UInt8])] {
        var result: [(UInt64, [UInt8])] = []
        while result.count < count {
            if case .envelope(let id, _, let sealed) = try nextPush() { result.append((id, sealed)) }
        }
        return result
    }

    /// Reads and drops frames until the relay closes; `false` on a timeout or another error.
    func waitForClose() -> Bool {
        while true {
            do {
                if transport == nil {
                    try readMore("close")
                    continue
                }
                _ = try readFrame("close")
            } catch TestClientError.closedByRelay {
                return true
            } catch {
                return false
            }
        }
    }
}

extension RelayResponse {
    /// The failure code, or `nil` for a success.
    var failureCode: RelayErrorCode? {
        if case .failure(let failure) = self { return failure.code }
        return nil
    }
}

/// A `ratsbote-relay serve` subprocess on 127.0.0.1 port 0, its port read from the
/// `listening address=` line. The process is killed when the value is released.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let port: UInt16
    let logFile: URL

    init(data: URL, environment: [String: String] = [:]) throws {
        logFile = data.deletingLastPathComponent().appendingPathComponent("serve-\(UUID().uuidString.prefix(6)).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process.executableURL = binaryFolder().appendingPathComponent("ratsbote-relay")
        process.arguments = ["serve", "--data", data.path, "--listen", "127.0.0.1:0"]
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        let output = Pipe()
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: logFile)
        try process.run()

        // Read stdout until the listening line; bounded by the pipe closing when the process exits.
        var text = ""
        var found: UInt16?
        while found == nil {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
            if let range = text.range(of: "listening address=127.0.0.1:"),
                let line = text[range.upperBound...].split(separator: "\n").first, let port = UInt16(line)
            {
                found = port
            }
        }
        guard let found else { throw RelayProcessError.exited(log: (try? String(contentsOf: logFile, encoding: .utf8)) ?? text) }
        port = found
    }

    /// Sends `signal` and waits (at most 20 s) for the exit status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// A relay for one test: its own data folder and a serve process, with helpers to enroll
/// devices. The data folder survives restarts, so tests can stop, kill and start again.
final class TestRelay: @unchecked Sendable {
    let data: URL
    let relayKey: [UInt8]
    private(set) var serve: ServeProcess
    var port: UInt16 { serve.port }
    var binary: URL { binaryFolder().appendingPathComponent("ratsbote-relay") }

    /// Initialises a data folder, applies `configure` to `relay.json` and starts serving.
    deinit {
        serve.stop(signal: SIGKILL)
        try? FileManager.default.removeItem(at: data.deletingLastPathComponent())
    }

    init(configure: ((inout [String: Any]) -> Void)? = nil, environment: [String: String] = [:]) throws {
        data = makeTemporaryFolder("ratsbote-relay-test").appendingPathComponent("relay")
        let result = try runProcess(
            binaryFolder().appendingPathComponent("ratsbote-relay"), ["init", "--data", data.path, "--org", "Teststadt"])
        guard result.status == 0 else { throw RelayProcessError.initFailed(result.stderr) }
        if let configure {
            let url = data.appendingPathComponent("relay.json")
            var json = (try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]) ?? [:]
            configure(&json)
            try JSONSerialization.data(withJSONObject: json).write(to: url)
        }
        let key = try Data(contentsOf: data.appendingPathComponent("relay.key"))
        relayKey = try X25519PrivateKey(secret: SecureBytes(copying: Array(key))).publicKey.rawRepresentation
        serve = try ServeProcess(data: data, environment: environment)
    }

    /// Stops the serve process with `signal` and returns its exit status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) -> Int32 { serve.stop(signal: signal) }

    /// Starts a new serve process on the same data folder.
    func restart(environment: [String: String] = [:]) throws {
        serve = try ServeProcess(data: data, environment: environment)
    }

    /// Runs the CLI with `arguments` and `--data`.
    func command(_ arguments: [String], environment: [String: String]? = nil) throws -> ProcessResult {
        try runProcess(binary, [arguments[0], "--data", data.path] + arguments.dropFirst(), environment: environment)
    }

    /// Creates an invite and returns it decoded.
    func invite(name: String, expires: String = "7d") throws -> InviteCode {
        let result = try command(["invite", "--name", name, "--role", "Rat", "--unit", "Fraktion A", "--expires", expires])
        guard result.status == 0, let last = result.stdout.split(separator: "\n").last else {
            throw RelayProcessError.inviteFailed(result.stderr)
        }
        return try InviteCode(text: String(last))
    }

    /// Enrolls a new device and returns it with its address and an open connection.
    func enrolledDevice(name: String) throws -> (TestDevice, DeviceAddress, TestClient) {
        let device = TestDevice()
        let client = try TestClient(port: port, relayKey: relayKey, device: device)
        let response = try client.request(.enroll(device.enrollRequest(try invite(name: name))))
        guard case .enrolled(let address, _, _, _) = response else { throw TestClientError.unexpected("\(response)") }
        return (device, address, client)
    }

    func connect(_ device: TestDevice) throws -> TestClient {
        try TestClient(port: port, relayKey: relayKey, device: device)
    }
}

/// Sends an envelope and returns the relay's response.
func sendEnvelope(_ client: TestClient, to address: DeviceAddress, _ text: String, id: [UInt8] = Random.bytes(count: 16)) throws -> RelayResponse {
    try client.request(.send(SendRequest(recipient: address, idempotencyId: id, sealed: Array(text.utf8))))
}
