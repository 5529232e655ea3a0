// The case registry. A case is a name, a unit and a factory that builds its Swift and C
// workloads. Custom cases (for example relay load) measure themselves and return their results.

/// The unit of a case's figure.
enum FigureUnit: Equatable {
    /// Operations per second.
    case operationsPerSecond
    /// Payload throughput in MB/s (10^6 bytes per second), for operations of a fixed size.
    case megabytesPerSecond(bytesPerOperation: Int)
    /// A figure that a custom case measures and reports itself, with its label (for example `ms`).
    case reported(label: String)

    /// The label printed in the table and written to JSON.
    var label: String {
        switch self {
        case .operationsPerSecond: return "ops/s"
        case .megabytesPerSecond: return "MB/s"
        case .reported(let label): return label
        }
    }

    /// Converts a time per operation in nanoseconds into this unit.
    func figure(nanosecondsPerOperation: Double) -> Double {
        switch self {
        case .operationsPerSecond:
            return 1e9 / nanosecondsPerOperation
        case .megabytesPerSecond(let bytes):
            return Double(bytes) * 1e3 / nanosecondsPerOperation
        case .reported:
            // Only paired cases convert times; a reported figure is already in its unit.
            return 1e9 / nanosecondsPerOperation
        }
    }
}

/// One side of a case: runs a given number of operations and returns the nanoseconds they took.
struct Workload {
    /// Runs `iterations` operations and returns the elapsed nanoseconds on the benchmark clock.
    let run: (_ iterations: Int) throws -> UInt64

    /// Makes a workload that the harness times around the whole batch.
    static func timed(_ body: @escaping (_ iterations: Int) throws -> Void) -> Workload {
        Workload { iterations in
            let start = clockNanoseconds()
            try body(iterations)
            return clockNanoseconds() - start
        }
    }

    /// Makes a workload that times only part of its own work (for example pull without the push that
    /// feeds it) and returns the nanoseconds it measured.
    static func selfTimed(_ body: @escaping (_ iterations: Int) throws -> UInt64) -> Workload {
        Workload(run: body)
    }
}

/// The workloads of a paired case, built when the case is selected.
struct PairedWorkloads {
    /// The Swift side, or nil while the Swift API does not exist yet.
    var swift: Workload?
    /// The same work done directly on libsodium, or nil when the case has no C twin.
    var c: Workload?
    /// Shown in the table and written to JSON when the Swift side is missing.
    var note: String?
}

/// A registered case.
struct BenchmarkCase {
    /// The way the case produces results.
    enum Kind {
        /// Swift and C batches timed by the harness, alternating within one run.
        case paired(prepare: () throws -> PairedWorkloads)
        /// A case that measures itself and returns one or more finished results.
        case custom(run: (RunSettings) throws -> [CaseResult])
    }

    /// A dotted name such as `xchacha20poly1305.encrypt.1KiB`; `--filter` matches substrings of it.
    let name: String
    let unit: FigureUnit
    /// The largest acceptable Swift/C time ratio, or nil when no target applies.
    let target: Double?
    /// Whether to record peak resident memory for each batch (costs two file accesses per batch).
    let measuresMemory: Bool
    let kind: Kind
}

/// The ordered list of registered cases.
struct CaseRegistry {
    private(set) var cases: [BenchmarkCase] = []

    /// The target ratio for cases that do not set their own.
    static let defaultTarget = 1.05

    /// Adds a case measured on both sides; `prepare` runs only if the case is selected, outside
    /// the timed region.
    mutating func add(
        _ name: String, unit: FigureUnit, target: Double? = CaseRegistry.defaultTarget, measuresMemory: Bool = false,
        prepare: @escaping () throws -> PairedWorkloads
    ) {
        precondition(!cases.contains { $0.name == name }, "benchmark case \(name) registered twice")
        cases.append(
            BenchmarkCase(name: name, unit: unit, target: target, measuresMemory: measuresMemory, kind: .paired(prepare: prepare)))
    }

    /// Adds a case that reports its own figures.
    mutating func addCustom(
        _ name: String, unit: FigureUnit, target: Double? = nil, run: @escaping (RunSettings) throws -> [CaseResult]
    ) {
        precondition(!cases.contains { $0.name == name }, "benchmark case \(name) registered twice")
        cases.append(BenchmarkCase(name: name, unit: unit, target: target, measuresMemory: false, kind: .custom(run: run)))
    }

    /// Returns the cases whose names contain any of `filters`, or all cases when `filters` is empty.
    func selected(by filters: [String]) -> [BenchmarkCase] {
        guard !filters.isEmpty else { return cases }
        return cases.filter { benchmark in filters.contains { benchmark.name.contains($0) } }
    }
}
