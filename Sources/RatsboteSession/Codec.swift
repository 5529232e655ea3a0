// A small private codec for the session structures, following the project's encoding rules:
// fixed-width big-endian integers, QUIC varint lengths (RFC 9000 section 16) in minimal form
// only, a documented maximum per field, and no trailing bytes.
//
// TODO: switch to RatsboteWire's WireWriter/WireReader once that module is on main; the byte
// layout is the same, so the vectors must not change.

/// Appends encoded fields to a byte array.
struct SessionWriter {
    private(set) var bytes: [UInt8]

    init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func u8(_ value: UInt8) { bytes.append(value) }

    mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func u32(_ value: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 24))
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func u64(_ value: UInt64) {
        u32(UInt32(truncatingIfNeeded: value >> 32))
        u32(UInt32(truncatingIfNeeded: value))
    }

    /// Writes `value` as a minimal QUIC varint; values above 2^62 - 1 are a programming error.
    mutating func varint(_ value: UInt64) {
        precondition(value < (1 << 62), "varint value out of range")
        switch value {
        case 0..<(1 << 6):
            u8(UInt8(value))
        case (1 << 6)..<(1 << 14):
            u16(UInt16(value) | 0x4000)
        case (1 << 14)..<(1 << 30):
            u32(UInt32(value) | 0x8000_0000)
        default:
            u64(value | 0xC000_0000_0000_0000)
        }
    }

    /// Writes a varint length followed by the bytes.
    mutating func opaque(_ value: some Collection<UInt8>) {
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// Writes a varint length followed by the bytes of a secret, straight from secure memory.
    mutating func secret(_ value: SecureBytesView) {
        value.withUnsafeBytes { buffer in
            varint(UInt64(buffer.count))
            bytes.append(contentsOf: buffer)
        }
    }

    mutating func string(_ value: String) { opaque(Array(value.utf8)) }

    mutating func raw(_ value: some Collection<UInt8>) { bytes.append(contentsOf: value) }
}

/// Anything with scoped access to secret bytes.
protocol SecureBytesView {
    func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result
}

/// Reads encoded fields and reports the structure and field that failed.
struct SessionReader {
    private let bytes: [UInt8]
    private(set) var offset: Int
    let structure: String

    init(_ bytes: [UInt8], structure: String) {
        self.bytes = bytes
        self.offset = 0
        self.structure = structure
    }

    var remaining: Int { bytes.count - offset }

    func error(_ field: String, _ reason: String) -> SessionError {
        .malformed(structure: structure, field: field, reason: reason)
    }

    private mutating func take(_ count: Int, _ field: String) throws -> ArraySlice<UInt8> {
        guard count <= remaining else {
            throw error(field, "truncated: needs \(count) bytes, \(remaining) left")
        }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    mutating func u8(_ field: String) throws -> UInt8 {
        try take(1, field).first!
    }

    mutating func u16(_ field: String) throws -> UInt16 {
        let s = try take(2, field)
        return UInt16(s[s.startIndex]) << 8 | UInt16(s[s.startIndex + 1])
    }

    mutating func u32(_ field: String) throws -> UInt32 {
        let s = try take(4, field)
        var value: UInt32 = 0
        for byte in s { value = value << 8 | UInt32(byte) }
        return value
    }

    mutating func u64(_ field: String) throws -> UInt64 {
        let s = try take(8, field)
        var value: UInt64 = 0
        for byte in s { value = value << 8 | UInt64(byte) }
        return value
    }

    /// Reads a QUIC varint and rejects encodings longer than needed.
    mutating func varint(_ field: String) throws -> UInt64 {
        let first = try u8(field)
        let length = 1 << Int(first >> 6)
        var value = UInt64(first & 0x3F)
        for _ in 1..<length { value = value << 8 | UInt64(try u8(field)) }
        let minimalLength: Int
        switch value {
        case 0..<(1 << 6): minimalLength = 1
        case (1 << 6)..<(1 << 14): minimalLength = 2
        case (1 << 14)..<(1 << 30): minimalLength = 4
        default: minimalLength = 8
        }
        guard length == minimalLength else {
            throw error(field, "varint length uses \(length) bytes where \(minimalLength) suffice")
        }
        return value
    }

    /// Reads a varint-length field of at most `maximum` bytes.
    mutating func opaque(_ field: String, maximum: Int) throws -> [UInt8] {
        let length = try varint(field)
        guard length <= UInt64(maximum) else {
            throw error(field, "length \(length) exceeds the maximum of \(maximum)")
        }
        return Array(try take(Int(length), field))
    }

    /// Reads a varint-length field that must be exactly `count` bytes.
    mutating func fixedOpaque(_ field: String, count: Int) throws -> [UInt8] {
        let value = try opaque(field, maximum: count)
        guard value.count == count else {
            throw error(field, "length \(value.count), expected \(count)")
        }
        return value
    }

    /// Reads a varint-length secret straight into wiped secure memory.
    mutating func secret(_ field: String, count: Int) throws -> SecureBytes {
        let length = try varint(field)
        guard length == UInt64(count) else {
            throw error(field, "length \(length), expected \(count)")
        }
        let slice = try take(count, field)
        return slice.withUnsafeBytes { SecureBytes(copying: $0, storage: .wiped) }
    }

    mutating func string(_ field: String, maximum: Int) throws -> String {
        let raw = try opaque(field, maximum: maximum)
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw error(field, "not valid UTF-8")
        }
        return text
    }

    mutating func bool(_ field: String) throws -> Bool {
        switch try u8(field) {
        case 0: return false
        case 1: return true
        case let other: throw error(field, "flag must be 0 or 1, got \(other)")
        }
    }

    /// Fails when bytes are left over after the structure.
    func finish() throws {
        guard remaining == 0 else {
            throw error("(end)", "\(remaining) trailing bytes")
        }
    }
}

import RatsboteCrypto

extension SecureBytes: SecureBytesView {}
