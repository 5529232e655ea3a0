/// Command-line options of ratsbote-bench.
struct Options {
    var filters: [String] = []
    var jsonPath: String?
    var list = false
    var clock = BenchmarkClock.monotonic
    var settings = RunSettings()

    static let usage = """
        usage: ratsbote-bench [--filter NAME]... [--json FILE] [--runs N] [--batch-ms MS] [--case-seconds S]
                              [--clock monotonic|thread-cpu] [--list]

          --filter NAME      run only cases whose name contains NAME (repeatable; default: all)
          --json FILE        also write the results to FILE as a JSON array, one object per case
          --runs N           timed batches per side and case (default 31); slow cases run fewer,
                             but never fewer than 5 or N, whichever is smaller
          --batch-ms MS      minimum length of one timed batch in milliseconds (default 5)
          --case-seconds S   time budget of one case's timed batches in seconds (default 4)
          --clock CLOCK      monotonic (default): elapsed time; thread-cpu: CPU time of the
                             benchmark thread, which leaves out waits for a busy core
          --list             print the case names and exit
          --help             print this help and exit
        """

    /// A usage error: the message names the option and what is expected.
    struct UsageError: Error, CustomStringConvertible {
        let description: String
    }

    /// Whether the arguments requested help.
    private(set) var helpRequested = false

    /// Parses the arguments after the program name.
    init(arguments: [String]) throws {
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            switch argument {
            case "--help", "-h":
                helpRequested = true
            case "--list":
                list = true
            case "--filter":
                filters.append(try Self.value(for: argument, from: &remaining))
            case "--json":
                jsonPath = try Self.value(for: argument, from: &remaining)
            case "--runs":
                settings.runs = try Self.positiveInteger(for: argument, from: &remaining)
                settings.minimumRuns = Swift.min(settings.minimumRuns, settings.runs)
            case "--batch-ms":
                settings.batchNanoseconds = UInt64(try Self.positiveInteger(for: argument, from: &remaining)) * 1_000_000
            case "--case-seconds":
                settings.caseNanoseconds = UInt64(try Self.positiveInteger(for: argument, from: &remaining)) * 1_000_000_000
            case "--clock":
                let name = try Self.value(for: argument, from: &remaining)
                guard let clock = BenchmarkClock(rawValue: name) else {
                    throw UsageError(description: "--clock must be monotonic or thread-cpu, got '\(name)'")
                }
                self.clock = clock
            default:
                throw UsageError(description: "unknown argument '\(argument)'; run ratsbote-bench --help for the options")
            }
        }
    }

    private static func value(for option: String, from remaining: inout ArraySlice<String>) throws -> String {
        guard let value = remaining.popFirst(), !value.hasPrefix("--") else {
            throw UsageError(description: "\(option) requires a value")
        }
        return value
    }

    private static func positiveInteger(for option: String, from remaining: inout ArraySlice<String>) throws -> Int {
        let text = try value(for: option, from: &remaining)
        guard let number = Int(text), number > 0 else {
            throw UsageError(description: "\(option) must be a positive integer, got '\(text)'")
        }
        return number
    }
}
