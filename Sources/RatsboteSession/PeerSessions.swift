import Foundation
import RatsboteCrypto

/// All sessions with one peer device: the active one used for sending, and a few retired ones
/// kept so that messages already in flight on them still open.
///
/// Two devices that start a session with each other at the same time each hold two sessions.
/// Both pick the same one to keep: the session whose X3DH base key is lexicographically
/// smaller. The tie-break applies only while the local active session still waits for its first
/// reply. Otherwise a new PreKey message means the peer started over (for example after a
/// reinstall), so its new session becomes active.
public struct PeerSessions: Sendable {
    /// The maximum number of retired sessions kept. Older ones are dropped.
    public static let maximumRetired = 4

    /// The session used for sending, if any.
    public private(set) var active: Session?
    /// Earlier sessions, newest first, still used for decryption.
    public private(set) var retired: [Session]

    /// Creates an empty set.
    public init() {
        active = nil
        retired = []
    }

    /// Creates a set from restored sessions.
    init(active: Session?, retired: [Session]) {
        self.active = active
        self.retired = Array(retired.prefix(Self.maximumRetired))
    }

    /// Whether any session, active or retired, exists.
    public var isEmpty: Bool { active == nil && retired.isEmpty }

    /// Every session's peer identity key, active first.
    public var remoteIdentityKeys: [Ed25519PublicKey] {
        (active.map { [$0] } ?? []).map(\.remoteIdentityKey) + retired.map(\.remoteIdentityKey)
    }

    /// The result of ``decrypt(_:localIdentity:prekeys:using:)``.
    public struct Decrypted: Sendable {
        /// The plaintext.
        public let plaintext: [UInt8]
        /// The one-time prekey this message used up; the caller deletes its private key.
        public let consumedOneTimePrekeyID: UInt32?
    }

    /// The private prekeys a PreKey message names, looked up by the caller.
    public struct PrekeyPair: Sendable {
        /// The signed prekey named by the message.
        public let signedPrekey: X25519PrivateKey
        /// The one-time prekey named by the message, or `nil` if it names none.
        public let oneTimePrekey: X25519PrivateKey?

        /// Creates the pair.
        public init(signedPrekey: X25519PrivateKey, oneTimePrekey: X25519PrivateKey?) {
            self.signedPrekey = signedPrekey
            self.oneTimePrekey = oneTimePrekey
        }
    }

    /// Adds a session this device started with ``X3DH/initiate(localIdentity:bundle:using:)``.
    public mutating func add(initiated session: Session) {
        adopt(session)
    }

    /// Encrypts with the active session.
    ///
    /// - Throws: ``SessionError/noSession`` when there is none, and the errors of ``Session/encrypt(_:)``.
    public mutating func encrypt(_ plaintext: some ContiguousBytes) throws -> SessionMessage {
        guard var session = active else { throw SessionError.noSession }
        let message = try session.encrypt(plaintext)
        active = session
        return message
    }

    /// Decrypts a message from the peer, creating a session from a PreKey message when needed.
    ///
    /// - Parameters:
    ///   - localIdentity: this device's identity key, for X3DH.
    ///   - prekeys: looks up the private prekeys a new PreKey message names; throw
    ///     ``SessionError/unknownPrekey(kind:id:)`` when one is gone.
    ///   - keySource: supplies new ratchet key pairs.
    /// - Throws: the errors of ``Session/decrypt(_:using:)`` and of X3DH; nothing changes on error.
    public mutating func decrypt(
        _ message: SessionMessage, localIdentity: Ed25519SigningKey,
        prekeys: (PreKeyMessage) throws -> PrekeyPair, using keySource: inout some KeyPairSource
    ) throws -> Decrypted {
        if case .preKey(let preKey) = message, !contains(baseKey: preKey.baseKey) {
            let pair = try prekeys(preKey)
            let (session, plaintext) = try X3DH.respond(
                localIdentity: localIdentity, signedPrekey: pair.signedPrekey, oneTimePrekey: pair.oneTimePrekey,
                message: preKey, using: &keySource)
            adopt(session)
            return Decrypted(plaintext: plaintext, consumedOneTimePrekeyID: preKey.oneTimePrekeyID)
        }

        guard active != nil || !retired.isEmpty else { throw SessionError.noSession }
        var firstError: Error?
        if var session = active {
            do {
                let plaintext = try session.decrypt(message, using: &keySource)
                active = session
                return Decrypted(plaintext: plaintext, consumedOneTimePrekeyID: nil)
            } catch {
                firstError = error
            }
        }
        for index in retired.indices {
            var session = retired[index]
            do {
                let plaintext = try session.decrypt(message, using: &keySource)
                retired[index] = session
                return Decrypted(plaintext: plaintext, consumedOneTimePrekeyID: nil)
            } catch SessionError.duplicate(let number) {
                // A duplicate in any session is more telling than a failure in the others.
                firstError = SessionError.duplicate(messageNumber: number)
            } catch {
                firstError = firstError ?? error
            }
        }
        throw firstError ?? SessionError.noSession
    }

    private func contains(baseKey: X25519PublicKey) -> Bool {
        active?.baseKey == baseKey || retired.contains { $0.baseKey == baseKey }
    }

    /// Makes `session` active or retires it, following the tie-break in the type's documentation.
    private mutating func adopt(_ session: Session) {
        guard let current = active else {
            active = session
            return
        }
        let keepCurrent =
            current.isAwaitingFirstReply
            && current.baseKey.rawRepresentation.lexicographicallyPrecedes(session.baseKey.rawRepresentation)
        if keepCurrent {
            retire(session)
        } else {
            retire(current)
            active = session
        }
    }

    private mutating func retire(_ session: Session) {
        retired.insert(session, at: 0)
        if retired.count > Self.maximumRetired { retired.removeLast(retired.count - Self.maximumRetired) }
    }
}
