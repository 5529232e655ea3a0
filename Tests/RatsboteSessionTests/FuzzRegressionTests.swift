import Foundation
import RatsboteCrypto
import RatsboteTestSupport
import Testing

@testable import RatsboteSession

/// Inputs the session-state fuzz target found: skipped keys out of sequence order, or with equal
/// sequence numbers, were accepted although serialized() never writes them, so one state had
/// several encodings.
struct FuzzRegressionTests {
    static func findings() throws -> [URL] {
        let folder = packageRoot().appendingPathComponent("Fuzz/findings")
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent.contains("session-state") }
    }

    @Test func unorderedSkippedKeysAreRejected() throws {
        let files = try Self.findings()
        #expect(!files.isEmpty, "no session-state findings in Fuzz/findings")
        for file in files {
            let bytes = [UInt8](try Data(contentsOf: file))
            // The fuzz target's first byte selects the structure; 0 is Session.
            guard bytes.first == 0 else { continue }
            do {
                _ = try Session(serialized: SecureBytes(copying: Array(bytes.dropFirst()), storage: .wiped))
                Issue.record("\(file.lastPathComponent) restored a session")
            } catch let error as SessionError {
                guard case .malformed(_, let field, _) = error else {
                    Issue.record("\(file.lastPathComponent): expected malformed, got \(error)")
                    continue
                }
                #expect(field == "skippedKeys", "\(file.lastPathComponent) failed in \(field)")
            }
        }
    }
}
