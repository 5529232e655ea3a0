import RatsboteCrypto
import RatsboteWire

// Session structures use RatsboteWire's encoding: fixed-width big-endian integers, minimal QUIC
// varint lengths, fixed-size keys whose size the suite determines, and no trailing bytes. The
// helpers below add what the session layer needs on top: suite checks, typed keys, secrets read
// straight into secure memory, and the mapping of WireError to SessionError.

extension SessionError {
    /// Converts a WireError into ``SessionError/malformed(structure:field:reason:)``.
    static func from(_ error: WireError) -> SessionError {
        switch error {
        case .truncated(let structure, let field):
            return .malformed(structure: structure, field: field, reason: "input ends early")
        case .nonMinimalVarint(let structure, let field):
            return .malformed(structure: structure, field: field, reason: "varint is not in minimal form")
        case .tooLong(let structure, let field, let maximum, let actual):
            return .malformed(structure: structure, field: field, reason: "length \(actual) exceeds the maximum of \(maximum)")
        case .trailingBytes(let structure, let count):
            return .malformed(structure: structure, field: "(end)", reason: "\(count) unexpected bytes after the end")
        case .invalidValue(let structure, let field, let value):
            return .malformed(structure: structure, field: field, reason: "invalid value \(value)")
        case .unsupportedVersion(let structure, let version):
            return .malformed(structure: structure, field: "version", reason: "unsupported version \(version)")
        }
    }
}

/// Decodes `bytes` as `structure` with `body`, requiring that every byte is read.
///
/// - Throws: ``SessionError``; wire errors become ``SessionError/malformed(structure:field:reason:)``.
func decodeSessionStructure<T>(
    _ bytes: [UInt8], structure: String, _ body: (inout WireReader) throws -> T
) throws -> T {
    var reader = WireReader(bytes, structure: structure)
    do {
        let value = try body(&reader)
        try reader.finish()
        return value
    } catch let error as WireError {
        throw SessionError.from(error)
    }
}

/// The suites the session layer supports.
enum SuiteSupport {
    /// Returns the size of a ratchet, prekey or base public key in `suite`.
    static func publicKeyByteCount(_ suite: Suite) -> Int { 32 }

    static func check(_ raw: UInt16) throws -> Suite {
        guard raw == Suite.classic.rawValue else { throw SessionError.unsupportedSuite(raw) }
        return Suite(rawValue: raw)
    }
}

extension WireReader {
    mutating func readSuite() throws -> Suite {
        try SuiteSupport.check(try readUInt16("suite"))
    }

    mutating func readX25519PublicKey(_ field: String, suite: Suite) throws -> X25519PublicKey {
        let raw = try readFixed(SuiteSupport.publicKeyByteCount(suite), field)
        return try X25519PublicKey(rawRepresentation: raw)
    }

    mutating func readEd25519PublicKey(_ field: String) throws -> Ed25519PublicKey {
        try Ed25519PublicKey(rawRepresentation: try readFixed(Ed25519PublicKey.byteCount, field))
    }

    mutating func readFlag(_ field: String) throws -> Bool {
        switch try readUInt8(field) {
        case 0: return false
        case 1: return true
        case let other: throw WireError.invalidValue(structure: structure, field: field, value: "flag \(other)")
        }
    }

    /// Reads `count` bytes straight into wiped secure memory, wiping the temporary copy.
    mutating func readSecret(_ field: String, count: Int) throws -> SecureBytes {
        var raw = try readFixed(count, field)
        defer { wipe(&raw) }
        return SecureBytes(copying: raw, storage: .wiped)
    }
}

extension WireWriter {
    mutating func writeFlag(_ value: Bool) { writeUInt8(value ? 1 : 0) }

    mutating func writeSecret(_ secret: SecureBytes) {
        secret.withUnsafeBytes { writeFixed($0) }
    }
}
