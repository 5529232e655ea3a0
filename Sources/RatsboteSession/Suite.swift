import RatsboteCrypto

/// The algorithms behind a key, bundle or message, named on the wire as a u16.
///
/// Naming the suite everywhere lets a hybrid X25519 + ML-KEM-768 suite be added later without a
/// format break: a decoder that meets an unknown suite rejects it with ``SessionError/unsupportedSuite(_:)``.
public enum CipherSuite: UInt16, Sendable, CaseIterable {
    /// X25519 key agreement, Ed25519 identities, XChaCha20-Poly1305, HKDF/HMAC-SHA-256.
    case x25519Ed25519XChaCha20Poly1305SHA256 = 1

    /// The suite used for new sessions.
    public static let current = CipherSuite.x25519Ed25519XChaCha20Poly1305SHA256

    /// The size of a ratchet or prekey public key in this suite.
    var publicKeyByteCount: Int { 32 }

    /// Decodes a suite id, rejecting unknown ones.
    static func decode(_ raw: UInt16) throws -> CipherSuite {
        guard let suite = CipherSuite(rawValue: raw) else { throw SessionError.unsupportedSuite(raw) }
        return suite
    }
}

/// The address of one device: a user id and a device id.
///
/// Every address names a device from the start, so that several devices per person need no
/// format change later.
public struct DeviceAddress: Hashable, Sendable, CustomStringConvertible {
    /// The maximum length of a user id in UTF-8 bytes.
    public static let maximumUserIDByteCount = 128

    /// The user id as the directory assigns it.
    public let userID: String
    /// The device number within the user's devices.
    public let deviceID: UInt32

    /// Creates an address.
    ///
    /// - Throws: ``SessionError/malformed(structure:field:reason:)`` when the user id is empty or
    ///   longer than ``maximumUserIDByteCount`` bytes.
    public init(userID: String, deviceID: UInt32) throws {
        let length = userID.utf8.count
        guard length > 0, length <= Self.maximumUserIDByteCount else {
            throw SessionError.malformed(
                structure: "DeviceAddress", field: "userID",
                reason: "length \(length) is outside 1...\(Self.maximumUserIDByteCount)")
        }
        self.userID = userID
        self.deviceID = deviceID
    }

    public var description: String { "\(userID).\(deviceID)" }

    func encode(into writer: inout SessionWriter) {
        writer.string(userID)
        writer.u32(deviceID)
    }

    static func decode(from reader: inout SessionReader) throws -> DeviceAddress {
        let user = try reader.string("userID", maximum: maximumUserIDByteCount)
        let device = try reader.u32("deviceID")
        guard !user.isEmpty else { throw reader.error("userID", "must not be empty") }
        return try DeviceAddress(userID: user, deviceID: device)
    }
}

/// Limits that bound memory and work per session.
public enum SessionLimits {
    /// The most message keys one chain may skip (`MAX_SKIP` in the Double Ratchet specification).
    public static let maximumSkippedPerChain = 1000
    /// The most skipped message keys a session stores in total; the oldest are evicted beyond it.
    public static let maximumSkippedTotal = 2000
    /// How many earlier receiving ratchet keys a session remembers to recognise duplicates.
    public static let rememberedReceivingChains = 8
    /// The largest plaintext one message may carry (1 MiB); documents travel as blobs.
    public static let maximumPlaintextByteCount = 1 << 20
    /// The largest ciphertext: the plaintext maximum plus the 16-byte tag.
    public static let maximumCiphertextByteCount = maximumPlaintextByteCount + XChaCha20Poly1305.tagByteCount
}

/// A source of fresh X25519 key pairs for X3DH and DH ratchet steps.
///
/// Sessions take their randomness from here so that tests and vector generators can make runs
/// reproducible. Production code uses ``SystemKeyPairSource``.
public protocol KeyPairSource {
    /// Returns a new key pair.
    mutating func nextKeyPair() -> X25519PrivateKey
}

/// Key pairs from the operating system's CSPRNG, in wiped (not guarded) memory because ratchet
/// keys are short-lived and created on every DH ratchet step.
public struct SystemKeyPairSource: KeyPairSource {
    /// Creates the source.
    public init() {}

    public mutating func nextKeyPair() -> X25519PrivateKey {
        X25519PrivateKey.generate(storage: .wiped)
    }
}
