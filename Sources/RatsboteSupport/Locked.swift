import Foundation

/// A value shared between threads behind a POSIX mutex (`NSLock`).
///
/// ThreadSanitizer reported a data race inside `Synchronization.Mutex.withLock` under contention
/// (Swift 6.3 on Linux, where a contended `Mutex` waits on a futex in the kernel). ThreadSanitizer
/// intercepts `pthread_mutex_*`, so it tracks every lock and unlock of this type and reports only
/// real races.
public final class Locked<Value>: @unchecked Sendable {
    // @unchecked: `value` is read and written only while `lock` is held.
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with exclusive access to the value and returns what `body` returns.
    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
