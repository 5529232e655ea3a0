#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads CLOCK_MONOTONIC in nanoseconds, unaffected by changes to the wall clock.
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// Keeps a value alive and opaque to the optimiser, so the work that produced it is not removed.
@inline(never)
func consume<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
