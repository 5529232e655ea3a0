/// Summary of repeated batch timings of one side.
struct Summary: Equatable {
    /// The median time per operation in nanoseconds.
    let median: Double
    /// The interquartile range divided by the median: 0.02 means the middle half of the runs lie
    /// within 2 % of the median's size.
    let spread: Double
    /// The number of timed batches.
    let runs: Int

    /// Summarises per-operation times; `samples` must not be empty.
    init(nanosecondsPerOperation samples: [Double]) {
        precondition(!samples.isEmpty, "a summary needs at least one sample")
        let sorted = samples.sorted()
        median = Self.quantile(sorted, 0.5)
        let interquartile = Self.quantile(sorted, 0.75) - Self.quantile(sorted, 0.25)
        spread = median > 0 ? interquartile / median : 0
        runs = samples.count
    }

    /// The quantile `q` of sorted samples, interpolating linearly between neighbours.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = Swift.min(lower + 1, sorted.count - 1)
        let fraction = position - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }
}
