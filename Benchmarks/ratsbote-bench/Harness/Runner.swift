/// How long and how often the runner measures.
struct RunSettings {
    /// The number of timed batches per side; fewer when a case would exceed `caseNanoseconds`.
    var runs = 31
    /// The fewest timed batches per side, even for slow cases.
    var minimumRuns = 5
    /// A batch repeats the operation until it lasts at least this long.
    var batchNanoseconds: UInt64 = 5_000_000
    /// The time budget of the timed batches of one case, both sides together.
    var caseNanoseconds: UInt64 = 4_000_000_000
}

/// The finished figures of one case.
struct CaseResult {
    let name: String
    let unit: FigureUnit
    /// The Swift figure in `unit`, or nil when the Swift side is pending.
    let swift: Double?
    /// The C figure in `unit`, or nil when the case has no C twin.
    let c: Double?
    /// Swift time over C time: the median over the rounds of the Swift batch time divided by the
    /// C batch time of the same round.
    let ratio: Double?
    let target: Double?
    /// Timed batches per side.
    let runs: Int
    /// The relative interquartile range of the Swift batches (of the C batches when Swift is pending).
    let spread: Double
    let cSpread: Double?
    /// Operations per batch.
    let iterations: Int
    let swiftPeakBytes: Int?
    let cPeakBytes: Int?
    let note: String?
    /// Set by custom cases whose target is not a ratio (for example a minimum throughput).
    var missedOwnTarget: Bool? = nil

    /// Whether the ratio exceeds the target, or a custom case missed its own target.
    var missesTarget: Bool {
        if let missedOwnTarget { return missedOwnTarget }
        guard let ratio, let target else { return false }
        return ratio > target
    }
}

/// A workload failed its own correctness check (libsodium returned an error).
struct BenchmarkFailure: Error, CustomStringConvertible {
    let caseName: String
    let reason: String

    var description: String { "benchmark \(caseName) failed: \(reason)" }
}

/// Measures paired cases: warm-up, calibration, then alternating Swift and C batches.
struct Runner {
    let settings: RunSettings

    /// Runs one case and returns its results.
    func run(_ benchmark: BenchmarkCase) throws -> [CaseResult] {
        switch benchmark.kind {
        case .custom(let run):
            return try run(settings)
        case .paired(let prepare):
            return [try runPaired(benchmark, workloads: prepare())]
        }
    }

    private func runPaired(_ benchmark: BenchmarkCase, workloads: PairedWorkloads) throws -> CaseResult {
        let sides = [workloads.swift, workloads.c].compactMap { $0 }
        guard !sides.isEmpty else {
            throw BenchmarkFailure(caseName: benchmark.name, reason: "neither a Swift nor a C workload")
        }

        // One operation each warms caches and checks that both sides work. Calibration on the
        // first side then sizes the batch, and both sides use that batch size.
        for side in sides { _ = try side.run(1) }
        let (iterations, batchEstimate) = try calibrate(sides[0])
        for side in sides.dropFirst() { _ = try side.run(iterations) }

        let budgetRuns = Int(settings.caseNanoseconds / Swift.max(batchEstimate * UInt64(sides.count), 1))
        let runs = Swift.max(settings.minimumRuns, Swift.min(settings.runs, budgetRuns))

        var samples = Array(repeating: [Double](), count: sides.count)
        var peaks = Array(repeating: 0, count: sides.count)
        for round in 0..<runs {
            // Alternate which side goes first, so drift in machine load does not favour one side.
            let order = round % 2 == 0 ? Array(sides.indices) : Array(sides.indices.reversed())
            for index in order {
                if benchmark.measuresMemory { PeakMemory.reset() }
                let elapsed = try sides[index].run(iterations)
                if benchmark.measuresMemory { peaks[index] = Swift.max(peaks[index], PeakMemory.peakBytes()) }
                samples[index].append(Double(elapsed) / Double(iterations))
            }
        }

        let summaries = samples.map { Summary(nanosecondsPerOperation: $0) }
        let swiftSummary = workloads.swift != nil ? summaries[0] : nil
        let cSummary = workloads.c != nil ? summaries[summaries.count - 1] : nil
        var ratio: Double?
        if workloads.swift != nil, workloads.c != nil {
            // The two batches of one round ran back to back under nearly the same machine load,
            // so the median of the per-round ratios resists load changes better than the ratio of
            // the two medians does.
            let perRound = zip(samples[0], samples[1]).map { swiftTime, cTime in swiftTime / cTime }
            ratio = Summary(nanosecondsPerOperation: perRound).median
        }
        let peak = { (present: Bool, index: Int) -> Int? in
            benchmark.measuresMemory && present ? peaks[index] : nil
        }
        return CaseResult(
            name: benchmark.name, unit: benchmark.unit,
            swift: swiftSummary.map { benchmark.unit.figure(nanosecondsPerOperation: $0.median) },
            c: cSummary.map { benchmark.unit.figure(nanosecondsPerOperation: $0.median) },
            ratio: ratio, target: benchmark.target, runs: runs,
            spread: (swiftSummary ?? cSummary!).spread, cSpread: cSummary?.spread, iterations: iterations,
            swiftPeakBytes: peak(workloads.swift != nil, 0), cPeakBytes: peak(workloads.c != nil, summaries.count - 1),
            note: workloads.note)
    }

    /// Finds an iteration count whose batch lasts at least `batchNanoseconds`, and that batch's time.
    private func calibrate(_ workload: Workload) throws -> (iterations: Int, nanoseconds: UInt64) {
        var iterations = 1
        while true {
            let elapsed = try workload.run(iterations)
            if elapsed >= settings.batchNanoseconds || iterations >= 1 << 30 {
                return (iterations, elapsed)
            }
            // Grow by the measured shortfall, between 2x and 100x, so short operations converge fast.
            let factor = Double(settings.batchNanoseconds) / Double(Swift.max(elapsed, 1))
            iterations = Int(Double(iterations) * Swift.min(Swift.max(factor * 1.1, 2), 100))
        }
    }
}
