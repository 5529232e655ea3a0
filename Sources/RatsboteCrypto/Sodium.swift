// RatsboteCrypto: safe Swift over libsodium 1.0.18. It is the only module that imports CSodium,
// and it does so with `internal import`, so no C name appears in its public API.

internal import CSodium

/// One-time libsodium initialisation.
///
/// `sodium_init` is thread-safe and idempotent; a static `let` runs it once per process before
/// the first primitive is used. Every public entry point calls `Sodium.ensureInitialized()`.
enum Sodium {
    private static let initialized: Bool = {
        // sodium_init returns 0 on success, 1 if it was already initialised, -1 on failure.
        sodium_init() >= 0
    }()

    @inline(__always)
    static func ensureInitialized() {
        guard initialized else {
            // Without a working libsodium nothing in Ratsbote can run safely. This is not
            // reachable from peer input: it fails only if the library cannot start at all.
            fatalError("libsodium failed to initialise (sodium_init returned -1)")
        }
    }
}

/// A zero-length stand-in so that C never receives a null pointer for an empty input.
/// Nothing ever writes through it.
nonisolated(unsafe) let emptyInput: UnsafePointer<UInt8> = {
    let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
    pointer.initialize(to: 0)
    return UnsafePointer(pointer)
}()
