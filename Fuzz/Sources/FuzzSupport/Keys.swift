import RatsboteCrypto

/// Fixed keys, so that every run of a target with the same input does the same work and a saved
/// crash input reproduces.
public enum FuzzKeys {
    /// Makes an X25519 private key whose 32 bytes all equal `byte`.
    public static func x25519(_ byte: UInt8) -> X25519PrivateKey {
        // 32 bytes are always a valid X25519 scalar.
        try! X25519PrivateKey(secret: SecureBytes(copying: [UInt8](repeating: byte, count: X25519PrivateKey.byteCount)))
    }

    /// Makes a symmetric key whose 32 bytes all equal `byte`.
    public static func symmetric(_ byte: UInt8) -> SymmetricKey {
        try! SymmetricKey(copying: [UInt8](repeating: byte, count: 32))
    }
}
