internal import CSodium

/// Random bytes from libsodium's `randombytes_buf` (the operating system's CSPRNG).
public enum Random {
    /// Returns `count` random bytes. Use ``SecureBytes/random(count:storage:)`` for secrets.
    public static func bytes(count: Int) -> [UInt8] {
        Sodium.ensureInitialized()
        var result = [UInt8](repeating: 0, count: count)
        if count > 0 {
            result.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, count) }
        }
        return result
    }

    /// Fills `buffer` with random bytes.
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        Sodium.ensureInitialized()
        if let base = buffer.baseAddress, buffer.count > 0 { randombytes_buf(base, buffer.count) }
    }

    /// Returns a uniformly random integer below `upperBound` (which must be positive).
    public static func uniform(below upperBound: UInt32) -> UInt32 {
        Sodium.ensureInitialized()
        precondition(upperBound > 0, "upper bound must be positive")
        return randombytes_uniform(upperBound)
    }
}
