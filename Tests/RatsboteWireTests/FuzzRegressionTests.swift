import RatsboteWire
import Testing

/// Inputs that the fuzz targets in Fuzz/ found, kept so the fixed decoders stay fixed.
///
/// Each input is the minimised crash file, written out as bytes.
struct FuzzRegressionTests {
    /// fuzz-relay-frame: a push with a nonzero request id decoded, and re-encoded with id 0.
    @Test func pushWithRequestIdIsRejected() {
        let found: [UInt8] = [0x03, 0x24, 0x6b, 0x6f, 0x6f, 0x02, 0x00, 0x00, 0x40, 0x00]
        expectDecodeError(
            RelayFrame.self, found,
            .invalidValue(structure: "RelayFrame", field: "requestId", value: "611020655 in a push, expected 0"))
    }

    /// Every push type with any nonzero request id is rejected, not only the one the fuzzer found.
    @Test(arguments: [UInt32(1), 0x8000_0000, UInt32.max])
    func everyPushRejectsRequestId(id: UInt32) {
        for push in [RelayPush.envelope(id: 1, receivedAt: 2, sealed: [3]), .prekeysLow(remaining: 4)] {
            var bytes = RelayFrame.push(push).encoded()
            bytes.replaceSubrange(1..<5, with: [UInt8(id >> 24), UInt8(id >> 16 & 0xff), UInt8(id >> 8 & 0xff), UInt8(id & 0xff)])
            expectDecodeError(
                RelayFrame.self, bytes,
                .invalidValue(structure: "RelayFrame", field: "requestId", value: "\(id) in a push, expected 0"))
        }
    }
}
