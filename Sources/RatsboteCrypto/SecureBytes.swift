import Foundation
internal import CSodium

/// A fixed-size buffer for keys and key material, wiped when released.
///
/// Two kinds of storage exist. ``Storage/guarded`` uses `sodium_malloc`: the bytes sit between
/// guard pages, are locked into memory where the system allows it, and `sodium_free` overwrites
/// them. It is slow and page-sized, so it suits long-lived keys (identity keys, key-store keys).
/// ``Storage/wiped`` keeps the bytes in the same heap allocation as the reference-counted owner
/// (one `malloc` per value) and clears them with `sodium_memzero` on release; it suits
/// short-lived keys on hot paths, such as ratchet message keys.
///
/// The bytes are reachable only inside ``withUnsafeBytes(_:)``; there is no accessor that
/// returns a copy, and the description and mirror are redacted. Equality runs in constant time.
/// A value is immutable after initialisation, and copies share the one allocation, which makes
/// sharing them across threads safe.
public struct SecureBytes: @unchecked Sendable {
    /// Where the bytes are kept.
    public enum Storage: Sendable {
        /// `sodium_malloc` with guard pages and `mlock`, freed by `sodium_free`.
        case guarded
        /// Heap memory cleared with `sodium_memzero` on release.
        case wiped
    }

    /// What the owning allocation records besides the bytes.
    struct Header {
        var count: Int
        /// The `sodium_malloc` block for guarded storage; `nil` when the bytes follow the header.
        var guarded: UnsafeMutableRawPointer?
        /// Test hook: called on release with the whole allocation after it has been wiped and
        /// before it is freed.
        var inspector: ((UnsafeRawBufferPointer) -> Void)?
    }

    /// The owner: wipes and frees the bytes in `deinit`. For wiped storage the bytes are the
    /// buffer's tail elements, so value and bytes cost one allocation.
    final class Buffer: ManagedBuffer<Header, UInt8> {
        deinit {
            withUnsafeMutablePointers { header, elements in
                let size = Swift.max(header.pointee.count, 1)
                let bytes = header.pointee.guarded ?? UnsafeMutableRawPointer(elements)
                sodium_memzero(bytes, size)
                header.pointee.inspector?(UnsafeRawBufferPointer(start: bytes, count: size))
                if let guarded = header.pointee.guarded { sodium_free(guarded) }
            }
        }
    }

    private let buffer: Buffer

    /// The number of bytes.
    public var count: Int { buffer.header.count }

    /// Test hook: called with the whole allocation after it has been wiped and before it is freed.
    /// Only tests set it, before the last copy goes away.
    var releaseInspector: ((UnsafeRawBufferPointer) -> Void)? {
        get { buffer.header.inspector }
        nonmutating set { buffer.header.inspector = newValue }
    }

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
        var guarded: UnsafeMutableRawPointer?
        if storage == .guarded {
            guard let allocated = sodium_malloc(size) else {
                fatalError("sodium_malloc failed to allocate \(size) bytes for key material")
            }
            guarded = allocated
        }
        let created = Buffer.create(minimumCapacity: guarded == nil ? size : 0) { _ in
            Header(count: count, guarded: guarded, inspector: nil)
        }
        self.buffer = unsafeDowncast(created, to: Buffer.self)

        // The buffer owns the memory from here on: if the initializer throws, releasing the
        // buffer wipes and frees it.
        try buffer.withUnsafeMutablePointerToElements { elements in
            let bytes = guarded ?? UnsafeMutableRawPointer(elements)
            sodium_memzero(bytes, size)
            try initializer(UnsafeMutableRawBufferPointer(start: bytes, count: count))
        }
    }

    /// Copies `bytes` into new secure storage.
    ///
    /// - Note: the caller still owns `bytes` and should wipe them if they are secret.
    public init(copying bytes: some ContiguousBytes, storage: Storage = .guarded) {
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

    /// Calls `body` with a read-only view of the bytes; the pointer must not escape.
    @inlinable
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try withRawBytes { try body(UnsafeRawBufferPointer($0)) }
    }

    @usableFromInline
    func withRawBytes<Result>(_ body: (UnsafeMutableRawBufferPointer) throws -> Result) rethrows -> Result {
        try buffer.withUnsafeMutablePointers { header, elements in
            let bytes = header.pointee.guarded ?? UnsafeMutableRawPointer(elements)
            return try body(UnsafeMutableRawBufferPointer(start: bytes, count: header.pointee.count))
        }
    }
}

// MARK: - Equatable, constant-time

extension SecureBytes: Equatable {
    /// Compares in time that depends only on the length, with `sodium_memcmp`.
    public static func == (lhs: SecureBytes, rhs: SecureBytes) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.count == 0 { return true }
        return lhs.withUnsafeBytes { left in
            rhs.withUnsafeBytes { right in sodium_memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0 }
        }
    }
}

// MARK: - Redacted mirror

extension SecureBytes: CustomReflectable {
    /// A mirror without children, so `dump` and debuggers show no bytes.
    public var customMirror: Mirror { Mirror(self, children: [:], displayStyle: .struct) }
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
