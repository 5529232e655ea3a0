// RatsboteClient: the client core library that apps build on: account and key store, the local
// database, the relay connection, sending and receiving. The CLI is a thin layer over it.

import Foundation
import RatsboteWire

/// Why a client operation failed. Each case carries the value involved, so a screen can say
/// what failed and what to do; the CLI turns cases into German or English sentences.
public enum ClientError: Error, Equatable, Sendable {
    /// No account exists in the home folder.
    case notEnrolled(home: String)
    /// The home folder already holds an account.
    case alreadyEnrolled(home: String)
    /// The passphrase does not open the key store.
    case wrongPassphrase
    /// The key store file is damaged or truncated.
    case keyStoreDamaged(path: String, reason: String)
    /// The key store was written by a newer version.
    case keyStoreUnsupportedVersion(path: String, version: Int)
    /// The passphrase is too short or empty.
    case passphraseTooShort(minimum: Int)
    /// The invite code text could not be read.
    case invalidInvite(reason: String)
    /// No participant matches the recipient.
    case recipientNotFound(String)
    /// Several participants match the recipient.
    case recipientAmbiguous(String, candidates: [String])
    /// The participant has no enrolled device.
    case recipientHasNoDevice(String)
    /// A contact's identity key changed; sending stops until the user accepts the new key.
    case identityKeyChanged(userId: String)
    /// The relay could not be reached.
    case relayUnreachable(address: String, reason: String)
    /// The relay closed the connection during the handshake: its key differs from the pinned one.
    case handshakeRejected(address: String, reason: String)
    /// The relay responded with an error.
    case relay(RelayFailure)
    /// The relay broke the protocol (unexpected frame, bad handshake).
    case protocolViolation(String)
    /// No message has this id.
    case messageNotFound(String)
    /// A file to attach could not be read, or is too large.
    case attachmentUnreadable(path: String, reason: String)
    case attachmentTooLarge(path: String, size: Int, maximum: Int)
    /// A file to save already exists and `force` was not given.
    case fileExists(path: String)
    /// A file could not be written.
    case writeFailed(path: String, reason: String)
    /// A received document failed its checks and was not stored.
    case documentRejected(fileName: String, reason: String)
    /// A contact device has no session and the relay cannot be reached to start one.
    case noSessionOffline(userId: String)
    /// The relay has no signed prekey for a device, so no session can start.
    case recipientNotReady(String)
    /// A participant's safety number cannot be confirmed because its key changed and was not yet seen.
    case unknownContact(String)
    /// A directory entry's certificate failed its checks: the relay served keys the organisation
    /// did not certify, or the certificate expired or was revoked.
    case certificateRejected(userId: String, reason: CertificateError)
    /// The trust material the relay served does not chain to the root pinned from the invite.
    case trustRejected(CertificateError)
    /// The organisation revoked every device of this contact; nothing is encrypted to them.
    case recipientRevoked(String)
    /// The group has no member besides the sender.
    case groupEmpty(String)
    /// Local storage failed.
    case storage(String)
}
