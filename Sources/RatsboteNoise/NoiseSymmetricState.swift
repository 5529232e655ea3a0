import RatsboteCrypto

/// A Noise revision 34 SymmetricState: the chaining key `ck`, the handshake hash
/// `h` and the CipherState that protects handshake payloads.
///
/// The chaining key is secret and lives in wiped memory. The handshake hash is public (both
/// peers and any channel binding use it), so it is an ordinary array.
struct NoiseSymmetricState: Sendable {
    /// The CipherState that encrypts static keys and payloads during the handshake.
    private(set) var cipher: NoiseCipherState
    /// `ck`: HASHLEN bytes that every DH result is mixed into.
    private var chainingKey: SecureBytes
    /// `h`: HASHLEN bytes that bind everything sent and received so far.
    private(set) var handshakeHash: [UInt8]

    /// Noise `InitializeSymmetric(protocol_name)`.
    init(protocolName: [UInt8]) throws {
        if protocolName.count <= NoiseHash.hashLength {
            handshakeHash = protocolName + [UInt8](repeating: 0, count: NoiseHash.hashLength - protocolName.count)
        } else {
            handshakeHash = try protocolName.withUnsafeBytes { try NoiseHash.hash([$0]) }
        }
        chainingKey = SecureBytes(copying: handshakeHash, storage: .wiped)
        cipher = NoiseCipherState()
    }

    /// Noise `MixKey(input_key_material)`: advances `ck` and sets a fresh cipher key.
    mutating func mixKey(_ inputKeyMaterial: SecureBytes) throws {
        let outputs = try inputKeyMaterial.withUnsafeBytes {
            try NoiseHash.hkdf(chainingKey: chainingKey, inputKeyMaterial: $0, outputs: 2)
        }
        chainingKey = outputs.first
        cipher = NoiseCipherState(key: try NoiseHash.truncatedKey(outputs.second))
    }

    /// Noise `MixHash(data)`: `h = HASH(h || data)`.
    mutating func mixHash(_ data: [UInt8]) throws {
        handshakeHash = try handshakeHash.withUnsafeBytes { previous in
            try data.withUnsafeBytes { try NoiseHash.hash([previous, $0]) }
        }
    }

    /// Noise `EncryptAndHash(plaintext)`: encrypts with `h` as associated data, then mixes the
    /// ciphertext into `h`.
    mutating func encryptAndHash(_ plaintext: [UInt8]) throws -> [UInt8] {
        let ciphertext = try cipher.encryptWithAd(handshakeHash, plaintext: plaintext)
        try mixHash(ciphertext)
        return ciphertext
    }

    /// Noise `DecryptAndHash(ciphertext)`.
    mutating func decryptAndHash(_ ciphertext: [UInt8]) throws -> [UInt8] {
        let plaintext = try cipher.decryptWithAd(handshakeHash, ciphertext: ciphertext)
        try mixHash(ciphertext)
        return plaintext
    }

    /// Noise `Split()`: derives the initiator-to-responder and responder-to-initiator states.
    func split() throws -> (initiatorToResponder: NoiseCipherState, responderToInitiator: NoiseCipherState) {
        let outputs = try NoiseHash.hkdf(
            chainingKey: chainingKey, inputKeyMaterial: UnsafeRawBufferPointer(start: nil, count: 0), outputs: 2)
        return (
            NoiseCipherState(key: try NoiseHash.truncatedKey(outputs.first)),
            NoiseCipherState(key: try NoiseHash.truncatedKey(outputs.second))
        )
    }
}
