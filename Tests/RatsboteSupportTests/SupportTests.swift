import RatsboteSupport
import Testing

struct ArgumentTests {
    let options = [OptionSpec("home"), OptionSpec("file", repeatable: true), .flag("json"), .flag("help", shortName: "h")]

    @Test func optionsFlagsAndPositionals() throws {
        let parsed = try ParsedArguments.parse(
            ["--home", "/tmp/a", "TO", "--file=x.pdf", "--file", "y.pdf", "--json"], options: options, positionalNames: ["TO"])
        #expect(parsed.value("home") == "/tmp/a")
        #expect(parsed.allValues("file") == ["x.pdf", "y.pdf"])
        #expect(parsed.flag("json"))
        #expect(parsed.positionals == ["TO"])
    }

    @Test func dashIsPositionalAndDoubleDashEndsOptions() throws {
        let parsed = try ParsedArguments.parse(["-", "--", "--json"], options: options, positionalNames: ["A", "B"])
        #expect(parsed.positionals == ["-", "--json"])
        #expect(!parsed.flag("json"))
    }

    @Test func usageErrors() {
        #expect(throws: UsageError.unknownOption("--bogus")) { try ParsedArguments.parse(["--bogus"], options: options, positionalNames: []) }
        #expect(throws: UsageError.missingValue(option: "--home")) { try ParsedArguments.parse(["--home"], options: options, positionalNames: []) }
        #expect(throws: UsageError.repeatedOption("--home")) {
            try ParsedArguments.parse(["--home", "a", "--home", "b"], options: options, positionalNames: [])
        }
        #expect(throws: UsageError.missingArgument(name: "TO")) { try ParsedArguments.parse([], options: options, positionalNames: ["TO"]) }
        #expect(throws: UsageError.unexpectedArgument("extra")) { try ParsedArguments.parse(["a", "extra"], options: options, positionalNames: ["TO"]) }
        #expect(throws: UsageError.unexpectedArgument("--json=1")) { try ParsedArguments.parse(["--json=1"], options: options, positionalNames: []) }
        #expect(throws: UsageError.unknownOption("-x")) { try ParsedArguments.parse(["-x"], options: options, positionalNames: []) }
    }

    @Test func optionalPositionalMayBeOmitted() throws {
        let parsed = try ParsedArguments.parse(["-h"], options: options, positionalNames: ["QUERY"], optionalPositionals: 1)
        #expect(parsed.positionals.isEmpty)
        #expect(parsed.flag("help"))
    }

    @Test(arguments: [("30d", 2_592_000), ("12h", 43_200), ("45m", 2_700), ("90s", 90), ("2w", 1_209_600), ("15", 15)])
    func durationsParse(text: String, seconds: Int) {
        #expect(parseDuration(text) == seconds)
    }

    @Test(arguments: ["", "d", "-5d", "1.5h", "3y", "99999999999999999999d"])
    func invalidDurationsAreRejected(text: String) {
        #expect(parseDuration(text) == nil)
    }
}

struct LanguageTests {
    @Test func optionWinsOverEnvironment() {
        #expect(Language.detect(option: "de", environment: ["LANG": "en_US.UTF-8"]) == .german)
        #expect(Language.detect(option: "en", environment: ["LC_ALL": "de_DE.UTF-8"]) == .english)
    }

    @Test func posixOrderIsLcAllThenLcMessagesThenLang() {
        #expect(Language.detect(option: nil, environment: ["LC_ALL": "de_DE.UTF-8", "LANG": "en_US"]) == .german)
        #expect(Language.detect(option: nil, environment: ["LC_MESSAGES": "de_AT", "LANG": "en_US"]) == .german)
        #expect(Language.detect(option: nil, environment: ["LC_ALL": "", "LANG": "de"]) == .german)
        #expect(Language.detect(option: nil, environment: ["LANG": "C"]) == .english)
        #expect(Language.detect(option: nil, environment: [:]) == .english)
        #expect(Language.detect(option: nil, environment: ["LANG": "fr_FR.UTF-8"]) == .english)
    }

    @Test func localizedPicksTheLanguage() {
        let text = Localized(en: "Passphrase", de: "Passphrase (de)")
        #expect(text.text(.german) == "Passphrase (de)")
        #expect(text.text(.english) == "Passphrase")
    }
}

struct LoggerTests {
    @Test func recordsAreKeyValueLinesWithRedaction() {
        let handler = InMemoryLogHandler()
        let logger = Logger(label: "test", minimumLevel: .info, handler: handler).with("connection", "7")
        logger.info("relay started", ["address": "127.0.0.1:7443", "token": .sensitive("secret-token")])
        logger.debug("not written")

        #expect(handler.lines.count == 1)
        let line = handler.lines[0]
        #expect(line.contains("level=info"))
        #expect(line.contains("msg=\"relay started\""))
        #expect(line.contains("connection=7"))
        #expect(line.contains("address=127.0.0.1:7443"))
        #expect(line.contains("token=<redacted>"))
        #expect(!line.contains("secret-token"))
    }

    @Test func valuesWithSpacesQuotesAndNewlinesAreQuoted() {
        let handler = InMemoryLogHandler()
        Logger(label: "test", handler: handler).warning("x", ["reason": "a \"b\"\nc"])
        #expect(handler.lines[0].contains(#"reason="a \"b\"\nc""#))
    }

    @Test func unknownLevelNamesAreNil() {
        #expect(LogLevel(name: "WARNING") == .warning)
        #expect(LogLevel(name: "verbose") == nil)
    }
}
