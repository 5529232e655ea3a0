import FuzzSupport
import RatsboteWire

/// Decodes the payload of the first handshake message, which the relay reads before it knows
/// who is connecting.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput(data, size).bytes
    if let hello = checkRoundTrip(ClientHello.self, bytes) {
        require(bytes.count == 1, "ClientHello accepted \(bytes.count) bytes, expected exactly 1 (version \(hello.version))")
    }
    return 0
}

/// Starts libFuzzer on ``fuzz(_:_:)``. SwiftPM binds `main` to this symbol (see ``runFuzzer(argc:argv:target:)``).
@_cdecl("fuzz_client_hello_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc: argc, argv: argv, target: fuzz)
}
