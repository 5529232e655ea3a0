import Foundation

/// The facts about this run that BENCHMARKS.md records beside the figures.
enum Machine {
    /// Returns one line with the date, cores, CPU model, load, clock and command line.
    static func description(arguments: [String], clock: BenchmarkClock) -> String {
        let date = ISO8601DateFormatter().string(from: Date())
        let cores = ProcessInfo.processInfo.activeProcessorCount
        return "date \(date), \(cores) cores, CPU \(cpuModel()), load average \(loadAverage()), clock \(clock.rawValue), "
            + "command: \(arguments.joined(separator: " "))"
    }

    /// Reads the 1-minute load average from /proc/loadavg, which shows whether other work shared the cores.
    static func loadAverage() -> String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "unknown" }
        return text.split(separator: " ").first.map(String.init) ?? "unknown"
    }

    /// Returns the first `model name` in /proc/cpuinfo, or "unknown" where it is missing.
    static func cpuModel() -> String {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in info.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown"
    }
}
