import FuzzSupport
import RatsboteCrypto
import RatsboteNoise

/// Reads Noise IK handshake messages as the relay (message 1) and as a device (message 2) does.
///
/// Random bytes never pass the AEAD check, so besides raw messages (mode 0) this target builds
/// real messages with fixed keys around the fuzzer's payload and applies one ``Mutation``.
/// Invariants: an unmodified message is accepted with its payload; a modified one is rejected;
/// a rejected message leaves the handshake as it was, so the original is still accepted after it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    switch input.takeByte() % 4 {
    case 0:
        var responder = newResponder()
        _ = try? responder.readMessage(input.takeRest())
    case 1:
        fuzzFirstMessage(&input)
    case 2:
        fuzzSecondMessage(&input)
    default:
        _ = try? RatsboteTransport.checkHello(input.takeRest())
    }
    return 0
}

private let relayStatic = FuzzKeys.x25519(0x11)
private let deviceStatic = FuzzKeys.x25519(0x22)
private let deviceEphemeral = FuzzKeys.x25519(0x33)
private let relayEphemeral = FuzzKeys.x25519(0x44)

/// Message 1 carries an ephemeral key, the encrypted static key and a tag, 96 bytes in all.
private let maximumPayload = NoiseHandshake.maximumMessageLength - 96

private func newInitiator() -> NoiseHandshake {
    try! NoiseHandshake(
        pattern: .IK, role: .initiator, prologue: RatsboteTransport.prologue, localStatic: deviceStatic,
        remoteStatic: relayStatic.publicKey, ephemeral: deviceEphemeral)
}

private func newResponder() -> NoiseHandshake {
    try! NoiseHandshake(
        pattern: .IK, role: .responder, prologue: RatsboteTransport.prologue, localStatic: relayStatic,
        ephemeral: relayEphemeral)
}

private func fuzzFirstMessage(_ input: inout FuzzInput) {
    let mutation = Mutation(from: &input)
    let payload = input.takeBytes(maximumPayload)

    var initiator = newInitiator()
    let original = try! initiator.writeMessage(payload: payload)
    var message = original
    let changed = mutation.apply(to: &message)

    var responder = newResponder()
    let result = try? responder.readMessage(message)
    if changed {
        require(result == nil, "responder accepted message 1 after \(mutation)")
        let retry = try? responder.readMessage(original)
        require(retry == payload, "responder rejected the original message 1 after a failed read")
    } else {
        require(result == payload, "responder rejected an unmodified message 1")
    }
    require(
        responder.remoteStaticKey == deviceStatic.publicKey,
        "responder learnt another static key than the device's")
}

private func fuzzSecondMessage(_ input: inout FuzzInput) {
    let mutation = Mutation(from: &input)
    let payload = input.takeBytes(maximumPayload)

    var initiator = newInitiator()
    var responder = newResponder()
    _ = try! responder.readMessage(try! initiator.writeMessage(payload: RatsboteTransport.helloPayload()))
    let original = try! responder.writeMessage(payload: payload)
    var message = original
    let changed = mutation.apply(to: &message)

    let result = try? initiator.readMessage(message)
    if changed {
        require(result == nil, "initiator accepted message 2 after \(mutation)")
        let retry = try? initiator.readMessage(original)
        require(retry == payload, "initiator rejected the original message 2 after a failed read")
    } else {
        require(result == payload, "initiator rejected an unmodified message 2")
    }

    // Both sides are complete now; their transports must agree.
    var deviceTransport = try! initiator.split()
    var relayTransport = try! responder.split()
    require(deviceTransport.handshakeHash == relayTransport.handshakeHash, "handshake hashes differ after the handshake")
    let sealed = try! deviceTransport.encrypt(payload.count <= NoiseTransport.maximumPayloadLength ? payload : [])
    let opened = try? relayTransport.decrypt(sealed)
    require(opened != nil, "relay transport rejected the device's first transport message")
}

/// Starts libFuzzer on ``fuzz(_:_:)``. SwiftPM binds `main` to this symbol (see ``runFuzzer(argc:argv:target:)``).
@_cdecl("fuzz_noise_handshake_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc: argc, argv: argv, target: fuzz)
}
