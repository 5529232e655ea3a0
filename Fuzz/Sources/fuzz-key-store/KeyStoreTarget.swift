import FuzzSupport
import RatsboteClient
import RatsboteCrypto

/// Parses a key store file's header, which a damaged disk or another program could have written.
///
/// The format requires at least libsodium's INTERACTIVE Argon2id costs (64 MiB), far too slow to
/// run per input, so this target stops where key derivation would start. The invariant it checks
/// is the one that protects that step: every accepted header has costs within the bounds.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput(data, size).bytes
    guard let header = try? KeyStore.parseHeader(bytes, path: "fuzz.keystore") else { return 0 }

    let parameters = header.parameters
    require(
        (Argon2id.Parameters.minimumOperations...Argon2id.Parameters.maximumOperations).contains(parameters.operations),
        "KeyStore.parseHeader accepted \(parameters.operations) Argon2id operations")
    require(
        (Argon2id.Parameters.minimumMemoryBytes...Argon2id.Parameters.maximumMemoryBytes).contains(parameters.memoryBytes),
        "KeyStore.parseHeader accepted \(parameters.memoryBytes) Argon2id memory bytes")
    require(header.salt.count == Argon2id.saltByteCount, "KeyStore header salt has \(header.salt.count) bytes")
    require(header.check.count == 32, "KeyStore header check has \(header.check.count) bytes")
    require(header.nonce.count == XChaCha20Poly1305.nonceByteCount, "KeyStore header nonce has \(header.nonce.count) bytes")
    return 0
}

/// Starts libFuzzer on ``fuzz(_:_:)``. SwiftPM binds `main` to this symbol (see ``runFuzzer(argc:argv:target:)``).
@_cdecl("fuzz_key_store_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc: argc, argv: argv, target: fuzz)
}
