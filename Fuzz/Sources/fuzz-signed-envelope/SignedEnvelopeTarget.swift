import FuzzSupport
@testable import RatsboteClient
import RatsboteWire

/// Decodes the inside of a sealed envelope: the structure a device parses right after
/// `crypto_box_seal_open` and before it checks the signature.
///
/// `SignedEnvelope` is internal to RatsboteClient, hence the `@testable import` (debug builds only).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput(data, size).bytes
    if let envelope = checkRoundTrip(SignedEnvelope.self, bytes) {
        require(envelope.senderIdentityKey.count == 32, "SignedEnvelope.senderIdentityKey has \(envelope.senderIdentityKey.count) bytes")
        require(envelope.signature.count == 64, "SignedEnvelope.signature has \(envelope.signature.count) bytes")
        // The signed part is the encoding without the signature.
        require(envelope.signedPart() == Array(bytes.dropLast(64)), "SignedEnvelope.signedPart differs from the received bytes")
    }
    return 0
}

/// The process entry point; see runFuzzer(argc:argv:target:).
@_cdecl("fuzz_signed_envelope_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc: argc, argv: argv, target: fuzz)
}
