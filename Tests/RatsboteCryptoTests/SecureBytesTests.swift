import Foundation
import Testing
@testable import RatsboteCrypto

@Suite("SecureBytes")
struct SecureBytesTests {
    /// Records what the release hook saw; a class, so the hook can write into it.
    final class ReleaseObservation: @unchecked Sendable {
        var calls = 0
        var allZero = false
        var byteCount = 0
    }

    @Test(arguments: [SecureBytes.Storage.guarded, .wiped], [0, 1, 32, 4097])
    func zeroedAfterRelease(storage: SecureBytes.Storage, count: Int) {
        let observation = ReleaseObservation()
        do {
            let secret = SecureBytes(count: count, storage: storage) { buffer in
                for index in buffer.indices { buffer[index] = UInt8(truncatingIfNeeded: index) | 0x80 }
            }
            secret.withUnsafeBytes { #expect($0.allSatisfy { $0 != 0 }) }
            secret.releaseInspector = { memory in
                observation.calls += 1
                observation.byteCount = memory.count
                observation.allZero = memory.allSatisfy { $0 == 0 }
            }
        }
        #expect(observation.calls == 1)
        #expect(observation.allZero)
        #expect(observation.byteCount == max(count, 1))
    }

    @Test func constantTimeEquality() {
        let bytes: [UInt8] = Array(0..<32)
        let a = SecureBytes(copying: bytes)
        let b = SecureBytes(copying: bytes, storage: .wiped)
        var changed = bytes
        changed[31] ^= 1
        let c = SecureBytes(copying: changed)
        let shorter = SecureBytes(copying: bytes.prefix(31))

        #expect(a == b)
        #expect(a != c)
        #expect(a != shorter)
        #expect(SecureBytes(copying: [UInt8]()) == SecureBytes(copying: [UInt8](), storage: .wiped))
        #expect(constantTimeEqual(bytes, bytes))
        #expect(!constantTimeEqual(bytes, changed))
        #expect(!constantTimeEqual(bytes, Array(bytes.prefix(31))))
        #expect(constantTimeEqual([UInt8](), [UInt8]()))
    }

    @Test func descriptionIsRedacted() {
        let bytes: [UInt8] = [0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67]
        let secret = SecureBytes(copying: bytes)
        let hex = Encoding.hex(bytes)
        var dumped = ""
        dump(secret, to: &dumped)
        for text in ["\(secret)", String(reflecting: secret), dumped] {
            #expect(!text.contains(hex))
            #expect(!text.contains("222, 173"))
        }
        #expect("\(secret)" == "SecureBytes(8 bytes, redacted)")

        let key = try? SymmetricKey(copying: [UInt8](repeating: 0xab, count: 32))
        var keyDump = ""
        dump(key, to: &keyDump)
        #expect(!keyDump.contains(String(repeating: "ab", count: 4)))
        #expect(!keyDump.contains("171"))
    }

    @Test func closuresSeeTheStorageNotACopy() {
        let source: [UInt8] = Array(repeating: 7, count: 32)
        let secret = SecureBytes(copying: source, storage: .wiped)
        let first = secret.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
        let second = secret.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
        let sourceAddress = source.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
        // Every access reaches the one allocation, and that allocation is not the caller's array.
        #expect(first == second)
        #expect(first != sourceAddress)

        // Nothing reflects the bytes out: no child of the mirror is a byte array.
        for child in Mirror(reflecting: secret).children {
            #expect(!(child.value is [UInt8]), "child \(child.label ?? "?") is a byte array")
        }
    }

    @Test func initializerErrorPropagates() {
        struct Failure: Error {}
        #expect(throws: Failure.self) {
            _ = try SecureBytes(count: 16, storage: .wiped) { _ in throw Failure() }
        }
    }

    @Test func randomBytesDiffer() {
        let a = SecureBytes.random(count: 32, storage: .wiped)
        let b = SecureBytes.random(count: 32, storage: .wiped)
        #expect(a.count == 32)
        #expect(a != b)
    }

    @Test func wipeZeroesArray() {
        var bytes: [UInt8] = [1, 2, 3, 4]
        wipe(&bytes)
        #expect(bytes == [0, 0, 0, 0])
    }
}
