import CSodiumBench

extension CaseRegistry {
    /// Registers a case that runs the same C function on both sides. Its ratio shows the bias and
    /// noise of the harness on this machine: a value far from 1.00 means other load distorted the run.
    mutating func addHarnessCases() {
        let size = 1024
        add("harness.c-vs-c.1KiB", unit: .megabytesPerSecond(bytesPerOperation: size)) {
            let fixture = try CFixture(caseName: "harness.c-vs-c.1KiB", messageByteCount: size)
            return PairedWorkloads(swift: fixture.timed(csb_xchacha_encrypt_alloc), c: fixture.timed(csb_xchacha_encrypt_alloc))
        }
    }
}
