import RatsboteCrypto

/// Errors raised by RatsboteNoise.
///
/// Cases name the message part and the sizes involved, never key bytes. Every failed
/// authentication (a forged or altered message, a wrong key, a wrong prologue) is the one opaque
/// case ``decryptionFailed``, so the error does not reveal which check failed. Any of these errors
/// on a connection means the connection must be closed: Noise has no way to resynchronise.
public enum NoiseError: Error, Equatable, Sendable {
    /// A handshake or transport message did not authenticate.
    case decryptionFailed
    /// A cipher state reached the nonce 2^64-1, which Noise reserves; a new handshake is needed.
    case nonceExhausted
    /// A message, payload or frame was longer than the protocol allows.
    case tooLarge(field: String, maximum: Int, actual: Int)
    /// A message ended before a field it must contain.
    case truncated(field: String, minimum: Int, actual: Int)
    /// An X25519 agreement produced the all-zero value because the peer's key has low order.
    case weakPublicKey(field: String)
    /// A key the pattern needs was not supplied, or a key was supplied that the pattern forbids.
    case invalidConfiguration(reason: String)
    /// A call came in the wrong order, for example writing when the peer's message is due.
    case invalidState(operation: String, reason: String)
    /// The initiator asked for a transport version this side does not speak.
    case unsupportedVersion(received: UInt8, supported: [UInt8])
    /// The hello payload inside a handshake message had the wrong shape.
    case invalidHello(field: String, expected: Int, actual: Int)
    /// RatsboteCrypto rejected an input that RatsboteNoise does not map to a case of its own.
    case crypto(CryptoError)
}

// MARK: - CustomStringConvertible

extension NoiseError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .decryptionFailed:
            return "Noise: decryption failed: the message was altered, or the peer uses other keys or another prologue"
        case .nonceExhausted:
            return "Noise: the nonce reached 2^64-1. Close the connection and perform a new handshake"
        case .tooLarge(let field, let maximum, let actual):
            return "Noise: \(field) is \(actual) bytes, larger than the maximum of \(maximum) bytes"
        case .truncated(let field, let minimum, let actual):
            return "Noise: \(field) needs at least \(minimum) bytes, got \(actual)"
        case .weakPublicKey(let field):
            return "Noise: the \(field) has low order (all-zero X25519 result). Close the connection"
        case .invalidConfiguration(let reason):
            return "Noise: invalid handshake configuration: \(reason)"
        case .invalidState(let operation, let reason):
            return "Noise: \(operation) is not allowed now: \(reason)"
        case .unsupportedVersion(let received, let supported):
            return "Noise: transport version \(received) is not supported (supported: \(supported)). Update the client"
        case .invalidHello(let field, let expected, let actual):
            return "Noise: hello payload \(field) must be \(expected) bytes, got \(actual)"
        case .crypto(let error):
            return "Noise: \(error)"
        }
    }
}

/// Runs `body` and turns RatsboteCrypto errors into the matching Noise error.
@inline(__always)
func mappingCryptoErrors<Result>(field: String, _ body: () throws -> Result) throws -> Result {
    do {
        return try body()
    } catch let error as CryptoError {
        switch error {
        case .authenticationFailure: throw NoiseError.decryptionFailed
        case .weakPublicKey: throw NoiseError.weakPublicKey(field: field)
        default: throw NoiseError.crypto(error)
        }
    }
}
