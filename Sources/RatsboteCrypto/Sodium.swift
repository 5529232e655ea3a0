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

/// A stand-in address so that C never receives a null pointer for an empty input.
/// Nothing ever writes through it.
nonisolated(unsafe) let emptyInput: UnsafePointer<UInt8> = UnsafePointer(emptyOutput)

/// A stand-in address for an empty output buffer. libsodium writes nothing through it, because
/// every call that receives it has a zero output length.
nonisolated(unsafe) let emptyOutput: UnsafeMutablePointer<UInt8> = {
    let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: 16)
    pointer.initialize(repeating: 0, count: 16)
    return pointer
}()

/// The start of `buffer` as C's `const unsigned char *`, never null (an empty buffer gets ``emptyInput``).
@inline(__always)
func bytePointer(_ buffer: UnsafeRawBufferPointer) -> UnsafePointer<UInt8> {
    guard let base = buffer.baseAddress else { return emptyInput }
    return base.assumingMemoryBound(to: UInt8.self)
}
