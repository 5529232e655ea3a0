import FuzzSupport
import RatsboteWire

/// Decodes the organisation's signed structures as a client receives them from the relay: the
/// first byte selects issuer certificate, participant certificate, revocation list, group
/// definition or the whole trust material; the rest is the encoding, which must re-encode to the
/// same bytes when it decodes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let kind = input.takeByte() % 5
    let bytes = input.takeRest()
    switch kind {
    case 0: checkRoundTrip(IssuerCertificate.self, bytes)
    case 1: checkRoundTrip(ParticipantCertificate.self, bytes)
    case 2: checkRoundTrip(RevocationList.self, bytes)
    case 3: checkRoundTrip(GroupDefinition.self, bytes)
    default: checkRoundTrip(TrustMaterial.self, bytes)
    }
    return 0
}

/// Starts libFuzzer on ``fuzz(_:_:)``. SwiftPM binds `main` to this symbol (see ``runFuzzer(argc:argv:target:)``).
@_cdecl("fuzz_certificates_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc: argc, argv: argv, target: fuzz)
}
