/// Appends big-endian integers, varints and length-prefixed fields to a byte array.
public struct WireWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func writeUInt8(_ value: UInt8) { bytes.append(value) }

    public mutating func writeUInt16(_ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xff))
    }

    public mutating func writeUInt32(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8((value >> UInt32(shift)) & 0xff)) }
    }

    public mutating func writeUInt64(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8((value >> UInt64(shift)) & 0xff)) }
    }

    /// Writes `value` as a QUIC varint in its minimal form (1, 2, 4 or 8 bytes).
    ///
    /// - Precondition: `value < 2^62`; every length in the protocol is far below that.
    public mutating func writeVarint(_ value: UInt64) {
        precondition(value < 1 << 62, "varint value out of range")
        switch value {
        case 0..<64:
            bytes.append(UInt8(value))
        case 64..<16384:
            writeUInt16(UInt16(value) | 0x4000)
        case 16384..<(1 << 30):
            writeUInt32(UInt32(value) | 0x8000_0000)
        default:
            writeUInt64(value | 0xC000_0000_0000_0000)
        }
    }

    /// Writes raw bytes with no length (fixed-size fields).
    public mutating func writeFixed(_ data: some Collection<UInt8>) { bytes.append(contentsOf: data) }

    /// Writes a varint length followed by the bytes.
    public mutating func writeVariable(_ data: some Collection<UInt8>) {
        writeVarint(UInt64(data.count))
        bytes.append(contentsOf: data)
    }

    /// Writes a UTF-8 string as a variable-length field.
    public mutating func writeString(_ text: String) { writeVariable(Array(text.utf8)) }

    /// Writes a count followed by each element.
    public mutating func writeList<Element>(_ elements: [Element], _ writeElement: (inout WireWriter, Element) -> Void) {
        writeVarint(UInt64(elements.count))
        for element in elements { writeElement(&self, element) }
    }
}
