/// Counts of latencies in microseconds, with fixed memory however many samples arrive.
///
/// Values below 128 µs have their own bucket. Above that, each power of two is split into 64
/// buckets, so a percentile is off by at most 1/64 (1.6 %) of its value.
struct LatencyHistogram: Sendable {
    private var counts = [UInt64](repeating: 0, count: 128 + 64 * 57)
    private(set) var total: UInt64 = 0

    /// Adds one sample.
    mutating func record(microseconds value: UInt64) {
        counts[Self.index(of: value)] += 1
        total += 1
    }

    /// Adds every sample of `other`.
    mutating func merge(_ other: LatencyHistogram) {
        for index in counts.indices { counts[index] += other.counts[index] }
        total += other.total
    }

    /// Returns the value below which `fraction` of the samples lie (0.5 for the median), or nil when empty.
    func percentile(_ fraction: Double) -> UInt64? {
        guard total > 0 else { return nil }
        let rank = UInt64((Double(total) * fraction).rounded(.up))
        var seen: UInt64 = 0
        for (index, count) in counts.enumerated() where count > 0 {
            seen += count
            if seen >= Swift.max(rank, 1) { return Self.value(at: index) }
        }
        return Self.value(at: counts.count - 1)
    }

    private static func index(of value: UInt64) -> Int {
        if value < 128 { return Int(value) }
        let highestBit = 63 - value.leadingZeroBitCount
        let shift = highestBit - 6
        let subBucket = Int((value >> UInt64(shift)) & 63)
        return 128 + (highestBit - 7) * 64 + subBucket
    }

    /// Returns the middle of the bucket's range.
    private static func value(at index: Int) -> UInt64 {
        if index < 128 { return UInt64(index) }
        let highestBit = (index - 128) / 64 + 7
        let subBucket = UInt64((index - 128) % 64)
        let shift = UInt64(highestBit - 6)
        return ((64 + subBucket) << shift) + (UInt64(1) << shift) / 2
    }
}
