import RatsboteCrypto

/// The two transport CipherStates after `Split()`, oriented for one side, with Ratsbote's
/// rekey policy.
///
/// Transport messages use empty associated data. After a CipherState has encrypted or decrypted
/// `rekeyInterval` messages (its nonce reaches a nonzero multiple of the interval), it is
/// rekeyed with Noise `Rekey()`. Both peers count the same messages, so they rekey in step with
/// no signalling. A failed decryption changes neither nonce nor key.
///
/// - Warning: a copy contains the same keys and nonces. Keep one live copy per connection.
public struct NoiseTransport: Sendable {
    /// The largest transport message Noise allows.
    public static let maximumMessageLength = 65535
    /// The largest payload of one transport message: the maximum message minus the tag.
    public static let maximumPayloadLength = maximumMessageLength - NoiseCipherState.tagLength

    /// Encrypts what this side sends.
    private(set) var sender: NoiseCipherState
    /// Decrypts what the peer sends.
    private(set) var receiver: NoiseCipherState
    /// The number of messages per direction between two rekeys.
    let rekeyInterval: UInt64

    /// The final handshake hash, identical on both sides; usable for channel binding.
    public let handshakeHash: [UInt8]
    /// The peer's static key as authenticated by the handshake.
    public let remoteStaticKey: X25519PublicKey?

    init(
        sender: NoiseCipherState, receiver: NoiseCipherState, handshakeHash: [UInt8],
        remoteStaticKey: X25519PublicKey?, rekeyInterval: UInt64
    ) {
        precondition(rekeyInterval > 0, "rekey interval must be positive")
        self.sender = sender
        self.receiver = receiver
        self.handshakeHash = handshakeHash
        self.remoteStaticKey = remoteStaticKey
        self.rekeyInterval = rekeyInterval
    }

    /// The nonce of the next message this side sends.
    public var sendingNonce: UInt64 { sender.nonce }
    /// The nonce of the next message this side expects.
    public var receivingNonce: UInt64 { receiver.nonce }

    /// Encrypts `payload` into one transport message.
    ///
    /// - Throws: ``NoiseError/tooLarge(field:maximum:actual:)`` above 65,519 bytes of payload,
    ///   ``NoiseError/nonceExhausted``.
    public mutating func encrypt(_ payload: [UInt8]) throws -> [UInt8] {
        try checkPayload(payload.count)

        return try payload.withUnsafeBytes { input in
            try [UInt8](unsafeUninitializedCapacity: input.count + NoiseCipherState.tagLength) { buffer, count in
                count = 0
                count = try encrypt(input, into: UnsafeMutableRawBufferPointer(buffer))
            }
        }
    }

    /// Decrypts one transport message.
    ///
    /// - Throws: ``NoiseError/decryptionFailed`` (state unchanged), ``NoiseError/truncated(field:minimum:actual:)``
    ///   below 16 bytes, ``NoiseError/tooLarge(field:maximum:actual:)`` above 65,535 bytes,
    ///   ``NoiseError/nonceExhausted``.
    public mutating func decrypt(_ message: [UInt8]) throws -> [UInt8] {
        try checkMessage(message.count)

        return try message.withUnsafeBytes { input in
            try [UInt8](unsafeUninitializedCapacity: input.count - NoiseCipherState.tagLength) { buffer, count in
                count = 0
                count = try decrypt(input, into: UnsafeMutableRawBufferPointer(buffer))
            }
        }
    }

    /// Encrypts `payload` into `output` (at least `payload.count + 16` bytes), which may start at
    /// the payload's own address for in-place encryption.
    ///
    /// - Returns: the message length.
    public mutating func encrypt(_ payload: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> Int {
        try checkPayload(payload.count)

        let written = try sender.encrypt(payload, ad: UnsafeRawBufferPointer(start: nil, count: 0), into: output)
        try Self.rekeyIfDue(&sender, interval: rekeyInterval)
        return written
    }

    /// Decrypts `message` into `output` (at least `message.count - 16` bytes), which may start at
    /// the message's own address.
    ///
    /// - Returns: the payload length.
    public mutating func decrypt(_ message: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> Int {
        try checkMessage(message.count)

        let written = try receiver.decrypt(message, ad: UnsafeRawBufferPointer(start: nil, count: 0), into: output)
        try Self.rekeyIfDue(&receiver, interval: rekeyInterval)
        return written
    }

    /// Moves both nonces, so tests can reach the reserved nonce without 2^64 messages.
    mutating func setNonces(sending: UInt64, receiving: UInt64) {
        sender.setNonce(sending)
        receiver.setNonce(receiving)
    }

    // MARK: - Checks and rekeying

    private func checkPayload(_ count: Int) throws {
        guard count <= Self.maximumPayloadLength else {
            throw NoiseError.tooLarge(field: "transport payload", maximum: Self.maximumPayloadLength, actual: count)
        }
    }

    private func checkMessage(_ count: Int) throws {
        guard count <= Self.maximumMessageLength else {
            throw NoiseError.tooLarge(field: "transport message", maximum: Self.maximumMessageLength, actual: count)
        }
        guard count >= NoiseCipherState.tagLength else {
            throw NoiseError.truncated(field: "transport message", minimum: NoiseCipherState.tagLength, actual: count)
        }
    }

    /// Rekeys `state` after every `interval` messages. It runs only after a successful
    /// encryption or decryption, so a failed message never rekeys.
    private static func rekeyIfDue(_ state: inout NoiseCipherState, interval: UInt64) throws {
        if state.nonce % interval == 0 {
            try state.rekey()
        }
    }
}
