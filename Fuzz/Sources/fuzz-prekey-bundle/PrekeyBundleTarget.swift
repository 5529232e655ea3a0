import FuzzSupport
import RatsboteSession

/// Decodes a prekey bundle as the relay hands it out. The signature is checked later, so the
/// decoder gets the bytes exactly as the uploading device sent them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput(data, size).bytes
    guard let bundle = try? PrekeyBundle.decode(bytes) else { return 0 }
    let encoded = bundle.encode()
    require(encoded == bytes, "PrekeyBundle: re-encoding differs from the accepted input (\(bytes.count) bytes in, \(encoded.count) out)")
    require((try? PrekeyBundle.decode(encoded)) == bundle, "PrekeyBundle: decoding the re-encoding gives another value")
    return 0
}

/// Starts libFuzzer on ``fuzz(_:_:)``. SwiftPM binds `main` to this symbol (see ``runFuzzer(argc:argv:target:)``).
@_cdecl("fuzz_prekey_bundle_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc: argc, argv: argv, target: fuzz)
}
