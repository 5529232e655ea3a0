import RatsboteWire
import Testing

struct VarintTests {
    static let encodings: [(UInt64, [UInt8])] = [
        (37, [0x25]),
        (15293, [0x7b, 0xbd]),
        (494_878_333, [0x9d, 0x7f, 0x3e, 0x7d]),
        (151_288_809_941_952_652, [0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c]),
        (63, [0x3f]),
        (64, [0x40, 0x40]),
        (16383, [0x7f, 0xff]),
        (16384, [0x80, 0x00, 0x40, 0x00]),
        ((1 << 30) - 1, [0xbf, 0xff, 0xff, 0xff]),
        (1 << 30, [0xc0, 0, 0, 0, 0x40, 0, 0, 0]),
    ]

    /// The examples of RFC 9000 appendix A.1, plus each length boundary.
    @Test(arguments: encodings)
    func varintEncodesMinimally(value: UInt64, expected: [UInt8]) throws {
        var writer = WireWriter()
        writer.writeVarint(value)
        #expect(writer.bytes == expected, "varint \(value) encoded as \(writer.bytes)")
        var reader = WireReader(expected, structure: "Test")
        #expect(try reader.readVarint("value") == value)
        try reader.finish()
    }

    /// RFC 9000's own example of a non-minimal form (37 in two bytes) and the other lengths.
    static let nonMinimal: [[UInt8]] = [
        [0x40, 0x25],
        [0x80, 0x00, 0x00, 0x25],
        [0xc0, 0, 0, 0, 0, 0, 0, 0x25],
        [0x80, 0x00, 0x3f, 0xff],
        [0xc0, 0, 0, 0, 0x3f, 0xff, 0xff, 0xff],
    ]

    @Test(arguments: nonMinimal)
    func varintRejectsNonMinimalForms(bytes: [UInt8]) {
        var reader = WireReader(bytes, structure: "Test")
        #expect(throws: WireError.nonMinimalVarint(structure: "Test", field: "value")) { try reader.readVarint("value") }
    }

    @Test func varintTruncatedInsideValue() {
        var reader = WireReader([0x80, 0x01], structure: "Test")
        #expect(throws: WireError.truncated(structure: "Test", field: "value")) { try reader.readVarint("value") }
    }

    @Test func variableFieldAtMaximumAndOneOver() throws {
        var writer = WireWriter()
        writer.writeVariable([UInt8](repeating: 7, count: 10))
        var atMaximum = WireReader(writer.bytes, structure: "Test")
        #expect(try atMaximum.readVariable("field", maximum: 10).count == 10)
        var overMaximum = WireReader(writer.bytes, structure: "Test")
        #expect(throws: WireError.tooLong(structure: "Test", field: "field", maximum: 9, actual: 10)) {
            try overMaximum.readVariable("field", maximum: 9)
        }
    }

    @Test func stringRejectsInvalidUTF8() {
        var reader = WireReader([0x02, 0xc3, 0x28], structure: "Test")
        #expect(throws: WireError.invalidValue(structure: "Test", field: "text", value: "invalid UTF-8")) {
            try reader.readString("text", maximum: 10)
        }
    }

    @Test func listCountAboveMaximumIsRejectedBeforeReading() {
        // A count of 1000 with no elements: the count check must come first, so a hostile count
        // never makes the decoder reserve memory for it.
        var reader = WireReader([0x43, 0xe8], structure: "Test")
        #expect(throws: WireError.tooLong(structure: "Test", field: "list", maximum: 10, actual: 1000)) {
            try reader.readList("list", maximum: 10) { try $0.readUInt8("element") }
        }
    }
}
