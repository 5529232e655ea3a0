import Foundation
import Testing
import RatsboteCrypto

/// Finds and reads the third-party vectors kept beside the repository in `shared/vectors`.
enum Vectors {
    /// The vectors folder is missing; the message lists every path that was tried.
    struct NotFound: Error, CustomStringConvertible {
        let triedPaths: [String]
        var description: String {
            "test vectors folder not found; set RATSBOTE_VECTORS or place shared/vectors beside the repository. Tried:\n"
                + triedPaths.joined(separator: "\n")
        }
    }

    /// Returns the vectors folder: `RATSBOTE_VECTORS` when set, otherwise the first `shared/vectors`
    /// found in an ancestor of this source file or in that ancestor's parent.
    static func directory(filePath: String = #filePath) throws -> URL {
        let fileManager = FileManager.default
        var tried: [String] = []

        if let override = ProcessInfo.processInfo.environment["RATSBOTE_VECTORS"], !override.isEmpty {
            var isDirectory: ObjCBool = false
            if fileManager.fileExists(atPath: override, isDirectory: &isDirectory), isDirectory.boolValue {
                return URL(fileURLWithPath: override)
            }
            throw NotFound(triedPaths: ["\(override) (from RATSBOTE_VECTORS)"])
        }

        var ancestor = URL(fileURLWithPath: filePath).deletingLastPathComponent()
        while true {
            for base in [ancestor, ancestor.deletingLastPathComponent()] {
                let candidate = base.appendingPathComponent("shared/vectors").standardizedFileURL
                if !tried.contains(candidate.path) { tried.append(candidate.path) }
                var isDirectory: ObjCBool = false
                if fileManager.fileExists(atPath: candidate.path, isDirectory: &isDirectory), isDirectory.boolValue {
                    return candidate
                }
            }
            let parent = ancestor.deletingLastPathComponent()
            if parent.path == ancestor.path { break }
            ancestor = parent
        }
        throw NotFound(triedPaths: tried)
    }

    /// Decodes one vector file, given relative to the vectors folder (for example `rfc/rfc7693-blake2b.json`).
    static func load<T: Decodable>(_ relativePath: String, as type: T.Type) throws -> T {
        let url = try directory().appendingPathComponent(relativePath)
        let data = try Data(contentsOf: url)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(T.self, from: data)
    }

    /// Whether the slow vectors (the 1,000,000-step X25519 iteration) should run.
    static var slowTestsEnabled: Bool { ProcessInfo.processInfo.environment["RATSBOTE_SLOW_TESTS"] == "1" }
}

/// A byte string written as lowercase hex in a vector file.
struct Hex: Decodable, Equatable, CustomStringConvertible {
    let bytes: [UInt8]

    init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        bytes = try Encoding.bytes(fromHex: text)
    }

    var description: String { Encoding.hex(bytes) }
}

/// Counts the cases of one vector file and prints its summary line.
struct VectorTally {
    let file: String
    private(set) var total = 0
    private(set) var passed = 0
    private(set) var skipped = 0
    private var skipReason: String?

    init(file: String) { self.file = file }

    /// Records one case; `problems` lists every check that failed, and an empty list is a pass.
    mutating func record(_ caseName: String, problems: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        total += 1
        if problems.isEmpty {
            passed += 1
        } else {
            Issue.record("\(file) \(caseName): \(problems.joined(separator: "; "))", sourceLocation: sourceLocation)
        }
    }

    /// Records one case that is not run, with the reason shown in the summary line.
    mutating func skip(_ caseName: String, reason: String) {
        total += 1
        skipped += 1
        skipReason = reason
    }

    /// The summary line: `vectors <file>: <N> cases, <P> passed, <S> skipped (<reason>)`.
    var summary: String {
        "vectors \(file): \(total) cases, \(passed) passed, \(skipped) skipped (\(skipReason ?? "none"))"
    }

    /// Prints the summary line and fails the test unless every case passed or was skipped.
    func finish(expectedTotal: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        print(summary)
        #expect(passed + skipped == total, "\(summary)", sourceLocation: sourceLocation)
        if let expectedTotal {
            #expect(total == expectedTotal, "\(file): ran \(total) cases, the file declares \(expectedTotal)", sourceLocation: sourceLocation)
        }
    }
}

/// Collects failed checks of one vector case. A class, so that closures given to ``run(_:_:)``
/// can record into it.
final class CaseCheck {
    private(set) var problems: [String] = []

    func expect(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { problems.append(message()) }
    }

    /// Runs `body` and records any error it throws as a problem.
    func run(_ what: String, _ body: () throws -> Void) {
        do { try body() } catch { problems.append("\(what) threw \(error)") }
    }
}

extension SecureBytes {
    /// A copy of the bytes for comparison in tests; production code never copies key material out.
    var testCopy: [UInt8] { withUnsafeBytes { Array($0) } }
}
