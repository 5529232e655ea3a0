import CSodiumBench
import RatsboteCrypto

extension CaseRegistry {
    /// Registers cases that isolate one cost behind a Swift/C gap; they have no target.
    mutating func addDiagnosticCases() {
        let size = 1024
        // An array-returning 1 KiB encrypt allocates one [UInt8] of 1040 bytes per call.
        add("diagnostic.array-vs-malloc.1040B", unit: .operationsPerSecond, target: nil) {
            let fixture = try CFixture(caseName: "diagnostic.array-vs-malloc.1040B", messageByteCount: size)
            let byteCount = size + XChaCha20Poly1305.tagByteCount
            return PairedWorkloads(
                swift: .timed { n in
                    for _ in 0..<n {
                        consume([UInt8](unsafeUninitializedCapacity: byteCount) { _, count in count = byteCount })
                    }
                },
                c: fixture.timed(csb_malloc_free))
        }
        add("diagnostic.securebytes-vs-malloc.32B", unit: .operationsPerSecond, target: nil) {
            // A 16-byte fixture makes csb_malloc_free allocate 32 bytes.
            let fixture = try CFixture(caseName: "diagnostic.securebytes-vs-malloc.32B", messageByteCount: 16)
            return PairedWorkloads(
                swift: .timed { n in
                    for _ in 0..<n { consume(SecureBytes(count: 32, storage: .wiped) { _ in }) }
                },
                c: fixture.timed(csb_malloc_free))
        }
    }
}
