import Foundation
import RatsboteCrypto
import Testing

@testable import RatsboteNoise

/// IK handshakes and framed transport traffic against the independent Python implementation
/// `noiseprotocol`, over loopback TCP, with RatsboteNoise in each role.
@Suite struct NoiseInteropTests {
    /// Seconds any socket operation, and the Python peer, may wait.
    static let timeoutSeconds = 20
    /// Frame sizes around the 65,519-byte message payload boundary and one that spans three messages.
    static let frameSizes = [0, 1, 5000, 65515, 65516, 150_000]
    static let scriptPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Interop/noise_peer.py").path

    enum Side: String, CaseIterable, Sendable {
        case swiftInitiator, swiftResponder
    }

    @Test(arguments: Side.allCases, [UInt64(3), RatsboteTransport.rekeyInterval])
    func exchangeWithNoiseprotocol(side: Side, rekeyInterval: UInt64) throws {
        try Self.requirePythonPackage()
        let swiftKey = try privateKey(patternBytes(32, seed: 0x51))
        let pythonKey = try privateKey(patternBytes(32, seed: 0x61))
        let pythonKeyHex = pythonKey.withUnsafeBytes { Encoding.hex($0) }
        let arguments = [
            Self.scriptPath, "--static", pythonKeyHex, "--frames", "\(Self.frameSizes.count)",
            "--rekey-interval", "\(rekeyInterval)", "--timeout", "\(Self.timeoutSeconds)",
        ]

        var peer: PythonPeer?
        do {
            try exchange(side: side, rekeyInterval: rekeyInterval, swiftKey: swiftKey, pythonKey: pythonKey, arguments: arguments, peer: &peer)
        } catch {
            // Stop the peer first, so its standard error is complete and the test does not wait.
            peer?.stop()
            throw FixtureError(description: "\(error); Python peer stderr: \(peer?.errorOutput() ?? "(not started)")")
        }
    }

    /// Runs the handshake and the frame exchange; `peer` is set as soon as the process starts.
    func exchange(
        side: Side, rekeyInterval: UInt64, swiftKey: X25519PrivateKey, pythonKey: X25519PrivateKey,
        arguments: [String], peer peerSlot: inout PythonPeer?
    ) throws {
        var arguments = arguments
        let peer: PythonPeer
        let socket: LoopbackSocket
        var handshake: NoiseHandshake
        var decoder = NoiseStreamDecoder()
        switch side {
        case .swiftInitiator:
            arguments += ["--role", "responder"]
            peer = try PythonPeer(arguments: arguments)
            peerSlot = peer
            let portLine = try #require(try peer.readLine(), "the Python responder printed no port; stderr: \(peer.errorOutput())")
            let port = try #require(UInt16(portLine.dropFirst("PORT ".count)), "unexpected line \(portLine)")
            socket = try LoopbackSocket.connect(port: port, timeoutSeconds: Self.timeoutSeconds)

            // SWIFT (client) -> PYTHON (relay): e, es, s, ss + hello, then read the reply.
            handshake = try RatsboteTransport.initiatorHandshake(localStatic: swiftKey, relayStatic: pythonKey.publicKey)
            try socket.writeAll(NoiseStreamFraming.encode(noiseMessage: handshake.writeMessage(payload: RatsboteTransport.helloPayload())))
            #expect(try RatsboteTransport.checkHello(handshake.readMessage(Self.readNoiseMessage(socket, &decoder))) == 1)
        case .swiftResponder:
            let (listener, port) = try LoopbackSocket.listen()
            let swiftKeyPublicHex = Encoding.hex(swiftKey.publicKey.rawRepresentation)
            arguments += ["--role", "initiator", "--port", "\(port)", "--remote-static", swiftKeyPublicHex]
            peer = try PythonPeer(arguments: arguments)
            peerSlot = peer
            socket = try listener.accept(timeoutSeconds: Self.timeoutSeconds)

            // PYTHON (client) -> SWIFT (relay): read message 1, check the client's key, reply.
            handshake = try RatsboteTransport.responderHandshake(localStatic: swiftKey)
            #expect(try RatsboteTransport.checkHello(handshake.readMessage(Self.readNoiseMessage(socket, &decoder))) == 1)
            #expect(handshake.remoteStaticKey == pythonKey.publicKey)
            try socket.writeAll(NoiseStreamFraming.encode(noiseMessage: handshake.writeMessage(payload: RatsboteTransport.helloPayload())))
        }
        #expect(handshake.isComplete)
        var transport = try handshake.split(rekeyInterval: rekeyInterval)
        var encoder = NoiseStreamEncoder()

        // Each frame goes out, and the peer's reversed echo must come back.
        for (index, size) in Self.frameSizes.enumerated() {
            let frame = patternBytes(size, seed: UInt8(index))
            try socket.writeAll(encoder.encode(frame: frame, with: &transport))
            let echo = try Self.readFrame(socket, &decoder, &transport)
            #expect(echo == Array(frame.reversed()), "frame \(index) of \(size) bytes")
        }

        let lines = try peer.finish()
        #expect(peer.exitStatus == 0, "Python peer failed: \(peer.errorOutput())")
        #expect(lines.contains("HANDSHAKE_HASH \(Encoding.hex(transport.handshakeHash))"), "output: \(lines)")
        #expect(lines.last == "OK", "output: \(lines)")
        if side == .swiftInitiator {
            #expect(lines.contains("REMOTE_STATIC \(Encoding.hex(swiftKey.publicKey.rawRepresentation))"))
        }
    }

    // MARK: - Helpers

    /// Fails the test, with the install command, when python3 or noiseprotocol is missing.
    static func requirePythonPackage() throws {
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", "import noise.connection"]
        check.standardOutput = FileHandle.nullDevice
        check.standardError = FileHandle.nullDevice
        do {
            try check.run()
            check.waitUntilExit()
        } catch {
            throw FixtureError(description: "python3 could not be started (\(error)); install Python 3, then pip install noiseprotocol")
        }
        guard check.terminationStatus == 0 else {
            throw FixtureError(description: "python3 cannot import noise.connection; run: pip install noiseprotocol")
        }
    }

    static func readNoiseMessage(_ socket: LoopbackSocket, _ decoder: inout NoiseStreamDecoder) throws -> [UInt8] {
        while true {
            if let message = try decoder.nextNoiseMessage() { return message }
            let bytes = try socket.readSome()
            guard !bytes.isEmpty else { throw FixtureError(description: "peer closed the connection during the handshake") }
            decoder.append(bytes)
        }
    }

    static func readFrame(
        _ socket: LoopbackSocket, _ decoder: inout NoiseStreamDecoder, _ transport: inout NoiseTransport
    ) throws -> [UInt8] {
        while true {
            if let frame = try decoder.nextFrame(with: &transport) { return frame }
            let bytes = try socket.readSome()
            guard !bytes.isEmpty else { throw FixtureError(description: "peer closed the connection before a whole frame") }
            decoder.append(bytes)
        }
    }
}

/// The Python peer process, with line access to its standard output.
final class PythonPeer {
    private let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    private var buffered: [UInt8] = []

    init(arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        process.standardOutput = output
        process.standardError = errors
        try process.run()
    }

    deinit {
        stop()
    }

    /// Terminates the peer if it still runs (after a failed exchange) and waits for its exit.
    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// Reads one line of standard output, or `nil` at end of output. The script's timeout
    /// bounds the wait, because its exit closes the pipe.
    func readLine() throws -> String? {
        while true {
            if let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                return line
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty {
                return nil
            }
            buffered += chunk
        }
    }

    /// Reads the rest of standard output as lines and waits for the process to exit.
    func finish() throws -> [String] {
        var lines: [String] = []
        while let line = try readLine() {
            lines.append(line)
        }
        process.waitUntilExit()
        return lines
    }

    var exitStatus: Int32 { process.isRunning ? -1 : process.terminationStatus }

    /// Reads the peer's standard error once the process has exited.
    func errorOutput() -> String {
        guard !process.isRunning else { return "(still running)" }
        return String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }
}
