import RatsboteCrypto

/// The Noise revision 34 handshake patterns that RatsboteNoise implements.
public enum NoisePattern: Sendable {
    /// `<- s`, then `-> e, es, s, ss` and `<- e, ee, se`. The initiator has the responder's
    /// static key in advance. Ratsbote's transport uses it with the relay's key from the invite.
    case IK
    /// `-> e`, `<- e, ee, s, es`, `-> s, se`. Neither side has the other's static key in advance.
    case XX

    /// The pattern's name inside a protocol name such as `Noise_IK_25519_ChaChaPoly_BLAKE2b`.
    public var name: String {
        switch self {
        case .IK: return "IK"
        case .XX: return "XX"
        }
    }

    /// The full protocol name with Ratsbote's DH, cipher and hash choices.
    public var protocolName: String { "Noise_\(name)_25519_ChaChaPoly_BLAKE2b" }

    /// The handshake messages in order. The initiator sends those at even indices.
    var messages: [[NoiseToken]] {
        switch self {
        case .IK: return [[.e, .es, .s, .ss], [.e, .ee, .se]]
        case .XX: return [[.e], [.e, .ee, .s, .es], [.s, .se]]
        }
    }

    /// Whether the pattern's pre-message is `<- s` (the responder's static key known in advance).
    var responderStaticIsPremessage: Bool {
        switch self {
        case .IK: return true
        case .XX: return false
        }
    }
}

/// The side of a handshake: the initiator sends the first message.
public enum NoiseRole: Sendable {
    /// Sends the first handshake message (the Ratsbote client).
    case initiator
    /// Receives the first handshake message (the Ratsbote relay).
    case responder
}

/// A token of a Noise message pattern.
enum NoiseToken: Sendable {
    case e, s, ee, es, se, ss
}

/// A Noise revision 34 HandshakeState for IK or XX with X25519, ChaCha20-Poly1305
/// and BLAKE2b.
///
/// Every read and write works on a copy and commits only on success. A message that fails to
/// decrypt or parse therefore throws and leaves the handshake exactly as before, so the correct
/// message can still be read afterwards.
///
/// - Warning: a copy of a handshake contains the same keys. Call ``split()`` on one copy only: two
///   transports from the same handshake would encrypt with the same keys and nonces.
public struct NoiseHandshake: Sendable {
    /// The largest handshake message Noise allows.
    public static let maximumMessageLength = 65535

    /// The pattern in use.
    public let pattern: NoisePattern
    /// This side's role.
    public let role: NoiseRole

    private var symmetric: NoiseSymmetricState
    private let localStatic: X25519PrivateKey
    private let localEphemeral: X25519PrivateKey
    private var remoteEphemeral: X25519PublicKey?
    /// The peer's static key: given in advance (IK initiator) or learnt from its handshake message.
    public private(set) var remoteStaticKey: X25519PublicKey?
    /// The index of the next handshake message in the pattern.
    private var messageIndex = 0
    /// Set once ``split()`` has handed out the transport keys.
    private var hasSplit = false

    /// Starts a handshake.
    ///
    /// - Parameters:
    ///   - pattern: IK or XX.
    ///   - role: initiator or responder.
    ///   - prologue: bytes that both sides must agree on, mixed into the handshake hash.
    ///   - localStatic: this side's long-term key.
    ///   - remoteStatic: the responder's static key, required for an IK initiator and forbidden otherwise.
    ///   - ephemeral: a fixed ephemeral key for known-answer tests; `nil` generates a fresh one.
    /// - Throws: ``NoiseError/invalidConfiguration(reason:)`` for a missing or superfluous remote key.
    public init(
        pattern: NoisePattern, role: NoiseRole, prologue: [UInt8], localStatic: X25519PrivateKey,
        remoteStatic: X25519PublicKey? = nil, ephemeral: X25519PrivateKey? = nil
    ) throws {
        switch (pattern, role, remoteStatic) {
        case (.IK, .initiator, nil):
            throw NoiseError.invalidConfiguration(
                reason: "an IK initiator needs the responder's static public key (remoteStatic)")
        case (.IK, .responder, .some), (.XX, _, .some):
            throw NoiseError.invalidConfiguration(
                reason: "\(pattern.name) \(role) learns the peer's static key during the handshake; pass remoteStatic: nil")
        default:
            break
        }

        self.pattern = pattern
        self.role = role
        self.localStatic = localStatic
        self.localEphemeral = ephemeral ?? X25519PrivateKey.generate(storage: .wiped)
        self.remoteStaticKey = remoteStatic
        self.symmetric = try NoiseSymmetricState(protocolName: Array(pattern.protocolName.utf8))

        try symmetric.mixHash(prologue)
        if pattern.responderStaticIsPremessage {
            // The switch above guarantees that only the initiator passes remoteStatic.
            let responderStatic = remoteStatic ?? localStatic.publicKey
            try symmetric.mixHash(responderStatic.rawRepresentation)
        }
    }

    /// Whether every handshake message has been written or read.
    public var isComplete: Bool { messageIndex == pattern.messages.count }

    /// Whether this side writes the next message (as opposed to reading it).
    public var isOurTurn: Bool {
        !isComplete && (messageIndex % 2 == 0) == (role == .initiator)
    }

    /// The handshake hash `h`. After completion both sides have the same value, usable for
    /// channel binding.
    public var handshakeHash: [UInt8] { symmetric.handshakeHash }

    /// Writes the next handshake message with `payload` (Noise `WriteMessage()`).
    ///
    /// - Returns: the message to send.
    /// - Throws: ``NoiseError/invalidState(operation:reason:)`` when the peer's message is due or
    ///   the handshake is complete, ``NoiseError/tooLarge(field:maximum:actual:)`` when the message
    ///   would exceed 65,535 bytes, ``NoiseError/weakPublicKey(field:)``.
    public mutating func writeMessage(payload: [UInt8]) throws -> [UInt8] {
        try requireTurn(writing: true)

        var next = self
        var message: [UInt8] = []
        for token in pattern.messages[messageIndex] {
            switch token {
            case .e:
                let ephemeralPublic = localEphemeral.publicKey.rawRepresentation
                message += ephemeralPublic
                try next.symmetric.mixHash(ephemeralPublic)
            case .s:
                message += try next.symmetric.encryptAndHash(localStatic.publicKey.rawRepresentation)
            case .ee, .es, .se, .ss:
                try next.mixDH(token)
            }
        }
        message += try next.symmetric.encryptAndHash(payload)
        guard message.count <= Self.maximumMessageLength else {
            throw NoiseError.tooLarge(field: "handshake message", maximum: Self.maximumMessageLength, actual: message.count)
        }

        next.messageIndex += 1
        self = next
        return message
    }

    /// Reads the peer's next handshake message (Noise `ReadMessage()`).
    ///
    /// - Returns: the decrypted payload.
    /// - Throws: ``NoiseError/decryptionFailed`` for an altered message, a wrong remote static
    ///   key or another prologue; ``NoiseError/truncated(field:minimum:actual:)``;
    ///   ``NoiseError/tooLarge(field:maximum:actual:)`` above 65,535 bytes;
    ///   ``NoiseError/invalidState(operation:reason:)`` when this side's message is due.
    ///   In every case the handshake is unchanged.
    public mutating func readMessage(_ message: [UInt8]) throws -> [UInt8] {
        try requireTurn(writing: false)
        guard message.count <= Self.maximumMessageLength else {
            throw NoiseError.tooLarge(field: "handshake message", maximum: Self.maximumMessageLength, actual: message.count)
        }

        var next = self
        var offset = 0
        for token in pattern.messages[messageIndex] {
            switch token {
            case .e:
                let bytes = try Self.take(X25519PublicKey.byteCount, from: message, at: &offset, field: "ephemeral key")
                next.remoteEphemeral = try mappingCryptoErrors(field: "remote ephemeral key") {
                    try X25519PublicKey(rawRepresentation: bytes)
                }
                try next.symmetric.mixHash(bytes)
            case .s:
                let length = X25519PublicKey.byteCount + (next.symmetric.cipher.hasKey ? NoiseCipherState.tagLength : 0)
                let encrypted = try Self.take(length, from: message, at: &offset, field: "static key")
                let bytes = try next.symmetric.decryptAndHash(encrypted)
                next.remoteStaticKey = try mappingCryptoErrors(field: "remote static key") {
                    try X25519PublicKey(rawRepresentation: bytes)
                }
            case .ee, .es, .se, .ss:
                try next.mixDH(token)
            }
        }

        let rest = Array(message[offset...])
        if next.symmetric.cipher.hasKey, rest.count < NoiseCipherState.tagLength {
            throw NoiseError.truncated(
                field: "handshake payload", minimum: NoiseCipherState.tagLength, actual: rest.count)
        }
        let payload = try next.symmetric.decryptAndHash(rest)

        next.messageIndex += 1
        self = next
        return payload
    }

    /// Derives the transport cipher states (Noise `Split()`), oriented for this side.
    ///
    /// - Throws: ``NoiseError/invalidState(operation:reason:)`` before completion or on a second call.
    public mutating func split() throws -> NoiseTransport {
        try split(rekeyInterval: RatsboteTransport.rekeyInterval)
    }

    /// Derives the transport with a chosen rekey interval, so tests can reach a rekey in a few messages.
    mutating func split(rekeyInterval: UInt64) throws -> NoiseTransport {
        guard isComplete else {
            throw NoiseError.invalidState(
                operation: "split", reason: "the handshake has \(pattern.messages.count - messageIndex) message(s) left")
        }
        guard !hasSplit else {
            throw NoiseError.invalidState(operation: "split", reason: "the transport keys were already handed out")
        }

        let (initiatorToResponder, responderToInitiator) = try symmetric.split()
        hasSplit = true
        let sender = role == .initiator ? initiatorToResponder : responderToInitiator
        let receiver = role == .initiator ? responderToInitiator : initiatorToResponder
        return NoiseTransport(
            sender: sender, receiver: receiver, handshakeHash: symmetric.handshakeHash,
            remoteStaticKey: remoteStaticKey, rekeyInterval: rekeyInterval)
    }

    // MARK: - Steps

    private func requireTurn(writing: Bool) throws {
        let operation = writing ? "writeMessage" : "readMessage"
        guard !isComplete else {
            throw NoiseError.invalidState(operation: operation, reason: "the handshake is complete, so call split() for the transport")
        }
        guard isOurTurn == writing else {
            let reason = writing ? "the peer's handshake message must be read first" : "this side must write the next handshake message"
            throw NoiseError.invalidState(operation: operation, reason: reason)
        }
    }

    /// Performs the DH that `token` names and mixes the result into the chaining key.
    ///
    /// The first letter names the initiator's key and the second the responder's, so `es` is
    /// DH(e, rs) on the initiator and DH(s, re) on the responder.
    private mutating func mixDH(_ token: NoiseToken) throws {
        let initiatorUsesEphemeral: Bool
        let responderUsesEphemeral: Bool
        switch token {
        case .ee: (initiatorUsesEphemeral, responderUsesEphemeral) = (true, true)
        case .es: (initiatorUsesEphemeral, responderUsesEphemeral) = (true, false)
        case .se: (initiatorUsesEphemeral, responderUsesEphemeral) = (false, true)
        case .ss: (initiatorUsesEphemeral, responderUsesEphemeral) = (false, false)
        case .e, .s: return
        }

        let localUsesEphemeral = role == .initiator ? initiatorUsesEphemeral : responderUsesEphemeral
        let remoteUsesEphemeral = role == .initiator ? responderUsesEphemeral : initiatorUsesEphemeral
        let local = localUsesEphemeral ? localEphemeral : localStatic
        let remoteField = remoteUsesEphemeral ? "remote ephemeral key" : "remote static key"
        guard let remote = remoteUsesEphemeral ? remoteEphemeral : remoteStaticKey else {
            // The patterns above always deliver a key before the token that uses it.
            throw NoiseError.invalidState(operation: "DH", reason: "the \(remoteField) is not known yet")
        }

        let shared = try mappingCryptoErrors(field: remoteField) {
            try local.sharedSecret(with: remote, storage: .wiped)
        }
        try symmetric.mixKey(shared)
    }

    /// Takes `count` bytes of `message` from `offset` and advances `offset` past them.
    private static func take(_ count: Int, from message: [UInt8], at offset: inout Int, field: String) throws -> [UInt8] {
        guard message.count - offset >= count else {
            throw NoiseError.truncated(field: field, minimum: offset + count, actual: message.count)
        }
        defer { offset += count }
        return Array(message[offset..<(offset + count)])
    }
}
