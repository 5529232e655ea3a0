import FuzzSupport
import RatsboteWire

/// Decodes the binary form of an invite code, which arrives by e-mail or chat from outside.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput(data, size).bytes
    if let code = checkRoundTrip(InviteCode.self, bytes) {
        require(code.relayKey.count == 32, "InviteCode.relayKey has \(code.relayKey.count) bytes")
        require(code.rootFingerprint.count == 32, "InviteCode.rootFingerprint has \(code.rootFingerprint.count) bytes")
        require(code.token.count == WireLimits.inviteToken, "InviteCode.token has \(code.token.count) bytes")
        require(code.host.utf8.count <= WireLimits.hostName, "InviteCode.host has \(code.host.utf8.count) bytes")
    }
    return 0
}

/// Starts libFuzzer on ``fuzz(_:_:)``. SwiftPM binds `main` to this symbol (see ``runFuzzer(argc:argv:target:)``).
@_cdecl("fuzz_invite_code_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc: argc, argv: argv, target: fuzz)
}
