// RatsboteSupport: the small pieces that outside packages would otherwise supply (logging,
// argument parsing, language selection). It is its own module because both executables and the
// relay and client libraries use it, and it depends on nothing but Foundation.

import Foundation

/// Log levels, lowest first, with the same meaning as swift-log's.
public enum LogLevel: Int, Comparable, Sendable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    public var name: String {
        switch self {
        case .trace: return "trace"
        case .debug: return "debug"
        case .info: return "info"
        case .notice: return "notice"
        case .warning: return "warning"
        case .error: return "error"
        case .critical: return "critical"
        }
    }

    /// Parses a level name; unknown names map to `nil`.
    public init?(name: String) {
        guard let level = LogLevel.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = level
    }
}

/// A metadata value: public values are printed, sensitive ones are redacted by every handler.
public enum LogValue: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, CustomStringConvertible {
    case `public`(String)
    case sensitive(String)

    public init(stringLiteral value: String) { self = .public(value) }
    public init(integerLiteral value: Int) { self = .public(String(value)) }

    public var description: String {
        switch self {
        case .public(let text): return text
        case .sensitive: return "<redacted>"
        }
    }
}

/// Where log records go.
public protocol LogHandler: Sendable {
    func write(_ record: LogRecord)
}

/// One log event.
public struct LogRecord: Sendable {
    public var timestamp: Date
    public var level: LogLevel
    public var label: String
    public var message: String
    public var metadata: [(String, LogValue)]
    public var file: String
    public var line: Int

    /// The record as one `key=value` line, values quoted when they contain spaces, quotes or `=`.
    public func formatted() -> String {
        var fields: [(String, String)] = [
            ("ts", Self.timestampText(timestamp)),
            ("level", level.name),
            ("logger", label),
            ("msg", message),
        ]
        for (key, value) in metadata { fields.append((key, value.description)) }
        return fields.map { "\($0.0)=\(Self.quoted($0.1))" }.joined(separator: " ")
    }

    /// UTC time with milliseconds, e.g. `2026-12-04T19:40:00.123Z`.
    static func timestampText(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: Swift.max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(milliseconds % 1000), 3))Z"
    }

    static func quoted(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\\" || $0.isNewline }
        guard needsQuotes else { return value }
        var escaped = ""
        for character in value {
            switch character {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            default: escaped.append(character)
            }
        }
        return "\"\(escaped)\""
    }
}

/// Writes `key=value` lines to standard error (journald keeps them as they are).
public struct StandardErrorLogHandler: LogHandler {
    public init() {}

    public func write(_ record: LogRecord) {
        let line = record.formatted() + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}

/// Keeps records in memory, for tests that check what was logged.
public final class InMemoryLogHandler: LogHandler {
    private let records = Locked<[LogRecord]>([])

    public init() {}

    public func write(_ record: LogRecord) {
        records.withLock { $0.append(record) }
    }

    /// Every record so far.
    public var entries: [LogRecord] { records.withLock { $0 } }

    /// Every record as its formatted line.
    public var lines: [String] { entries.map { $0.formatted() } }
}

/// A logger: a label, a minimum level and a handler. Executables create one and pass it down;
/// libraries never create their own.
public struct Logger: Sendable {
    public var label: String
    public var minimumLevel: LogLevel
    public var handler: any LogHandler
    /// Metadata added to every record of this logger (for example a connection id).
    public var metadata: [(String, LogValue)] = []

    public init(label: String, minimumLevel: LogLevel = .info, handler: any LogHandler = StandardErrorLogHandler()) {
        self.label = label
        self.minimumLevel = minimumLevel
        self.handler = handler
    }

    /// A logger that drops every record.
    public static var disabled: Logger { Logger(label: "disabled", minimumLevel: .critical, handler: NullLogHandler()) }

    /// A copy with one more metadata field on every record.
    public func with(_ key: String, _ value: LogValue) -> Logger {
        var copy = self
        copy.metadata.append((key, value))
        return copy
    }

    public func log(
        _ level: LogLevel, _ message: @autoclosure () -> String, _ metadata: KeyValuePairs<String, LogValue> = [:],
        file: String = #fileID, line: Int = #line
    ) {
        guard level >= minimumLevel else { return }
        var fields = self.metadata
        for (key, value) in metadata { fields.append((key, value)) }
        handler.write(
            LogRecord(timestamp: Date(), level: level, label: label, message: message(), metadata: fields, file: file, line: line))
    }

    public func debug(_ message: @autoclosure () -> String, _ metadata: KeyValuePairs<String, LogValue> = [:], file: String = #fileID, line: Int = #line) {
        log(.debug, message(), metadata, file: file, line: line)
    }

    public func info(_ message: @autoclosure () -> String, _ metadata: KeyValuePairs<String, LogValue> = [:], file: String = #fileID, line: Int = #line) {
        log(.info, message(), metadata, file: file, line: line)
    }

    public func notice(_ message: @autoclosure () -> String, _ metadata: KeyValuePairs<String, LogValue> = [:], file: String = #fileID, line: Int = #line) {
        log(.notice, message(), metadata, file: file, line: line)
    }

    public func warning(_ message: @autoclosure () -> String, _ metadata: KeyValuePairs<String, LogValue> = [:], file: String = #fileID, line: Int = #line) {
        log(.warning, message(), metadata, file: file, line: line)
    }

    public func error(_ message: @autoclosure () -> String, _ metadata: KeyValuePairs<String, LogValue> = [:], file: String = #fileID, line: Int = #line) {
        log(.error, message(), metadata, file: file, line: line)
    }
}

struct NullLogHandler: LogHandler {
    func write(_ record: LogRecord) {}
}
