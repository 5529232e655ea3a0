import FuzzSupport
import RatsboteSession

/// Decodes a session-layer message (ratchet or PreKey), as a device does after opening the
/// sealed envelope and before any ratchet step.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput(data, size).bytes
    guard let message = try? SessionMessage.decode(bytes) else { return 0 }
    let encoded = message.encode()
    require(encoded == bytes, "SessionMessage: re-encoding differs from the accepted input (\(bytes.count) bytes in, \(encoded.count) out)")
    require((try? SessionMessage.decode(encoded)) == message, "SessionMessage: decoding the re-encoding gives another value")
    return 0
}

/// Starts libFuzzer on ``fuzz(_:_:)``. SwiftPM binds `main` to this symbol (see ``runFuzzer(argc:argv:target:)``).
@_cdecl("fuzz_session_message_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc: argc, argv: argv, target: fuzz)
}
