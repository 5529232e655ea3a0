// RatsboteSession: the end-to-end layer. X3DH, the Double Ratchet, sealed-sender envelopes,
// content kinds and safety numbers, as pure state machines over RatsboteCrypto. Nothing here
// reads a clock, a file or the network; randomness comes in through `KeyPairSource`.

import RatsboteCrypto

/// Errors raised by RatsboteSession.
///
/// Cases carry the structure, field and values involved, never key bytes or plaintext.
/// Every failed decryption leaves the session unchanged, whichever case is thrown.
public enum SessionError: Error, Equatable, Sendable {
    /// The message was already decrypted (or its key was evicted); the session is unchanged.
    case duplicate(messageNumber: UInt32)
    /// The ciphertext, header or associated data did not authenticate under the derived key.
    case authenticationFailure
    /// Accepting the message would skip more message keys than one chain may hold.
    case tooManySkipped(requested: Int, maximum: Int)
    /// The prekey bundle's signed prekey signature does not verify under its identity key.
    case invalidSignedPrekeySignature
    /// A key, bundle or message names a suite this implementation does not support.
    case unsupportedSuite(UInt16)
    /// Bytes could not be decoded. `structure` and `field` name the location and `reason` the cause.
    case malformed(structure: String, field: String, reason: String)
    /// Serialized session state has a version this implementation cannot read.
    case unsupportedStateVersion(found: UInt8, supported: UInt8)
    /// A public key was rejected: not a valid point, or a low-order X25519 key.
    case invalidKey(field: String)
    /// A PreKey message names a prekey that the local device no longer holds.
    case unknownPrekey(kind: String, id: UInt32)
    /// A sealed envelope names a sender whose identity key is not the session's remote identity key.
    case senderMismatch
    /// A message arrived for a peer with no session and it is not a PreKey message.
    case noSession
    /// A plaintext exceeds ``SessionLimits/maximumPlaintextByteCount``.
    case plaintextTooLarge(count: Int, maximum: Int)
}

extension SessionError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .duplicate(let number):
            return "message \(number) was already received; ignore it"
        case .authenticationFailure:
            return "message failed authentication: it was altered or belongs to another session; the session is unchanged"
        case .tooManySkipped(let requested, let maximum):
            return "message would skip \(requested) message keys, more than the maximum of \(maximum); it was rejected"
        case .invalidSignedPrekeySignature:
            return "the prekey bundle's signed prekey signature is invalid; fetch the bundle again"
        case .unsupportedSuite(let suite):
            return "suite \(suite) is not supported; update the client"
        case .malformed(let structure, let field, let reason):
            return "invalid \(structure).\(field): \(reason)"
        case .unsupportedStateVersion(let found, let supported):
            return "session state version \(found) is not supported (this build reads version \(supported))"
        case .invalidKey(let field):
            return "invalid public key in \(field)"
        case .unknownPrekey(let kind, let id):
            return "\(kind) prekey \(id) is not available on this device; the sender must fetch a new bundle"
        case .senderMismatch:
            return "the sealed sender's identity key does not match the session's remote identity key"
        case .noSession:
            return "no session with this peer and the message does not start one"
        case .plaintextTooLarge(let count, let maximum):
            return "plaintext of \(count) bytes exceeds the maximum of \(maximum) bytes"
        }
    }
}

extension SessionError {
    /// Maps a crypto error on a peer-supplied key to a session error naming the field.
    static func fromKey(_ error: Error, field: String) -> SessionError {
        if let error = error as? SessionError { return error }
        return .invalidKey(field: field)
    }
}
