// RatsboteWire: binary encoding and every wire structure. Pure values and codecs, no I/O.
//
// Encoding rules (protocol/encoding.md): fixed-width big-endian integers; variable-length fields
// carry a QUIC-style varint length (RFC 9000 section 16) in minimal form only; every field has a
// maximum; decoders reject trailing bytes and name the structure and field that failed.

/// A decoding or encoding failure, naming the structure and field.
public enum WireError: Error, Equatable, Sendable {
    /// The input ended inside `field`.
    case truncated(structure: String, field: String)
    /// A varint used more bytes than its value needs.
    case nonMinimalVarint(structure: String, field: String)
    /// A length or count exceeded the field's maximum.
    case tooLong(structure: String, field: String, maximum: Int, actual: Int)
    /// Bytes remained after the structure ended.
    case trailingBytes(structure: String, count: Int)
    /// A field held a value the protocol does not define.
    case invalidValue(structure: String, field: String, value: String)
    /// A structure carries a version this implementation does not speak.
    case unsupportedVersion(structure: String, version: Int)
}

extension WireError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .truncated(let structure, let field):
            return "\(structure).\(field): input ends early"
        case .nonMinimalVarint(let structure, let field):
            return "\(structure).\(field): varint is not in minimal form"
        case .tooLong(let structure, let field, let maximum, let actual):
            return "\(structure).\(field): \(actual) exceeds the maximum of \(maximum)"
        case .trailingBytes(let structure, let count):
            return "\(structure): \(count) unexpected bytes after the end"
        case .invalidValue(let structure, let field, let value):
            return "\(structure).\(field): invalid value \(value)"
        case .unsupportedVersion(let structure, let version):
            return "\(structure): unsupported version \(version)"
        }
    }
}
