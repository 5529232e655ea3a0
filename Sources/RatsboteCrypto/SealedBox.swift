import Foundation
internal import CSodium

/// Anonymous public-key encryption to an X25519 key (`crypto_box_seal`).
///
/// The sender is not identified: anybody who knows the public key can seal. The output is an
/// ephemeral public key, the ciphertext and a 16-byte tag.
public enum SealedBox {
    /// Bytes a sealed box adds to its plaintext (`crypto_box_sealbytes()`, 48).
    public static var overhead: Int { Int(crypto_box_sealbytes()) }

    /// Seals `plaintext` to `recipient`.
    public static func seal(_ plaintext: some ContiguousBytes, to recipient: X25519PublicKey) -> [UInt8] {
        Sodium.ensureInitialized()
        return plaintext.withUnsafeBytes { message in
            var output = [UInt8](repeating: 0, count: message.count + overhead)
            output.withUnsafeMutableBufferPointer { out in
                recipient.rawRepresentation.withUnsafeBufferPointer { pk in
                    _ = crypto_box_seal(
                        out.baseAddress!, message.bindMemory(to: UInt8.self).baseAddress,
                        UInt64(message.count), pk.baseAddress!
                    )
                }
            }
            return output
        }
    }

    /// Opens a sealed box with the recipient's key pair.
    ///
    /// - Throws: ``CryptoError/invalidLength(operation:field:expected:actual:)`` when the input is
    ///   shorter than the overhead, ``CryptoError/authenticationFailure`` otherwise.
    /// - Note: the returned plaintext is an ordinary array; callers wipe it when it is secret.
    public static func open(_ sealed: some ContiguousBytes, with recipient: X25519PrivateKey) throws -> [UInt8] {
        Sodium.ensureInitialized()
        return try sealed.withUnsafeBytes { box in
            guard box.count >= overhead else {
                throw CryptoError.invalidLength(
                    operation: "SealedBox.open", field: "sealed box", expected: overhead, actual: box.count)
            }
            var output = [UInt8](repeating: 0, count: box.count - overhead)
            let rc = output.withUnsafeMutableBufferPointer { out in
                recipient.publicKey.rawRepresentation.withUnsafeBufferPointer { pk in
                    recipient.withUnsafeBytes { sk in
                        crypto_box_seal_open(
                            out.baseAddress ?? UnsafeMutablePointer(mutating: pk.baseAddress!),
                            box.bindMemory(to: UInt8.self).baseAddress!, UInt64(box.count),
                            pk.baseAddress!, sk.bindMemory(to: UInt8.self).baseAddress!
                        )
                    }
                }
            }
            guard rc == 0 else { throw CryptoError.authenticationFailure }
            return output
        }
    }
}
