import Foundation
internal import CSodium

/// A fixed-size buffer for keys and key material, wiped when released.
///
/// Two kinds of storage exist. ``Storage/guarded`` uses `sodium_malloc`: the bytes sit between
/// guard pages, are locked into memory where the system allows it, and `sodium_free` overwrites
/// them. It is slow and page-sized, so it suits long-lived keys (identity keys, key-store keys).
/// ``Storage/wiped`` uses ordinary heap memory that `sodium_memzero` clears on release; it suits
/// short-lived keys on hot paths, such as ratchet message keys.
///
/// The bytes are reachable only inside ``withUnsafeBytes(_:)``; there is no accessor that
/// returns a copy, and the description is redacted. Equality runs in constant time.
/// Instances are immutable after initialisation, which makes sharing them across threads safe.
public final class SecureBytes: @unchecked Sendable {
    /// Where the bytes are kept.
    public enum Storage: Sendable {
        /// `sodium_malloc` with guard pages and `mlock`, freed by `sodium_free`.
        case guarded
        /// Heap memory cleared with `sodium_memzero` on release.
        case wiped
    }

    private let pointer: UnsafeMutableRawPointer
    /// The number of bytes.
    public let count: Int
    private let storage: Storage

    /// Test hook: called from `deinit` with the whole allocation after it has been wiped and
    /// before it is freed. Only tests set it, before the last reference goes away.
    nonisolated(unsafe) var releaseInspector: ((UnsafeRawBufferPointer) -> Void)?

    /// Allocates `count` bytes and lets `initializer` fill them.
    ///
    /// - Parameters:
    ///   - count: the size in bytes; zero is allowed.
    ///   - storage: where the bytes are kept.
    ///   - initializer: writes the contents; the buffer must not escape the closure.
    /// - Throws: whatever `initializer` throws; the memory is then wiped and freed.
    public init(
        count: Int,
        storage: Storage = .guarded,
        initializingWith initializer: (UnsafeMutableRawBufferPointer) throws -> Void
    ) rethrows {
        Sodium.ensureInitialized()
        precondition(count >= 0, "SecureBytes count must not be negative")

        let size = Swift.max(count, 1)
        let allocated: UnsafeMutableRawPointer?
        switch storage {
        case .guarded:
            allocated = sodium_malloc(size)
        case .wiped:
            allocated = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        }
        guard let allocated else {
            fatalError("sodium_malloc failed to allocate \(size) bytes for key material")
        }
        self.pointer = allocated
        self.count = count
        self.storage = storage
        sodium_memzero(allocated, size)

        // Every stored property is set, so `deinit` wipes and frees the memory if the initializer
        // throws. Releasing it here as well would free it twice.
        try initializer(UnsafeMutableRawBufferPointer(start: allocated, count: count))
    }

    /// Copies `bytes` into new secure storage.
    ///
    /// - Note: the caller still owns `bytes` and should wipe them if they are secret.
    public convenience init(copying bytes: some ContiguousBytes, storage: Storage = .guarded) {
        let count = bytes.withUnsafeBytes { $0.count }
        self.init(count: count, storage: storage) { target in
            bytes.withUnsafeBytes { source in
                if let base = source.baseAddress, count > 0 {
                    target.baseAddress!.copyMemory(from: base, byteCount: count)
                }
            }
        }
    }

    /// Returns `count` random bytes from `randombytes_buf`.
    public static func random(count: Int, storage: Storage = .guarded) -> SecureBytes {
        SecureBytes(count: count, storage: storage) { buffer in
            if count > 0 { randombytes_buf(buffer.baseAddress!, count) }
        }
    }

    deinit {
        Self.release(pointer, size: Swift.max(count, 1), storage: storage, inspector: releaseInspector)
    }

    /// Wipes and frees an allocation.
    ///
    /// Guarded memory is wiped here as well, although `sodium_free` wipes it again, so that the
    /// wipe does not depend on libsodium internals and tests can observe it through `inspector`.
    private static func release(
        _ pointer: UnsafeMutableRawPointer, size: Int, storage: Storage,
        inspector: ((UnsafeRawBufferPointer) -> Void)? = nil
    ) {
        sodium_memzero(pointer, size)
        inspector?(UnsafeRawBufferPointer(start: pointer, count: size))
        switch storage {
        case .guarded:
            sodium_free(pointer)
        case .wiped:
            pointer.deallocate()
        }
    }

    /// Calls `body` with a read-only view of the bytes; the pointer must not escape.
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}

// MARK: - Equatable, constant-time

extension SecureBytes: Equatable {
    /// Compares in time that depends only on the length, with `sodium_memcmp`.
    public static func == (lhs: SecureBytes, rhs: SecureBytes) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.count == 0 { return true }
        return sodium_memcmp(lhs.pointer, rhs.pointer, lhs.count) == 0
    }
}

// MARK: - Redacted description

extension SecureBytes: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "SecureBytes(\(count) bytes, redacted)" }
    public var debugDescription: String { description }
}

/// Compares two byte sequences in time that depends only on their length.
///
/// - Returns: `false` when the lengths differ (the length itself is not secret).
public func constantTimeEqual(_ lhs: some ContiguousBytes, _ rhs: some ContiguousBytes) -> Bool {
    Sodium.ensureInitialized()
    return lhs.withUnsafeBytes { left in
        rhs.withUnsafeBytes { right in
            guard left.count == right.count else { return false }
            if left.count == 0 { return true }
            return sodium_memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0
        }
    }
}

/// Overwrites an array's bytes with zeros through `sodium_memzero`.
public func wipe(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { buffer in
        if let base = buffer.baseAddress, buffer.count > 0 { sodium_memzero(base, buffer.count) }
    }
}
