/// One option a command accepts: `--name VALUE`, `--name=VALUE` or a flag `--name`.
public struct OptionSpec: Sendable, Hashable {
    public var name: String
    public var takesValue: Bool
    public var repeatable: Bool
    /// A one-letter alias such as `h` for `-h`.
    public var shortName: Character?

    public init(_ name: String, takesValue: Bool = true, repeatable: Bool = false, shortName: Character? = nil) {
        self.name = name
        self.takesValue = takesValue
        self.repeatable = repeatable
        self.shortName = shortName
    }

    /// A flag without a value.
    public static func flag(_ name: String, shortName: Character? = nil) -> OptionSpec {
        OptionSpec(name, takesValue: false, shortName: shortName)
    }
}

/// A mistake in the command line. The CLI prints it with the usage and exits with status 2.
public enum UsageError: Error, Equatable, Sendable {
    case unknownOption(String)
    case missingValue(option: String)
    case repeatedOption(String)
    case unexpectedArgument(String)
    case missingArgument(name: String)
    case invalidValue(option: String, value: String, expected: String)
    case unknownCommand(String)
    case missingCommand
}

/// The result of parsing: option values, flags and positional arguments.
public struct ParsedArguments: Sendable, Equatable {
    public private(set) var values: [String: [String]] = [:]
    public private(set) var flags: Set<String> = []
    public private(set) var positionals: [String] = []

    /// An empty result: no options, flags or positionals.
    public init() {}

    /// The value of an option given once, or `nil`.
    public func value(_ name: String) -> String? { values[name]?.last }

    /// Every value of a repeatable option, in order.
    public func allValues(_ name: String) -> [String] { values[name] ?? [] }

    /// Whether a flag was given.
    public func flag(_ name: String) -> Bool { flags.contains(name) }

    /// Parses `arguments` against `options`.
    ///
    /// `--` ends option parsing; `-` alone is a positional argument (standard input).
    ///
    /// - Throws: ``UsageError`` for unknown options, missing values, repeated single options
    ///   and positional counts outside `positionalCount`.
    public static func parse(
        _ arguments: [String], options: [OptionSpec], positionalNames: [String], optionalPositionals: Int = 0
    ) throws -> ParsedArguments {
        var result = ParsedArguments()
        var index = 0
        var optionsEnded = false

        while index < arguments.count {
            let argument = arguments[index]
            index += 1

            if optionsEnded || argument == "-" || !argument.hasPrefix("-") {
                result.positionals.append(argument)
                continue
            }
            if argument == "--" {
                optionsEnded = true
                continue
            }

            var name: String
            var inlineValue: String?
            if argument.hasPrefix("--") {
                name = String(argument.dropFirst(2))
                if let equals = name.firstIndex(of: "=") {
                    inlineValue = String(name[name.index(after: equals)...])
                    name = String(name[..<equals])
                }
            } else {
                let letters = argument.dropFirst()
                guard letters.count == 1, let spec = options.first(where: { $0.shortName == letters.first }) else {
                    throw UsageError.unknownOption(argument)
                }
                name = spec.name
            }

            guard let spec = options.first(where: { $0.name == name }) else { throw UsageError.unknownOption("--\(name)") }
            if spec.takesValue {
                let value: String
                if let inlineValue {
                    value = inlineValue
                } else {
                    guard index < arguments.count else { throw UsageError.missingValue(option: "--\(name)") }
                    value = arguments[index]
                    index += 1
                }
                if !spec.repeatable, result.values[name] != nil { throw UsageError.repeatedOption("--\(name)") }
                result.values[name, default: []].append(value)
            } else {
                guard inlineValue == nil else { throw UsageError.unexpectedArgument(argument) }
                result.flags.insert(name)
            }
        }

        let required = positionalNames.count - optionalPositionals
        if result.positionals.count < required {
            throw UsageError.missingArgument(name: positionalNames[result.positionals.count])
        }
        if result.positionals.count > positionalNames.count {
            throw UsageError.unexpectedArgument(result.positionals[positionalNames.count])
        }
        return result
    }
}

/// Parses durations such as `30d`, `12h`, `45m`, `90s` or a bare number of seconds.
public func parseDuration(_ text: String) -> Int? {
    guard let last = text.last else { return nil }
    let multipliers: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800]
    if let multiplier = multipliers[last] {
        guard let number = Int(text.dropLast()), number >= 0 else { return nil }
        let (product, overflow) = number.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }
    guard let number = Int(text), number >= 0 else { return nil }
    return number
}
