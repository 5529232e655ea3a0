import Foundation

/// The language of everything a person reads on screen.
public enum Language: String, Sendable, CaseIterable {
    case english = "en"
    case german = "de"

    /// Picks the language from `--lang`, then `LC_ALL`, `LC_MESSAGES`, `LANG` (the POSIX order),
    /// defaulting to English. `de`, `de_DE.UTF-8` and `de-AT` all mean German.
    public static func detect(option: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> Language {
        if let option, let language = Language(code: option) { return language }
        for variable in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            guard let value = environment[variable], !value.isEmpty else { continue }
            // The first non-empty variable decides, as POSIX locale lookup does.
            return Language(code: value) ?? .english
        }
        return .english
    }

    /// Parses a language code or locale name; `nil` when it names neither German nor English.
    public init?(code: String) {
        let lowered = code.lowercased()
        if lowered == "c" || lowered == "posix" || lowered.hasPrefix("en") {
            self = .english
        } else if lowered.hasPrefix("de") {
            self = .german
        } else {
            return nil
        }
    }
}

/// A text in both languages. Screens pick one with ``text(_:)``.
public struct Localized: Sendable, ExpressibleByStringLiteral {
    public var english: String
    public var german: String

    public init(en english: String, de german: String) {
        self.english = english
        self.german = german
    }

    /// The same text in both languages, for things that are not words (paths, codes).
    public init(stringLiteral value: String) {
        self.english = value
        self.german = value
    }

    public func text(_ language: Language) -> String {
        language == .german ? german : english
    }
}
