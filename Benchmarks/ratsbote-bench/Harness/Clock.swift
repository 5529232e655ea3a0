import CSodiumBench

/// Reads the benchmark clock in nanoseconds (CLOCK_MONOTONIC by default, see `--clock`).
///
/// The clock lives in the C target so that the Swift harness and the self-timed C functions can
/// never disagree about which clock they read.
@inline(__always)
func clockNanoseconds() -> UInt64 {
    csb_now_ns()
}

/// The clock the batches are timed with.
enum BenchmarkClock: String {
    /// CLOCK_MONOTONIC: elapsed time, including time spent waiting for a core.
    case monotonic
    /// CLOCK_THREAD_CPUTIME_ID: CPU time of the running thread only, for machines shared with other work.
    case threadCPU = "thread-cpu"

    /// Makes this clock the one that `clockNanoseconds()` and the C side read.
    func activate() {
        csb_use_thread_cpu_clock(self == .threadCPU ? 1 : 0)
    }
}

/// Keeps a value alive and opaque to the optimiser, so the work that produced it is not removed.
@inline(never)
func consume<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
