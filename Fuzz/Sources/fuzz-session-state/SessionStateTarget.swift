import FuzzSupport
import RatsboteCrypto
import RatsboteSession

/// Restores serialized session state, which the client reads back from its database.
///
/// The first byte chooses one session (0) or a device's set of sessions (1). The database is
/// encrypted, so these bytes come from this client's own writes, but a damaged or downgraded file
/// must still fail with an error rather than a trap. A restored state must serialize to
/// exactly the bytes it came from. A field with a second encoding would fail this.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let kind = input.takeByte() & 1
    let bytes = input.takeRest()
    let name = kind == 0 ? "Session" : "PeerSessions"

    guard let first = reserialize(bytes, kind: kind) else { return 0 }
    require(first == bytes, "\(name): accepted bytes that are not its own encoding (\(bytes.count) bytes in, \(first.count) out)")
    return 0
}

/// Restores `bytes` as one session (kind 0) or a set of sessions (kind 1) and serializes the
/// result, or returns `nil` when the bytes are rejected.
private func reserialize(_ bytes: [UInt8], kind: UInt8) -> [UInt8]? {
    let state = SecureBytes(copying: bytes)
    if kind == 0 {
        return (try? Session(serialized: state)).map { $0.serialized().withUnsafeBytes { Array($0) } }
    }
    return (try? PeerSessions(serialized: state)).map { $0.serialized().withUnsafeBytes { Array($0) } }
}

/// Starts libFuzzer on ``fuzz(_:_:)``. SwiftPM binds `main` to this symbol (see ``runFuzzer(argc:argv:target:)``).
@_cdecl("fuzz_session_state_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc: argc, argv: argv, target: fuzz)
}
