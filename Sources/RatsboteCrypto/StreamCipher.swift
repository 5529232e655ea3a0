internal import CSodium

/// Unauthenticated ChaCha20 keystreams, kept internal: nothing in Ratsbote may encrypt without a
/// tag. The RFC known-answer tests use them to check the XChaCha20 block function and the
/// one-time Poly1305 keys that the AEADs derive.
enum StreamCipher {
    /// XORs `input` with the XChaCha20 keystream (24-byte nonce) starting at 64-byte block `counter`.
    static func xchacha20XOR(_ input: [UInt8], key: [UInt8], nonce: [UInt8], counter: UInt64) -> [UInt8] {
        Sodium.ensureInitialized()
        precondition(key.count == 32 && nonce.count == 24, "XChaCha20 needs a 32-byte key and a 24-byte nonce")
        var output = [UInt8](repeating: 0, count: input.count)
        output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBytes { m in
                _ = crypto_stream_xchacha20_xor_ic(
                    out.baseAddress ?? emptyOutput, bytePointer(m), UInt64(input.count), nonce, counter, key)
            }
        }
        return output
    }

    /// Returns the first 32 bytes of the ChaCha20-IETF keystream (12-byte nonce, block 0), which
    /// are the one-time Poly1305 key of RFC 8439 section 2.6.
    static func chacha20IETFPoly1305Key(key: [UInt8], nonce: [UInt8]) -> [UInt8] {
        Sodium.ensureInitialized()
        precondition(key.count == 32 && nonce.count == 12, "ChaCha20-IETF needs a 32-byte key and a 12-byte nonce")
        var output = [UInt8](repeating: 0, count: 32)
        _ = crypto_stream_chacha20_ietf(&output, 32, nonce, key)
        return output
    }

    /// Returns the first 32 bytes of the XChaCha20 keystream (24-byte nonce, block 0).
    static func xchacha20Poly1305Key(key: [UInt8], nonce: [UInt8]) -> [UInt8] {
        xchacha20XOR([UInt8](repeating: 0, count: 32), key: key, nonce: nonce, counter: 0)
    }
}
