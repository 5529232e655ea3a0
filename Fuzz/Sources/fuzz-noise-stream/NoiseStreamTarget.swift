import FuzzSupport
import RatsboteCrypto
import RatsboteNoise

/// Feeds bytes to ``NoiseStreamDecoder`` in fuzzer-chosen pieces, as reads from a socket arrive.
///
/// Mode 0 is the handshake phase: length-prefixed Noise messages in the clear. Modes 1 and 2 are
/// the transport phase with a fixed transport: the fuzzer's bytes are the plaintext stream of
/// frames, encrypted here in fuzzer-sized messages, and mode 2 applies one ``Mutation`` to the
/// ciphertext stream. Each mode compares the decoder with a plain reference parser.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    switch input.takeByte() % 3 {
    case 0: fuzzHandshakePhase(&input)
    case 1: fuzzTransportPhase(&input, mutate: false)
    default: fuzzTransportPhase(&input, mutate: true)
    }
    return 0
}

/// One device-to-relay transport pair from a handshake with fixed keys, done once per process.
private let transports: (device: NoiseTransport, relay: NoiseTransport) = {
    let relayStatic = FuzzKeys.x25519(0x11)
    var initiator = try! NoiseHandshake(
        pattern: .IK, role: .initiator, prologue: RatsboteTransport.prologue, localStatic: FuzzKeys.x25519(0x22),
        remoteStatic: relayStatic.publicKey, ephemeral: FuzzKeys.x25519(0x33))
    var responder = try! NoiseHandshake(
        pattern: .IK, role: .responder, prologue: RatsboteTransport.prologue, localStatic: relayStatic,
        ephemeral: FuzzKeys.x25519(0x44))
    _ = try! responder.readMessage(try! initiator.writeMessage(payload: RatsboteTransport.helloPayload()))
    _ = try! initiator.readMessage(try! responder.writeMessage(payload: RatsboteTransport.helloPayload()))
    return (try! initiator.split(), try! responder.split())
}()

/// Appends `stream` to `decoder` in pieces of `pieceSize` bytes and calls `take` after each
/// piece until it returns `nil`. Stops at the first error and returns it.
private func feed(
    _ stream: [UInt8], pieceSize: Int, to decoder: inout NoiseStreamDecoder,
    take: (inout NoiseStreamDecoder) throws -> [UInt8]?, into results: inout [[UInt8]]
) -> Error? {
    var offset = 0
    repeat {
        let end = min(stream.count, offset + pieceSize)
        decoder.append(stream[offset..<end])
        offset = end
        do {
            while let result = try take(&decoder) { results.append(result) }
        } catch {
            return error
        }
    } while offset < stream.count
    return nil
}

// MARK: - Handshake phase

private func fuzzHandshakePhase(_ input: inout FuzzInput) {
    let pieceSize = max(1, Int(input.takeByte()))
    let stream = input.takeRest()

    var decoder = NoiseStreamDecoder()
    var messages: [[UInt8]] = []
    let error = feed(stream, pieceSize: pieceSize, to: &decoder, take: { try $0.nextNoiseMessage() }, into: &messages)

    // Reference: 2-byte length, then that many bytes; a zero length is an error.
    var expected: [[UInt8]] = []
    var offset = 0
    var expectError = false
    while stream.count - offset >= 2 {
        let length = Int(stream[offset]) << 8 | Int(stream[offset + 1])
        if length == 0 {
            expectError = true
            break
        }
        guard stream.count - offset - 2 >= length else { break }
        expected.append(Array(stream[(offset + 2)..<(offset + 2 + length)]))
        offset += 2 + length
    }

    require(messages == expected, "nextNoiseMessage returned \(messages.count) message(s), reference \(expected.count)")
    require((error != nil) == expectError, "nextNoiseMessage error \(String(describing: error)), reference expects one: \(expectError)")
    if !expectError {
        require(decoder.bufferedByteCount == stream.count - offset, "bufferedByteCount is \(decoder.bufferedByteCount), expected \(stream.count - offset)")
    }
}

// MARK: - Transport phase

private func fuzzTransportPhase(_ input: inout FuzzInput, mutate: Bool) {
    let maximumFrame = Int(input.takeByte()) * 16
    let messagePlaintextSize = max(1, Int(input.takeByte()))
    let pieceSize = max(1, Int(input.takeByte()))
    let mutation = mutate ? Mutation(from: &input) : .none
    let plaintext = input.takeRest()

    // Encrypt the plaintext stream in messages of `messagePlaintextSize` bytes.
    var sender = transports.device
    var stream: [UInt8] = []
    var offset = 0
    while offset < plaintext.count {
        let end = min(plaintext.count, offset + messagePlaintextSize)
        let message = try! sender.encrypt(Array(plaintext[offset..<end]))
        stream += try! NoiseStreamFraming.encode(noiseMessage: message)
        offset = end
    }
    let changed = mutation.apply(to: &stream)

    var receiver = transports.relay
    var decoder = NoiseStreamDecoder(maximumFrame: maximumFrame)
    var frames: [[UInt8]] = []
    let error = feed(stream, pieceSize: pieceSize, to: &decoder, take: { try $0.nextFrame(with: &receiver) }, into: &frames)

    // Reference: frames of a 4-byte length and the payload, in the plaintext stream.
    var expected: [[UInt8]] = []
    var position = 0
    var expectTooLarge = false
    while plaintext.count - position >= 4 {
        var length = 0
        for index in 0..<4 { length = length << 8 | Int(plaintext[position + index]) }
        if length > maximumFrame {
            expectTooLarge = true
            break
        }
        guard plaintext.count - position - 4 >= length else { break }
        expected.append(Array(plaintext[(position + 4)..<(position + 4 + length)]))
        position += 4 + length
    }

    if changed {
        // Forged bytes never decrypt, so whatever came out must be authentic frames in order.
        require(frames.count <= expected.count && Array(expected.prefix(frames.count)) == frames,
            "nextFrame returned frames that are not a prefix of the sent frames after \(mutation)")
    } else {
        require(frames == expected, "nextFrame returned \(frames.count) frame(s), reference \(expected.count)")
        if expectTooLarge {
            guard case .tooLarge? = error as? NoiseError else {
                fatalError("fuzz invariant failed: expected NoiseError.tooLarge, got \(String(describing: error))")
            }
        } else {
            require(error == nil, "nextFrame threw \(String(describing: error)) on an authentic stream")
        }
    }
}

/// Starts libFuzzer on ``fuzz(_:_:)``. SwiftPM binds `main` to this symbol (see ``runFuzzer(argc:argv:target:)``).
@_cdecl("fuzz_noise_stream_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc: argc, argv: argv, target: fuzz)
}
