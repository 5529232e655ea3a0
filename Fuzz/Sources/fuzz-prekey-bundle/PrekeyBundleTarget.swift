import FuzzSupport
import RatsboteSession

/// Decodes a prekey bundle as the relay hands it out; the signature is checked later, so the
/// decoder sees bytes from whoever uploaded them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput(data, size).bytes
    guard let bundle = try? PrekeyBundle.decode(bytes) else { return 0 }
    let encoded = bundle.encode()
    require(encoded == bytes, "PrekeyBundle: re-encoding differs from the accepted input (\(bytes.count) bytes in, \(encoded.count) out)")
    require((try? PrekeyBundle.decode(encoded)) == bundle, "PrekeyBundle: decoding the re-encoding gives another value")
    return 0
}

/// The process entry point; see ``runFuzzer(argc:argv:target:)``.
@_cdecl("fuzz_prekey_bundle_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc: argc, argv: argv, target: fuzz)
}
