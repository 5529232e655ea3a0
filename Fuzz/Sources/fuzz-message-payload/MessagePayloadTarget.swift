import FuzzSupport
import RatsboteSession

/// Decodes message content (note, reply, receipts, document note, unknown kinds), as a device does
/// after the ratchet decrypted it. Unknown kinds must survive a round trip unchanged, so that a
/// newer sender's content is kept intact by an older client.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput(data, size).bytes
    guard let payload = try? MessagePayload.decode(bytes) else { return 0 }
    guard let encoded = try? payload.encode() else {
        fatalError("fuzz invariant failed: MessagePayload decoded but does not encode again")
    }
    require(encoded == bytes, "MessagePayload: re-encoding differs from the accepted input (\(bytes.count) bytes in, \(encoded.count) out)")
    require((try? MessagePayload.decode(encoded)) == payload, "MessagePayload: decoding the re-encoding gives another value")
    return 0
}

/// Starts libFuzzer on ``fuzz(_:_:)``. SwiftPM binds `main` to this symbol (see ``runFuzzer(argc:argv:target:)``).
@_cdecl("fuzz_message_payload_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc: argc, argv: argv, target: fuzz)
}
