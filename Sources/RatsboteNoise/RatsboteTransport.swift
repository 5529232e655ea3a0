import RatsboteCrypto

/// Ratsbote's transport constants and the hello exchanged inside the IK handshake.
///
/// `protocol/transport.md` describes the same rules for implementers in other languages.
public enum RatsboteTransport {
    /// The Noise protocol name; it is also the first input of the handshake hash.
    public static let protocolName = "Noise_IK_25519_ChaChaPoly_BLAKE2b"
    /// The prologue, ASCII `ratsbote transport v1`. It binds the handshake to this protocol and
    /// wire version: a peer with another prologue fails the first message with
    /// ``NoiseError/decryptionFailed``.
    public static let prologue: [UInt8] = Array("ratsbote transport v1".utf8)
    /// The largest Noise message on the stream, set by the 2-byte length prefix.
    public static let maximumNoiseMessage = 65535
    /// The default largest application frame payload: 1 MiB of content plus 64 KiB of headroom
    /// for the command that carries it.
    public static let defaultMaximumFrame = 1_048_576 + 65_536
    /// The number of messages per direction after which each transport CipherState is rekeyed.
    ///
    /// Rekeying erases the previous key, so a key stolen from memory exposes at most the last
    /// 2^20 messages of a direction. It costs one ChaCha20 block per 2^20 messages.
    public static let rekeyInterval: UInt64 = 1 << 20
    /// The transport version this build speaks, sent in the hello payload.
    public static let version: UInt8 = 1
    /// The versions a responder accepts.
    public static let supportedVersions: [UInt8] = [1]

    /// Starts the client's side of the handshake with the relay's pinned static key.
    public static func initiatorHandshake(
        localStatic: X25519PrivateKey, relayStatic: X25519PublicKey
    ) throws -> NoiseHandshake {
        try NoiseHandshake(
            pattern: .IK, role: .initiator, prologue: prologue, localStatic: localStatic, remoteStatic: relayStatic)
    }

    /// Starts the relay's side of the handshake.
    public static func responderHandshake(localStatic: X25519PrivateKey) throws -> NoiseHandshake {
        try NoiseHandshake(pattern: .IK, role: .responder, prologue: prologue, localStatic: localStatic)
    }

    /// Returns the hello payload: one byte, the transport version.
    ///
    /// The initiator sends it in handshake message 1, and the responder replies with the version it
    /// accepted in message 2.
    public static func helloPayload(version: UInt8 = version) -> [UInt8] {
        [version]
    }

    /// Checks a received hello payload.
    ///
    /// - Returns: the version, which is one of ``supportedVersions``.
    /// - Throws: ``NoiseError/invalidHello(field:expected:actual:)`` for a payload other than one
    ///   byte, ``NoiseError/unsupportedVersion(received:supported:)`` for an unknown version.
    public static func checkHello(_ payload: [UInt8]) throws -> UInt8 {
        guard payload.count == 1 else {
            throw NoiseError.invalidHello(field: "payload", expected: 1, actual: payload.count)
        }
        guard supportedVersions.contains(payload[0]) else {
            throw NoiseError.unsupportedVersion(received: payload[0], supported: supportedVersions)
        }
        return payload[0]
    }
}
