import Foundation

/// Peak resident memory of this process, resettable between batches on Linux.
enum PeakMemory {
    /// Resets the kernel's high-water mark (VmHWM) to the current resident size.
    ///
    /// - Returns: false when the reset is unavailable (not Linux, or /proc/self/clear_refs not
    ///   writable); the peak then covers the whole process so far.
    @discardableResult
    static func reset() -> Bool {
        // Writing "5" to clear_refs resets the peak RSS counter (Linux 4.0 and later).
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        do {
            try handle.write(contentsOf: Array("5".utf8))
            return true
        } catch {
            return false
        }
    }

    /// Returns the peak resident set size in bytes since the last reset: VmHWM from /proc/self/status,
    /// or getrusage's ru_maxrss where /proc is missing.
    static func peakBytes() -> Int {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
            for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                if fields.count >= 2, let kibibytes = Int(fields[1]) { return kibibytes * 1024 }
            }
        }
        var usage = rusage()
        #if canImport(Darwin)
        getrusage(RUSAGE_SELF, &usage)
        return Int(usage.ru_maxrss)
        #else
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) * 1024
        #endif
    }
}
