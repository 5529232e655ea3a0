import CSodiumBench

/// Owns one C fixture (keys, inputs, buffers) and turns its run functions into workloads.
final class CFixture {
    private let pointer: OpaquePointer
    let caseName: String

    /// Builds the fixture with a message of `messageByteCount` bytes.
    init(caseName: String, messageByteCount: Int) throws {
        guard let pointer = csb_fixture_create(messageByteCount) else {
            throw BenchmarkFailure(caseName: caseName, reason: "csb_fixture_create failed (libsodium or memory)")
        }
        self.pointer = pointer
        self.caseName = caseName
    }

    deinit {
        csb_fixture_destroy(pointer)
    }

    /// A workload timed by the harness around one call of `function`.
    func timed(_ function: @escaping (OpaquePointer?, UInt64) -> Int64) -> Workload {
        .timed { iterations in
            guard function(self.pointer, UInt64(iterations)) >= 0 else {
                throw BenchmarkFailure(caseName: self.caseName, reason: "the C side reported a libsodium error")
            }
        }
    }

    /// A workload whose C function returns the nanoseconds it measured itself.
    func selfTimed(_ function: @escaping (OpaquePointer?, UInt64) -> Int64) -> Workload {
        .selfTimed { iterations in
            let nanoseconds = function(self.pointer, UInt64(iterations))
            guard nanoseconds >= 0 else {
                throw BenchmarkFailure(caseName: self.caseName, reason: "the C side reported a libsodium error")
            }
            return UInt64(nanoseconds)
        }
    }
}
