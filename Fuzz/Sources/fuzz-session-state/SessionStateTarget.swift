import FuzzSupport
import RatsboteCrypto
import RatsboteSession

/// Restores serialized session state, which the client reads back from its database.
///
/// The first byte chooses one session (0) or a device's set of sessions (1). The database is
/// encrypted, so these bytes come from this client's own writes, but a damaged or downgraded file
/// must still fail with an error rather than a trap. A restored state must serialize to bytes that
/// restore again to a state of the same size.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let kind = input.takeByte() & 1
    let bytes = input.takeRest()
    let name = kind == 0 ? "Session" : "PeerSessions"

    guard let first = reserialize(bytes, kind: kind) else { return 0 }
    // NOTE: the decoder now rejects skipped keys out of sequence order (the inputs in
    // Fuzz/findings/ are regression tests), so `first == bytes` should hold. This target still
    // checks only that the serialized state restores again, until a long run confirms that no
    // other field has several encodings.
    guard let second = reserialize(first, kind: kind) else {
        fatalError("fuzz invariant failed: \(name): its own serialized state does not restore")
    }
    require(second.count == first.count, "\(name): serialized state changes size when restored again (\(first.count), then \(second.count) bytes)")
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
