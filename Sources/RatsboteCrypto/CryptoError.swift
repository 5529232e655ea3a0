/// Errors raised by RatsboteCrypto.
///
/// Cases carry the operation and the sizes involved, never secret bytes. Every authentication
/// failure (a forged tag, a wrong key, wrong associated data) is the one opaque case
/// ``authenticationFailure``, so the error does not reveal which check failed.
public enum CryptoError: Error, Equatable, Sendable {
    /// An input had the wrong length.
    case invalidLength(operation: String, field: String, expected: Int, actual: Int)
    /// An input was outside the range an operation accepts.
    case outOfRange(operation: String, field: String, minimum: Int, maximum: Int, actual: Int)
    /// A ciphertext, tag or signature did not authenticate.
    case authenticationFailure
    /// An X25519 agreement produced the all-zero value, which means the peer's key has low order.
    case weakPublicKey
    /// A key could not be converted or derived (for example an Ed25519 point that is not on the curve).
    case invalidKey(operation: String)
    /// Argon2id could not allocate the memory its parameters require.
    case keyDerivationFailed(operation: String)
    /// A streaming decryption ended without the final tag, or had bytes after it.
    case truncatedStream
    /// Bytes followed the final chunk of a stream.
    case dataAfterFinalChunk
    /// Text could not be decoded as hex or base64url.
    case invalidEncoding(format: String, reason: String)
}

extension CryptoError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalidLength(let operation, let field, let expected, let actual):
            return "\(operation): \(field) must be \(expected) bytes, got \(actual)"
        case .outOfRange(let operation, let field, let minimum, let maximum, let actual):
            return "\(operation): \(field) must be between \(minimum) and \(maximum), got \(actual)"
        case .authenticationFailure:
            return "authentication failed: the data was altered, or the key or associated data is wrong"
        case .weakPublicKey:
            return "X25519: the peer's public key has low order (all-zero shared secret)"
        case .invalidKey(let operation):
            return "\(operation): the key is not valid"
        case .keyDerivationFailed(let operation):
            return "\(operation): key derivation failed (not enough memory for the parameters?)"
        case .truncatedStream:
            return "secretstream: the stream ended before its final chunk"
        case .dataAfterFinalChunk:
            return "secretstream: data follows the final chunk"
        case .invalidEncoding(let format, let reason):
            return "invalid \(format): \(reason)"
        }
    }
}

@inline(__always)
func checkLength(_ actual: Int, _ expected: Int, _ operation: String, _ field: String) throws {
    guard actual == expected else {
        throw CryptoError.invalidLength(operation: operation, field: field, expected: expected, actual: actual)
    }
}
