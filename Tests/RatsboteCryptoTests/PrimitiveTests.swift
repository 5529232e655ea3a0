import Foundation
import Testing
import RatsboteCrypto

/// Negative and round-trip tests for each primitive: a flipped tag, truncated input, a wrong key
/// and wrong associated data, each expecting its specific error.
@Suite("Primitives")
struct PrimitiveTests {
    let message: [UInt8] = Array("Sitzung des Stadtrats am Dienstag".utf8)
    let aad: [UInt8] = Array("header v1".utf8)

    // MARK: - AEADs

    @Test func xChaCha20Poly1305Negatives() throws {
        let key = SymmetricKey.generate(storage: .wiped)
        let nonce = Random.bytes(count: XChaCha20Poly1305.nonceByteCount)
        let sealed = try XChaCha20Poly1305.seal(message, using: key, nonce: nonce, authenticating: aad)
        #expect(try XChaCha20Poly1305.open(sealed, using: key, nonce: nonce, authenticating: aad) == message)

        var flipped = sealed
        flipped[flipped.count - 1] ^= 0x01
        #expect(throws: CryptoError.authenticationFailure) {
            try XChaCha20Poly1305.open(flipped, using: key, nonce: nonce, authenticating: aad)
        }
        #expect(throws: CryptoError.authenticationFailure) {
            try XChaCha20Poly1305.open(Array(sealed.dropLast()), using: key, nonce: nonce, authenticating: aad)
        }
        #expect(throws: CryptoError.invalidLength(operation: "XChaCha20Poly1305.open", field: "ciphertext", expected: 16, actual: 15)) {
            try XChaCha20Poly1305.open(Array(sealed.prefix(15)), using: key, nonce: nonce, authenticating: aad)
        }
        #expect(throws: CryptoError.authenticationFailure) {
            try XChaCha20Poly1305.open(sealed, using: SymmetricKey.generate(storage: .wiped), nonce: nonce, authenticating: aad)
        }
        #expect(throws: CryptoError.authenticationFailure) {
            try XChaCha20Poly1305.open(sealed, using: key, nonce: nonce, authenticating: aad + [0])
        }
        #expect(throws: CryptoError.invalidLength(operation: "XChaCha20Poly1305.seal", field: "nonce", expected: 24, actual: 12)) {
            try XChaCha20Poly1305.seal(message, using: key, nonce: Array(nonce.prefix(12)))
        }
    }

    @Test func chaCha20Poly1305Negatives() throws {
        let key = SymmetricKey.generate(storage: .wiped)
        let nonce = [UInt8](repeating: 0, count: 11) + [1]
        let sealed = try ChaCha20Poly1305.seal(message, using: key, nonce: nonce, authenticating: aad)
        #expect(try ChaCha20Poly1305.open(sealed, using: key, nonce: nonce, authenticating: aad) == message)

        var flipped = sealed
        flipped[sealed.count - 16] ^= 0x80
        #expect(throws: CryptoError.authenticationFailure) {
            try ChaCha20Poly1305.open(flipped, using: key, nonce: nonce, authenticating: aad)
        }
        #expect(throws: CryptoError.authenticationFailure) {
            try ChaCha20Poly1305.open(Array(sealed.dropLast()), using: key, nonce: nonce, authenticating: aad)
        }
        #expect(throws: CryptoError.invalidLength(operation: "ChaCha20Poly1305.open", field: "ciphertext", expected: 16, actual: 0)) {
            try ChaCha20Poly1305.open([UInt8](), using: key, nonce: nonce, authenticating: aad)
        }
        #expect(throws: CryptoError.authenticationFailure) {
            try ChaCha20Poly1305.open(sealed, using: SymmetricKey.generate(storage: .wiped), nonce: nonce, authenticating: aad)
        }
        #expect(throws: CryptoError.authenticationFailure) {
            try ChaCha20Poly1305.open(sealed, using: key, nonce: nonce, authenticating: [UInt8]())
        }
        #expect(throws: CryptoError.invalidLength(operation: "ChaCha20Poly1305.open", field: "nonce", expected: 12, actual: 24)) {
            try ChaCha20Poly1305.open(sealed, using: key, nonce: nonce + nonce, authenticating: aad)
        }
    }

    @Test func aeadCallerBuffers() throws {
        let key = SymmetricKey.generate(storage: .wiped)
        let nonce = Random.bytes(count: 24)
        var sealed = [UInt8](repeating: 0, count: message.count + 16)
        var opened = [UInt8](repeating: 0, count: message.count)
        let written = try message.withUnsafeBytes { p in
            try nonce.withUnsafeBytes { n in
                try aad.withUnsafeBytes { a in
                    try sealed.withUnsafeMutableBytes { try XChaCha20Poly1305.seal(p, using: key, nonce: n, authenticating: a, into: $0) }
                }
            }
        }
        #expect(written == sealed.count)
        #expect(sealed == (try XChaCha20Poly1305.seal(message, using: key, nonce: nonce, authenticating: aad)))
        let read = try sealed.withUnsafeBytes { c in
            try nonce.withUnsafeBytes { n in
                try aad.withUnsafeBytes { a in
                    try opened.withUnsafeMutableBytes { try XChaCha20Poly1305.open(c, using: key, nonce: n, authenticating: a, into: $0) }
                }
            }
        }
        #expect(read == message.count)
        #expect(opened == message)

        var small = [UInt8](repeating: 0, count: message.count + 15)
        #expect(throws: CryptoError.invalidLength(
            operation: "XChaCha20Poly1305.seal", field: "output buffer", expected: message.count + 16, actual: message.count + 15)
        ) {
            try message.withUnsafeBytes { p in
                try nonce.withUnsafeBytes { n in
                    try small.withUnsafeMutableBytes {
                        try XChaCha20Poly1305.seal(p, using: key, nonce: n, authenticating: UnsafeRawBufferPointer(start: nil, count: 0), into: $0)
                    }
                }
            }
        }
    }

    @Test func randomNonceRoundTrip() throws {
        let key = SymmetricKey.generate(storage: .wiped)
        let combined = XChaCha20Poly1305.sealWithRandomNonce(message, using: key, authenticating: aad)
        #expect(combined.count == 24 + message.count + 16)
        #expect(try XChaCha20Poly1305.openWithNonce(combined, using: key, authenticating: aad) == message)
        #expect(throws: CryptoError.authenticationFailure) {
            try XChaCha20Poly1305.openWithNonce(combined, using: key, authenticating: [UInt8]())
        }
        #expect(throws: CryptoError.invalidLength(operation: "XChaCha20Poly1305.open", field: "nonce and ciphertext", expected: 40, actual: 39)) {
            try XChaCha20Poly1305.openWithNonce(Array(combined.prefix(39)), using: key)
        }
        #expect(XChaCha20Poly1305.sealWithRandomNonce(message, using: key) != XChaCha20Poly1305.sealWithRandomNonce(message, using: key))
    }

    // MARK: - Sealed boxes

    @Test func sealedBoxNegatives() throws {
        let recipient = X25519PrivateKey.generate(storage: .wiped)
        let box = SealedBox.seal(message, to: recipient.publicKey)
        #expect(box.count == message.count + SealedBox.overhead)
        #expect(try SealedBox.open(box, with: recipient) == message)
        #expect(try SealedBox.open(SealedBox.seal([UInt8](), to: recipient.publicKey), with: recipient) == [])

        var flipped = box
        flipped[flipped.count - 1] ^= 0x01
        #expect(throws: CryptoError.authenticationFailure) { try SealedBox.open(flipped, with: recipient) }
        #expect(throws: CryptoError.authenticationFailure) { try SealedBox.open(Array(box.dropLast()), with: recipient) }
        #expect(throws: CryptoError.invalidLength(operation: "SealedBox.open", field: "sealed box", expected: 48, actual: 47)) {
            try SealedBox.open(Array(box.prefix(47)), with: recipient)
        }
        #expect(throws: CryptoError.authenticationFailure) {
            try SealedBox.open(box, with: X25519PrivateKey.generate(storage: .wiped))
        }
    }

    @Test func sealedBoxRejectsLowOrderRecipient() throws {
        // The u-coordinate 0 is a point of low order: every agreement with it is all zeros.
        let lowOrder = try X25519PublicKey(rawRepresentation: [UInt8](repeating: 0, count: 32))
        var output = [UInt8](repeating: 0xff, count: message.count + SealedBox.overhead)
        #expect(throws: CryptoError.weakPublicKey) {
            try message.withUnsafeBytes { p in
                try output.withUnsafeMutableBytes { try SealedBox.seal(p, to: lowOrder, into: $0) }
            }
        }
    }

    // MARK: - Signatures and key agreement

    @Test func ed25519Negatives() throws {
        let key = Ed25519SigningKey.generate()
        let signature = key.signature(for: message)
        try key.publicKey.verify(signature, for: message)

        var flipped = signature
        flipped[63] ^= 0x01
        #expect(throws: CryptoError.authenticationFailure) { try key.publicKey.verify(flipped, for: message) }
        #expect(!key.publicKey.isValidSignature(signature.dropLast(), for: message))
        #expect(throws: CryptoError.authenticationFailure) {
            try Ed25519SigningKey.generate().publicKey.verify(signature, for: message)
        }
        #expect(throws: CryptoError.authenticationFailure) { try key.publicKey.verify(signature, for: message + [0]) }
        #expect(throws: CryptoError.invalidLength(operation: "Ed25519PublicKey", field: "public key", expected: 32, actual: 31)) {
            try Ed25519PublicKey(rawRepresentation: key.publicKey.rawRepresentation.dropLast())
        }
        #expect(throws: CryptoError.invalidLength(operation: "Ed25519SigningKey", field: "seed", expected: 32, actual: 16)) {
            try Ed25519SigningKey(seed: SecureBytes.random(count: 16))
        }
    }

    @Test func ed25519ToX25519Conversion() throws {
        let alice = Ed25519SigningKey.generate()
        let bob = Ed25519SigningKey.generate()
        let aliceX = try alice.x25519PrivateKey()
        let bobX = try bob.x25519PrivateKey()
        #expect(try alice.publicKey.x25519PublicKey() == aliceX.publicKey)
        let fromAlice = try aliceX.sharedSecret(with: bob.publicKey.x25519PublicKey())
        let fromBob = try bobX.sharedSecret(with: alice.publicKey.x25519PublicKey())
        #expect(fromAlice == fromBob)

        // A y-coordinate that is not on the curve cannot be converted.
        let notOnCurve = try Ed25519PublicKey(rawRepresentation: [2] + [UInt8](repeating: 0, count: 31))
        #expect(throws: CryptoError.invalidKey(operation: "Ed25519 to X25519 public key")) {
            try notOnCurve.x25519PublicKey()
        }
    }

    @Test func x25519Negatives() throws {
        let key = X25519PrivateKey.generate(storage: .wiped)
        let peer = X25519PrivateKey.generate(storage: .wiped)
        #expect(try key.sharedSecret(with: peer.publicKey) == peer.sharedSecret(with: key.publicKey))
        #expect(throws: CryptoError.weakPublicKey) {
            try key.sharedSecret(with: X25519PublicKey(rawRepresentation: [1] + [UInt8](repeating: 0, count: 31)))
        }
        #expect(throws: CryptoError.invalidLength(operation: "X25519PublicKey", field: "public key", expected: 32, actual: 33)) {
            try X25519PublicKey(rawRepresentation: [UInt8](repeating: 9, count: 33))
        }
        #expect(throws: CryptoError.invalidLength(operation: "X25519PrivateKey", field: "private key", expected: 32, actual: 31)) {
            try X25519PrivateKey(secret: SecureBytes.random(count: 31))
        }
    }

    // MARK: - MACs, KDFs and hashes

    @Test func hmacNegatives() throws {
        let key = Random.bytes(count: 32)
        let tag = HMACSHA256.authenticationCode(for: message, key: key)
        #expect(HMACSHA256.isValidAuthenticationCode(tag, for: message, key: key))
        var flipped = tag
        flipped[0] ^= 0x01
        #expect(!HMACSHA256.isValidAuthenticationCode(flipped, for: message, key: key))
        #expect(!HMACSHA256.isValidAuthenticationCode(tag.dropLast(), for: message, key: key))
        #expect(!HMACSHA256.isValidAuthenticationCode(tag, for: message, key: Random.bytes(count: 32)))
        #expect(!HMACSHA256.isValidAuthenticationCode(tag, for: message + [0], key: key))

        // The secure-storage and caller-buffer forms give the same tag.
        let secure = HMACSHA256.authenticationCode(for: message, key: SecureBytes(copying: key, storage: .wiped))
        #expect(secure.testCopy == tag)
        var buffer = [UInt8](repeating: 0, count: 32)
        try message.withUnsafeBytes { m in
            try key.withUnsafeBytes { k in
                try buffer.withUnsafeMutableBytes { try HMACSHA256.authenticationCode(for: m, key: k, into: $0) }
            }
        }
        #expect(buffer == tag)
    }

    @Test func hkdfLimitsAndShortOutput() throws {
        let prk = SecureBytes.random(count: 32, storage: .wiped)
        #expect(throws: CryptoError.outOfRange(operation: "HKDF-SHA-256", field: "output size", minimum: 0, maximum: 8160, actual: 8161)) {
            try HKDFSHA256.expand(pseudoRandomKey: prk, info: [UInt8](), outputByteCount: 8161)
        }
        #expect(throws: CryptoError.outOfRange(operation: "HKDF-SHA-256", field: "output size", minimum: 0, maximum: 8160, actual: -1)) {
            try HKDFSHA256.expand(pseudoRandomKey: prk, info: [UInt8](), outputByteCount: -1)
        }
        #expect(try HKDFSHA256.expand(pseudoRandomKey: prk, info: [UInt8](), outputByteCount: 8160).count == 8160)

        // An output of at most 32 bytes is T(1) = HMAC(PRK, info ‖ 0x01), cut to length.
        let info: [UInt8] = Array("ratchet".utf8)
        let block = prk.withUnsafeBytes { HMACSHA256.authenticationCode(for: info + [1], key: $0) }
        for length in [0, 1, 16, 32] {
            let okm = try HKDFSHA256.expand(pseudoRandomKey: prk, info: info, outputByteCount: length)
            #expect(okm.testCopy == Array(block.prefix(length)))
        }
        let long = try HKDFSHA256.expand(pseudoRandomKey: prk, info: info, outputByteCount: 40)
        #expect(Array(long.testCopy.prefix(32)) == block)
    }

    @Test func blake2bNegativesAndStreaming() throws {
        let key = SecureBytes.random(count: 32, storage: .wiped)
        let plain = try BLAKE2b.hash(message)
        let keyed = try BLAKE2b.hash(message, key: key)
        #expect(plain.count == 32)
        #expect(plain != keyed)
        #expect(try BLAKE2b.hash(message, key: SecureBytes.random(count: 32, storage: .wiped)) != keyed)
        #expect(try BLAKE2b.hash(message.dropLast(), key: key) != keyed)

        let hasher = try BLAKE2b.Hasher(outputByteCount: 32, key: key)
        hasher.update(message.prefix(5))
        hasher.update(message.dropFirst(5))
        #expect(hasher.finalize() == keyed)

        var buffer = [UInt8](repeating: 0, count: 64)
        try message.withUnsafeBytes { m in try buffer.withUnsafeMutableBytes { try BLAKE2b.hash(m, into: $0) } }
        #expect(buffer == (try BLAKE2b.hash(message, outputByteCount: 64)))

        #expect(throws: CryptoError.outOfRange(operation: "BLAKE2b", field: "output size", minimum: 16, maximum: 64, actual: 15)) {
            try BLAKE2b.hash(message, outputByteCount: 15)
        }
        #expect(throws: CryptoError.outOfRange(operation: "BLAKE2b", field: "output size", minimum: 16, maximum: 64, actual: 65)) {
            try BLAKE2b.Hasher(outputByteCount: 65)
        }
        #expect(throws: CryptoError.outOfRange(operation: "BLAKE2b", field: "key size", minimum: 1, maximum: 64, actual: 65)) {
            try BLAKE2b.hash(message, key: SecureBytes.random(count: 65, storage: .wiped))
        }
    }

    // MARK: - Argon2id

    @Test func argon2idDeterminismAndBounds() throws {
        let passphrase = SecureBytes(copying: Array("correct horse battery staple".utf8), storage: .wiped)
        let salt = [UInt8](repeating: 0x11, count: Argon2id.saltByteCount)
        let parameters = Argon2id.Parameters.interactive
        let first = try Argon2id.deriveKey(from: passphrase, salt: salt, parameters: parameters)
        let second = try Argon2id.deriveKey(from: passphrase, salt: salt, parameters: parameters)
        #expect(first.count == 32)
        #expect(first == second)
        let otherSalt = [UInt8](repeating: 0x12, count: Argon2id.saltByteCount)
        #expect(try Argon2id.deriveKey(from: passphrase, salt: otherSalt, parameters: parameters) != first)

        #expect(throws: CryptoError.outOfRange(operation: "Argon2id", field: "operations", minimum: 2, maximum: 10, actual: 1)) {
            try Argon2id.deriveKey(from: passphrase, salt: salt, parameters: .init(operations: 1, memoryBytes: parameters.memoryBytes))
        }
        #expect(throws: CryptoError.outOfRange(operation: "Argon2id", field: "operations", minimum: 2, maximum: 10, actual: 11)) {
            try Argon2id.deriveKey(from: passphrase, salt: salt, parameters: .init(operations: 11, memoryBytes: parameters.memoryBytes))
        }
        #expect(throws: CryptoError.outOfRange(
            operation: "Argon2id", field: "memory bytes", minimum: 64 << 20, maximum: 1 << 30, actual: 1 << 20)
        ) {
            try Argon2id.deriveKey(from: passphrase, salt: salt, parameters: .init(operations: 2, memoryBytes: 1 << 20))
        }
        #expect(throws: CryptoError.outOfRange(
            operation: "Argon2id", field: "memory bytes", minimum: 64 << 20, maximum: 1 << 30, actual: (1 << 30) + 1)
        ) {
            try Argon2id.deriveKey(from: passphrase, salt: salt, parameters: .init(operations: 2, memoryBytes: (1 << 30) + 1))
        }
        #expect(throws: CryptoError.invalidLength(operation: "Argon2id", field: "salt", expected: 16, actual: 15)) {
            try Argon2id.deriveKey(from: passphrase, salt: salt.dropLast(), parameters: parameters)
        }
        #expect(throws: CryptoError.outOfRange(operation: "Argon2id", field: "output size", minimum: 16, maximum: 1024, actual: 8)) {
            try Argon2id.deriveKey(from: passphrase, salt: salt, parameters: parameters, outputByteCount: 8)
        }
    }

    // MARK: - Encodings

    @Test func encodingRoundTripsAndRejects() throws {
        let bytes: [UInt8] = Array(0...255)
        #expect(try Encoding.bytes(fromHex: Encoding.hex(bytes)) == bytes)
        for length in 0..<8 {
            let slice = Array(bytes.prefix(length))
            #expect(try Encoding.bytes(fromBase64URL: Encoding.base64URL(slice)) == slice)
        }
        #expect(Encoding.base64URL([0xfb, 0xff]) == "-_8")
        #expect(throws: CryptoError.invalidEncoding(format: "hex", reason: "odd number of digits (3)")) {
            try Encoding.bytes(fromHex: "abc")
        }
        #expect(throws: CryptoError.invalidEncoding(format: "hex", reason: "not a hex digit at position 2")) {
            try Encoding.bytes(fromHex: "00zz")
        }
        #expect(throws: CryptoError.invalidEncoding(format: "base64url", reason: "invalid character at position 2")) {
            try Encoding.bytes(fromBase64URL: "ab+/")
        }
        #expect(throws: CryptoError.invalidEncoding(format: "base64url", reason: "non-canonical final character")) {
            try Encoding.bytes(fromBase64URL: "-_9")
        }
    }
}
