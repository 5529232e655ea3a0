import FuzzSupport
import RatsboteSession

/// Decodes the inside of a sealed-sender envelope (sender, identity key, certificate, session
/// message): what any sender can make a device parse before the sender is authenticated.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput(data, size).bytes
    guard let content = try? SealedSenderContent.decode(bytes) else { return 0 }
    let encoded = content.encode()
    require(encoded == bytes, "SealedSenderContent: re-encoding differs from the accepted input (\(bytes.count) bytes in, \(encoded.count) out)")
    require((try? SealedSenderContent.decode(encoded)) == content, "SealedSenderContent: decoding the re-encoding gives another value")
    return 0
}

/// Starts libFuzzer on ``fuzz(_:_:)``. SwiftPM binds `main` to this symbol (see ``runFuzzer(argc:argv:target:)``).
@_cdecl("fuzz_sealed_sender_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc: argc, argv: argv, target: fuzz)
}
