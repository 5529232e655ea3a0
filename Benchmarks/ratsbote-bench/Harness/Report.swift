import Foundation

/// Renders results as a terminal table and as the JSON array that `--json` writes.
enum Report {
    /// The table header and column widths.
    private static let columns: [(title: String, width: Int)] = [
        ("case", 36), ("unit", 6), ("Swift", 12), ("C", 12), ("ratio", 7), ("target", 7), ("runs", 5),
        ("spread", 7), ("peak RSS Swift/C", 18),
    ]

    /// The header line printed before the first result.
    static func header() -> String {
        row(columns.map(\.title))
    }

    /// One table line for a result, with a trailing note for a missed target or a pending side.
    static func line(for result: CaseResult) -> String {
        var peak = ""
        if result.swiftPeakBytes != nil || result.cPeakBytes != nil {
            peak = "\(mebibytes(result.swiftPeakBytes)) / \(mebibytes(result.cPeakBytes))"
        }
        var text = row([
            result.name, result.unit.label, figure(result.swift), figure(result.c),
            result.ratio.map { String(format: "%.3f", $0) } ?? "-",
            result.target.map { String(format: "%.2f", $0) } ?? "-",
            String(result.runs), String(format: "%.1f%%", result.spread * 100), peak,
        ])
        if result.missesTarget { text += "  MISS" }
        if let note = result.note { text += "  (\(note))" }
        return text
    }

    /// Encodes results as a JSON array, one object per case.
    static func json(_ results: [CaseResult]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(results.map(JSONResult.init))
    }

    private static func row(_ cells: [String]) -> String {
        zip(cells, columns).enumerated().map { index, pair in
            let (cell, column) = pair
            let padding = String(repeating: " ", count: Swift.max(column.width - cell.count, 0))
            // The name column is left-aligned, the figures right-aligned.
            return index == 0 ? cell + padding : padding + cell
        }.joined(separator: " ").trimmingCharacters(in: .whitespaces)
    }

    private static func figure(_ value: Double?) -> String {
        guard let value else { return "-" }
        if value >= 100 { return String(format: "%.0f", value) }
        return String(format: "%.2f", value)
    }

    private static func mebibytes(_ bytes: Int?) -> String {
        guard let bytes else { return "-" }
        return String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }
}

/// The JSON form of a result; absent values are written as null, not left out.
private struct JSONResult: Encodable {
    let result: CaseResult

    enum CodingKeys: String, CodingKey {
        case name, unit, swift, c, ratio, runs, spread, target, iterations, note
        case cSpread = "c_spread"
        case swiftPeakBytes = "swift_peak_rss_bytes"
        case cPeakBytes = "c_peak_rss_bytes"
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(result.name, forKey: .name)
        try container.encode(result.unit.label, forKey: .unit)
        try container.encode(result.swift, forKey: .swift)
        try container.encode(result.c, forKey: .c)
        try container.encode(result.ratio, forKey: .ratio)
        try container.encode(result.runs, forKey: .runs)
        try container.encode(result.spread, forKey: .spread)
        try container.encode(result.cSpread, forKey: .cSpread)
        try container.encode(result.target, forKey: .target)
        try container.encode(result.iterations, forKey: .iterations)
        try container.encode(result.swiftPeakBytes, forKey: .swiftPeakBytes)
        try container.encode(result.cPeakBytes, forKey: .cPeakBytes)
        try container.encode(result.note, forKey: .note)
    }
}
