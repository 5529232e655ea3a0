/// The numbered error codes a relay responds with. protocol/relay.md has the same table.
///
/// Codes are stable: a new code gets a new number, and a client treats a number it does not
/// know as a failed request with the reason text the relay sent.
public enum RelayErrorCode: UInt16, Sendable, CaseIterable {
    /// The frame or its body could not be decoded.
    case malformedRequest = 1
    /// The opcode is not known to this relay.
    case unknownCommand = 2
    /// The device is not enrolled; only `enroll` is allowed.
    case notEnrolled = 3
    /// The invite code is unknown, used or expired.
    case invalidInvite = 4
    /// The device is already enrolled.
    case alreadyEnrolled = 5
    /// The recipient device does not exist or was revoked.
    case unknownRecipient = 6
    /// The recipient's mailbox has reached its maximum number of envelopes or bytes.
    case mailboxFull = 7
    /// The sender exceeded its send rate.
    case rateLimited = 8
    /// A field exceeded its limit (size of an envelope, a list).
    case tooLarge = 9
    /// No user matches.
    case notFound = 10
    /// The device was revoked by the operator.
    case revoked = 11
    /// Too many connections in total or for this device.
    case tooManyConnections = 12
    /// The relay is shutting down.
    case shuttingDown = 13
    /// A storage failure; the request may be retried.
    case internalError = 14
    /// The protocol version in the handshake is not supported.
    case unsupportedVersion = 15
    /// The uploading device holds its maximum of blob bytes on the relay.
    case blobQuotaExceeded = 20
    /// An upload offset differs from the bytes the relay holds; ask for the status and resume there.
    case blobOffsetMismatch = 21
    /// The blob is not completely uploaded yet, so it cannot be downloaded.
    case blobIncomplete = 22
}

/// An error response: the numbered code and a short reason in English.
public struct RelayFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// The raw code, kept as a number so that codes from newer relays survive.
    public var rawCode: UInt16
    public var reason: String

    public init(_ code: RelayErrorCode, _ reason: String) {
        self.rawCode = code.rawValue
        self.reason = reason
    }

    public init(rawCode: UInt16, reason: String) {
        self.rawCode = rawCode
        self.reason = reason
    }

    /// The code, or `nil` when the relay is newer than this client.
    public var code: RelayErrorCode? { RelayErrorCode(rawValue: rawCode) }

    public var description: String { "relay error \(rawCode): \(reason)" }
}
