import FuzzSupport
import RatsboteCrypto
import RatsboteSession

/// Restores serialized session state, which the client reads back from its database.
///
/// The first byte chooses one session (0) or a device's set of sessions (1). The database is
/// encrypted, so these bytes come from this client's own writes, but a damaged or downgraded file
/// must still fail with an error rather than a trap. Restored state must serialize to the same bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let kind = input.takeByte() & 1
    let bytes = input.takeRest()
    let state = SecureBytes(copying: bytes)

    let again: [UInt8]?
    if kind == 0 {
        again = (try? Session(serialized: state)).map { $0.serialized().withUnsafeBytes { Array($0) } }
    } else {
        again = (try? PeerSessions(serialized: state)).map { $0.serialized().withUnsafeBytes { Array($0) } }
    }
    if let again {
        require(again == bytes, "\(kind == 0 ? "Session" : "PeerSessions"): serialized state differs from the restored bytes")
    }
    return 0
}

/// Starts libFuzzer on ``fuzz(_:_:)``. SwiftPM binds `main` to this symbol (see ``runFuzzer(argc:argv:target:)``).
@_cdecl("fuzz_session_state_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc: argc, argv: argv, target: fuzz)
}
