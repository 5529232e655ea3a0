import CEpoll

/// The memory of the running process.
public enum ProcessMemory {
    /// Hands heap pages that are free again back to the kernel, so resident memory falls after a
    /// burst instead of staying at its peak.
    ///
    /// glibc keeps freed memory for reuse and returns only what lies at the top of a heap. After
    /// a burst of buffered frames the free pages sit between live allocations, and a server's
    /// resident size would stay at the burst's peak. A trim walks every arena, so a server calls
    /// it from a timer, not per request.
    public static func trim() {
        _ = malloc_trim(0)
    }
}
