import RatsboteCrypto

/// Limits that bound memory and work per session.
public enum SessionLimits {
    /// The maximum number of message keys one message may skip in one chain (`MAX_SKIP` in the Double Ratchet specification).
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
