/// Reads big-endian integers, varints and length-prefixed fields, naming the structure and
/// field in every error.
public struct WireReader {
    private let bytes: [UInt8]
    private var position: Int
    /// The structure being decoded, used in error messages.
    public let structure: String

    public init(_ bytes: [UInt8], structure: String) {
        self.bytes = bytes
        self.position = 0
        self.structure = structure
    }

    /// The number of unread bytes.
    public var remaining: Int { bytes.count - position }

    /// Whether every byte has been read.
    public var isAtEnd: Bool { position == bytes.count }

    private mutating func take(_ count: Int, _ field: String) throws -> ArraySlice<UInt8> {
        guard count >= 0, remaining >= count else { throw WireError.truncated(structure: structure, field: field) }
        let slice = bytes[position..<(position + count)]
        position += count
        return slice
    }

    public mutating func readUInt8(_ field: String) throws -> UInt8 {
        try take(1, field).first!
    }

    public mutating func readUInt16(_ field: String) throws -> UInt16 {
        let s = try take(2, field)
        return UInt16(s[s.startIndex]) << 8 | UInt16(s[s.startIndex + 1])
    }

    public mutating func readUInt32(_ field: String) throws -> UInt32 {
        var value: UInt32 = 0
        for byte in try take(4, field) { value = value << 8 | UInt32(byte) }
        return value
    }

    public mutating func readUInt64(_ field: String) throws -> UInt64 {
        var value: UInt64 = 0
        for byte in try take(8, field) { value = value << 8 | UInt64(byte) }
        return value
    }

    /// Reads a QUIC varint and rejects encodings longer than the value needs.
    public mutating func readVarint(_ field: String) throws -> UInt64 {
        let first = try readUInt8(field)
        let prefix = first >> 6
        let length = 1 << Int(prefix)
        var value = UInt64(first & 0x3f)
        for byte in try take(length - 1, field) { value = value << 8 | UInt64(byte) }

        let minimum: UInt64
        switch length {
        case 1: minimum = 0
        case 2: minimum = 64
        case 4: minimum = 16384
        default: minimum = 1 << 30
        }
        guard value >= minimum else { throw WireError.nonMinimalVarint(structure: structure, field: field) }
        return value
    }

    /// Reads exactly `count` bytes.
    public mutating func readFixed(_ count: Int, _ field: String) throws -> [UInt8] {
        Array(try take(count, field))
    }

    /// Reads a varint length (at most `maximum`) and that many bytes.
    public mutating func readVariable(_ field: String, maximum: Int) throws -> [UInt8] {
        let length = try readVarint(field)
        guard length <= UInt64(maximum) else {
            throw WireError.tooLong(structure: structure, field: field, maximum: maximum, actual: Int(clamping: length))
        }
        return Array(try take(Int(length), field))
    }

    /// Reads a variable-length UTF-8 string of at most `maximum` bytes; invalid UTF-8 is rejected.
    public mutating func readString(_ field: String, maximum: Int) throws -> String {
        let raw = try readVariable(field, maximum: maximum)
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw WireError.invalidValue(structure: structure, field: field, value: "invalid UTF-8")
        }
        return text
    }

    /// Reads a count (at most `maximum`) and that many elements.
    public mutating func readList<Element>(
        _ field: String, maximum: Int, _ readElement: (inout WireReader) throws -> Element
    ) throws -> [Element] {
        let count = try readVarint(field)
        guard count <= UInt64(maximum) else {
            throw WireError.tooLong(structure: structure, field: field, maximum: maximum, actual: Int(clamping: count))
        }
        var elements: [Element] = []
        elements.reserveCapacity(Int(count))
        for _ in 0..<Int(count) { elements.append(try readElement(&self)) }
        return elements
    }

    /// Reads every remaining byte.
    public mutating func readRemaining() -> [UInt8] {
        let rest = Array(bytes[position...])
        position = bytes.count
        return rest
    }

    /// Throws ``WireError/trailingBytes(structure:count:)`` unless every byte was read.
    public func finish() throws {
        guard isAtEnd else { throw WireError.trailingBytes(structure: structure, count: remaining) }
    }
}

/// A structure with a binary encoding.
public protocol WireCodable: Sendable {
    /// The structure's name in errors and in protocol/.
    static var wireName: String { get }
    func encode(to writer: inout WireWriter)
    init(from reader: inout WireReader) throws
}

extension WireCodable {
    /// The structure's encoding.
    public func encoded() -> [UInt8] {
        var writer = WireWriter()
        encode(to: &writer)
        return writer.bytes
    }

    /// Decodes a whole byte string, rejecting trailing bytes.
    public static func decode(_ bytes: [UInt8]) throws -> Self {
        var reader = WireReader(bytes, structure: wireName)
        let value = try Self(from: &reader)
        try reader.finish()
        return value
    }
}
