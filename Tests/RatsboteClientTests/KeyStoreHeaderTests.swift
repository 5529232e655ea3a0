import RatsboteClient
import RatsboteCrypto
import Testing

/// `KeyStore.parseHeader` checks everything a file controls before Argon2id runs; fuzz-key-store
/// relies on it and these tests pin its errors.
struct KeyStoreHeaderTests {
    /// Builds a key store file with the given costs and a ciphertext of the right size (not a valid one).
    static func file(operations: UInt64, memoryBytes: UInt64, version: UInt8 = 1) -> [UInt8] {
        func bigEndian(_ value: UInt64) -> [UInt8] { (0..<8).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        return Array("RBKS".utf8) + [version] + bigEndian(operations) + bigEndian(memoryBytes)
            + [UInt8](repeating: 0x33, count: 16) + [UInt8](repeating: 0x44, count: 32) + [UInt8](repeating: 0x55, count: 24)
            + [UInt8](repeating: 0x66, count: 144)
    }

    @Test func interactiveCostsParse() throws {
        let header = try KeyStore.parseHeader(Self.file(operations: 2, memoryBytes: 64 << 20), path: "k")
        #expect(header.parameters == .interactive)
        #expect(header.salt == [UInt8](repeating: 0x33, count: 16))
        #expect(header.check == [UInt8](repeating: 0x44, count: 32))
        #expect(header.nonce == [UInt8](repeating: 0x55, count: 24))
    }

    /// Operations and memory bytes just outside each bound, and both at their largest values.
    static let outOfBounds: [(UInt64, UInt64)] = [(1, 64 << 20), (11, 64 << 20), (2, (64 << 20) - 1), (2, (1 << 30) + 1), (.max, .max)]

    @Test(arguments: outOfBounds)
    func costsOutsideBoundsAreRejected(operations: UInt64, memoryBytes: UInt64) {
        do {
            _ = try KeyStore.parseHeader(Self.file(operations: operations, memoryBytes: memoryBytes), path: "k")
            Issue.record("costs \(operations)/\(memoryBytes) were accepted")
        } catch let error as ClientError {
            guard case .keyStoreDamaged(let path, let reason) = error else {
                Issue.record("expected keyStoreDamaged, got \(error)")
                return
            }
            #expect(path == "k")
            #expect(reason.hasPrefix("Argon2id parameters out of bounds"))
        } catch {
            Issue.record("expected ClientError, got \(error)")
        }
    }

    @Test func shortFileAndWrongVersionAreRejected() {
        let valid = Self.file(operations: 2, memoryBytes: 64 << 20)
        #expect(throws: ClientError.keyStoreDamaged(path: "k", reason: "file has 100 bytes, too short")) {
            try KeyStore.parseHeader(Array(valid.prefix(100)), path: "k")
        }
        #expect(throws: ClientError.keyStoreUnsupportedVersion(path: "k", version: 2)) {
            try KeyStore.parseHeader(Self.file(operations: 2, memoryBytes: 64 << 20, version: 2), path: "k")
        }
    }
}
