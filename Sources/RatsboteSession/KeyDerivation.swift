import RatsboteCrypto

/// The key derivation functions of X3DH and the Double Ratchet for suite 1.
///
/// - Note: one message costs five HMAC-SHA-256 calls (two for `KDF_CK`, three for the HKDF that
///   yields 56 bytes of key and nonce) plus the AEAD. The copies those calls make happen inside
///   RatsboteCrypto's HMAC and HKDF, so the one-way message rate depends on how cheap those are.
enum KeyDerivation {
    /// HKDF info for the X3DH shared secret.
    static let x3dhInfo = Array("Ratsbote X3DH v1".utf8)
    /// HKDF info for the root-key step (`KDF_RK`).
    static let rootInfo = Array("Ratsbote ratchet root v1".utf8)
    /// HKDF info for the per-message AEAD key and nonce.
    static let messageInfo = Array("Ratsbote message key v1".utf8)
    /// The HMAC input that derives a message key from a chain key.
    static let messageKeyConstant: [UInt8] = [0x01]
    /// The HMAC input that derives the next chain key.
    static let chainKeyConstant: [UInt8] = [0x02]
    /// The 32 bytes of 0xFF that X3DH prepends to the DH outputs for X25519.
    static let x3dhPrefix = [UInt8](repeating: 0xFF, count: 32)
    /// The all-zero salt used where the specifications ask for a zero-filled salt.
    static let zeroSalt = [UInt8](repeating: 0, count: 32)

    /// Derives the X3DH shared secret `SK` from the concatenated DH outputs.
    static func x3dhSecret(dhOutputs: [SecureBytes]) throws -> SecureBytes {
        let total = x3dhPrefix.count + dhOutputs.reduce(0) { $0 + $1.count }
        let ikm = SecureBytes(count: total, storage: .wiped) { out in
            var offset = 0
            x3dhPrefix.withUnsafeBytes { prefix in
                out.baseAddress!.copyMemory(from: prefix.baseAddress!, byteCount: prefix.count)
                offset = prefix.count
            }
            for output in dhOutputs {
                output.withUnsafeBytes { bytes in
                    (out.baseAddress! + offset).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                    offset += bytes.count
                }
            }
        }
        return try HKDFSHA256.deriveKey(
            inputKeyMaterial: ikm, salt: zeroSalt, info: x3dhInfo, outputByteCount: 32, storage: .wiped)
    }

    /// `KDF_RK`: a new root key and chain key from the root key and a DH output.
    static func rootStep(rootKey: SecureBytes, dhOutput: SecureBytes) throws -> (root: SecureBytes, chain: SecureBytes) {
        let output = try rootKey.withUnsafeBytes { salt in
            try HKDFSHA256.deriveKey(
                inputKeyMaterial: dhOutput, salt: salt, info: rootInfo, outputByteCount: 64, storage: .wiped)
        }
        return output.withUnsafeBytes { bytes in
            (
                SecureBytes(copying: UnsafeRawBufferPointer(rebasing: bytes[0..<32]), storage: .wiped),
                SecureBytes(copying: UnsafeRawBufferPointer(rebasing: bytes[32..<64]), storage: .wiped)
            )
        }
    }

    /// `KDF_CK`: the message key and the next chain key, by HMAC-SHA-256 with constants 0x01 and 0x02.
    static func chainStep(chainKey: SecureBytes) -> (messageKey: SecureBytes, nextChainKey: SecureBytes) {
        (
            HMACSHA256.authenticationCode(for: messageKeyConstant, key: chainKey, storage: .wiped),
            HMACSHA256.authenticationCode(for: chainKeyConstant, key: chainKey, storage: .wiped)
        )
    }

    /// Expands a message key into the XChaCha20-Poly1305 key (bytes 0..<32) and nonce (bytes
    /// 32..<56) and calls `body` with both.
    ///
    /// The nonce is read in place from the wiped HKDF output instead of being copied into an
    /// array, which saves an allocation on every message. It must not escape `body`.
    static func withMessageKeyAndNonce<Result>(
        messageKey: SecureBytes, _ body: (SymmetricKey, UnsafeRawBufferPointer) throws -> Result
    ) throws -> Result {
        let keyByteCount = SymmetricKey.byteCount
        let output = try HKDFSHA256.deriveKey(
            inputKeyMaterial: messageKey, salt: zeroSalt, info: messageInfo,
            outputByteCount: keyByteCount + XChaCha20Poly1305.nonceByteCount, storage: .wiped)
        return try output.withUnsafeBytes { bytes in
            let key = try SymmetricKey(
                copying: UnsafeRawBufferPointer(rebasing: bytes[0..<keyByteCount]), storage: .wiped)
            return try body(key, UnsafeRawBufferPointer(rebasing: bytes[keyByteCount...]))
        }
    }
}
