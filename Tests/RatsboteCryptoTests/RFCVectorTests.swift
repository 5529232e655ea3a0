import Foundation
import Testing
@testable import RatsboteCrypto

/// The known-answer vectors from RFC 5869, 7693, 7748, 8032, 8439, 9106 and the XChaCha draft.
@Suite("RFC vectors")
struct RFCVectorTests {
    // MARK: - RFC 5869 HKDF-SHA-256

    struct HKDFFile: Decodable {
        struct Case: Decodable {
            let name: String
            let ikm: Hex
            let salt: Hex
            let info: Hex
            let length: Int
            let prk: Hex
            let okm: Hex
        }
        let tests: [Case]
    }

    @Test func hkdfRFC5869() throws {
        let file = try Vectors.load("rfc/rfc5869-hkdf-sha256.json", as: HKDFFile.self)
        var tally = VectorTally(file: "rfc5869-hkdf-sha256")
        for test in file.tests {
            let check = CaseCheck()
            let ikm = SecureBytes(copying: test.ikm.bytes, storage: .wiped)
            let prk = HKDFSHA256.extract(salt: test.salt.bytes, inputKeyMaterial: ikm)
            check.expect(prk.testCopy == test.prk.bytes, "PRK \(Encoding.hex(prk.testCopy)) != \(test.prk)")
            check.run("expand") {
                let okm = try HKDFSHA256.expand(pseudoRandomKey: prk, info: test.info.bytes, outputByteCount: test.length)
                check.expect(okm.testCopy == test.okm.bytes, "OKM \(Encoding.hex(okm.testCopy)) != \(test.okm)")

                var buffer = [UInt8](repeating: 0, count: test.length)
                try test.info.bytes.withUnsafeBytes { info in
                    try buffer.withUnsafeMutableBytes { try HKDFSHA256.expand(pseudoRandomKey: prk, info: info, into: $0) }
                }
                check.expect(buffer == test.okm.bytes, "caller-buffer OKM differs")
            }
            tally.record(test.name, problems: check.problems)
        }
        tally.finish()
    }

    // MARK: - RFC 7748 X25519

    struct X25519File: Decodable {
        struct ScalarMult: Decodable {
            let name: String
            let scalar: Hex
            let u: Hex
            let output: Hex
        }
        struct Iterated: Decodable {
            let iterations: Int
            let initialK: Hex
            let initialU: Hex
            let result: Hex
            let slow: Bool?
        }
        struct ECDH: Decodable {
            let name: String
            let alicePrivate: Hex
            let alicePublic: Hex
            let bobPrivate: Hex
            let bobPublic: Hex
            let sharedSecret: Hex
        }
        let scalarmult: [ScalarMult]
        let iterated: [Iterated]
        let ecdh: [ECDH]
    }

    @Test func x25519RFC7748() throws {
        let file = try Vectors.load("rfc/rfc7748-x25519.json", as: X25519File.self)
        var tally = VectorTally(file: "rfc7748-x25519")

        for test in file.scalarmult {
            let check = CaseCheck()
            check.run("scalar multiplication") {
                let key = try X25519PrivateKey(secret: SecureBytes(copying: test.scalar.bytes, storage: .wiped))
                let shared = try key.sharedSecret(with: X25519PublicKey(rawRepresentation: test.u.bytes))
                check.expect(shared.testCopy == test.output.bytes, "output \(Encoding.hex(shared.testCopy)) != \(test.output)")
            }
            tally.record(test.name, problems: check.problems)
        }

        for test in file.iterated {
            let name = "iterated \(test.iterations)"
            if test.slow == true && !Vectors.slowTestsEnabled {
                tally.skip(name, reason: "slow: set RATSBOTE_SLOW_TESTS=1")
                continue
            }
            // Each step is (k, u) = (X25519(k, u), k).
            var k = test.initialK.bytes
            var u = test.initialU.bytes
            var next = [UInt8](repeating: 0, count: 32)
            var allSucceeded = true
            for _ in 0..<test.iterations {
                let succeeded = k.withUnsafeBytes { scalar in
                    u.withUnsafeBytes { point in
                        next.withUnsafeMutableBytes { X25519Core.scalarMult(scalar: scalar, point: point, into: $0) }
                    }
                }
                allSucceeded = allSucceeded && succeeded
                u = k
                k = next
            }
            let check = CaseCheck()
            check.expect(allSucceeded, "a step returned the all-zero value")
            check.expect(k == test.result.bytes, "result \(Encoding.hex(k)) != \(test.result)")
            tally.record(name, problems: check.problems)
        }

        for test in file.ecdh {
            let check = CaseCheck()
            check.run("key agreement") {
                let alice = try X25519PrivateKey(secret: SecureBytes(copying: test.alicePrivate.bytes))
                let bob = try X25519PrivateKey(secret: SecureBytes(copying: test.bobPrivate.bytes))
                check.expect(alice.publicKey.rawRepresentation == test.alicePublic.bytes, "Alice's public key differs")
                check.expect(bob.publicKey.rawRepresentation == test.bobPublic.bytes, "Bob's public key differs")
                let fromAlice = try alice.sharedSecret(with: bob.publicKey)
                let fromBob = try bob.sharedSecret(with: alice.publicKey)
                check.expect(fromAlice.testCopy == test.sharedSecret.bytes, "Alice's shared secret differs")
                check.expect(fromBob == fromAlice, "the two sides disagree")
            }
            tally.record(test.name, problems: check.problems)
        }
        tally.finish()
    }

    // MARK: - RFC 8032 Ed25519

    struct Ed25519File: Decodable {
        struct Case: Decodable {
            let name: String
            let seed: Hex
            let publicKey: Hex
            let message: Hex
            let signature: Hex
        }
        let tests: [Case]
    }

    @Test func ed25519RFC8032() throws {
        let file = try Vectors.load("rfc/rfc8032-ed25519.json", as: Ed25519File.self)
        var tally = VectorTally(file: "rfc8032-ed25519")
        for test in file.tests {
            let check = CaseCheck()
            check.run("sign and verify") {
                let key = try Ed25519SigningKey(seed: SecureBytes(copying: test.seed.bytes))
                check.expect(key.publicKey.rawRepresentation == test.publicKey.bytes, "public key differs")
                check.expect(key.seed.testCopy == test.seed.bytes, "seed does not round-trip")
                let signature = key.signature(for: test.message.bytes)
                check.expect(signature == test.signature.bytes, "signature \(Encoding.hex(signature)) != \(test.signature)")
                let publicKey = try Ed25519PublicKey(rawRepresentation: test.publicKey.bytes)
                check.expect(publicKey.isValidSignature(test.signature.bytes, for: test.message.bytes), "signature rejected")
                var flipped = test.signature.bytes
                flipped[0] ^= 0x01
                check.expect(!publicKey.isValidSignature(flipped, for: test.message.bytes), "flipped signature accepted")
            }
            tally.record(test.name, problems: check.problems)
        }
        tally.finish()
    }

    // MARK: - RFC 8439 ChaCha20-Poly1305

    struct ChaChaFile: Decodable {
        struct Case: Decodable {
            let name: String
            let key: Hex
            let nonce: Hex
            let aad: Hex
            let plaintext: Hex
            let poly1305Key: Hex
            let ciphertext: Hex
            let tag: Hex
        }
        let tests: [Case]
    }

    @Test func chaCha20Poly1305RFC8439() throws {
        let file = try Vectors.load("rfc/rfc8439-chacha20-poly1305.json", as: ChaChaFile.self)
        var tally = VectorTally(file: "rfc8439-chacha20-poly1305")
        for test in file.tests {
            let check = CaseCheck()
            check.run("seal and open") {
                let key = try SymmetricKey(copying: test.key.bytes)
                let sealed = try ChaCha20Poly1305.seal(test.plaintext.bytes, using: key, nonce: test.nonce.bytes, authenticating: test.aad.bytes)
                check.expect(sealed == test.ciphertext.bytes + test.tag.bytes, "ciphertext and tag differ")
                let opened = try ChaCha20Poly1305.open(sealed, using: key, nonce: test.nonce.bytes, authenticating: test.aad.bytes)
                check.expect(opened == test.plaintext.bytes, "plaintext differs")
            }
            let polyKey = StreamCipher.chacha20IETFPoly1305Key(key: test.key.bytes, nonce: test.nonce.bytes)
            check.expect(polyKey == test.poly1305Key.bytes, "one-time Poly1305 key differs")
            tally.record(test.name, problems: check.problems)
        }
        tally.finish()
    }

    // MARK: - draft-irtf-cfrg-xchacha-03

    struct XChaChaFile: Decodable {
        struct AEADCase: Decodable {
            let name: String
            let plaintext: Hex
            let aad: Hex
            let key: Hex
            let nonce: Hex
            let poly1305Key: Hex
            let ciphertext: Hex
            let tag: Hex
        }
        struct StreamCase: Decodable {
            let name: String
            let counter: UInt64
            let plaintext: Hex
            let key: Hex
            let nonce: Hex
            let keystream: Hex
            let ciphertext: Hex
        }
        let aead: [AEADCase]
        let xchacha20: [StreamCase]
    }

    @Test func xChaCha20Poly1305Draft() throws {
        let file = try Vectors.load("rfc/draft-irtf-cfrg-xchacha-03-xchacha20-poly1305.json", as: XChaChaFile.self)
        var tally = VectorTally(file: "draft-irtf-cfrg-xchacha-03-xchacha20-poly1305")
        for test in file.aead {
            let check = CaseCheck()
            check.run("seal and open") {
                let key = try SymmetricKey(copying: test.key.bytes)
                let sealed = try XChaCha20Poly1305.seal(test.plaintext.bytes, using: key, nonce: test.nonce.bytes, authenticating: test.aad.bytes)
                check.expect(sealed == test.ciphertext.bytes + test.tag.bytes, "ciphertext and tag differ")
                let opened = try XChaCha20Poly1305.open(sealed, using: key, nonce: test.nonce.bytes, authenticating: test.aad.bytes)
                check.expect(opened == test.plaintext.bytes, "plaintext differs")
                var tampered = sealed
                tampered[tampered.count - 1] ^= 0x80
                do {
                    _ = try XChaCha20Poly1305.open(tampered, using: key, nonce: test.nonce.bytes, authenticating: test.aad.bytes)
                    check.expect(false, "a tampered tag opened")
                } catch CryptoError.authenticationFailure {}
            }
            let polyKey = StreamCipher.xchacha20Poly1305Key(key: test.key.bytes, nonce: test.nonce.bytes)
            check.expect(polyKey == test.poly1305Key.bytes, "one-time Poly1305 key differs")
            tally.record(test.name, problems: check.problems)
        }
        for test in file.xchacha20 {
            let check = CaseCheck()
            let zeros = [UInt8](repeating: 0, count: test.keystream.bytes.count)
            let keystream = StreamCipher.xchacha20XOR(zeros, key: test.key.bytes, nonce: test.nonce.bytes, counter: test.counter)
            check.expect(keystream == test.keystream.bytes, "keystream differs")
            let ciphertext = StreamCipher.xchacha20XOR(test.plaintext.bytes, key: test.key.bytes, nonce: test.nonce.bytes, counter: test.counter)
            check.expect(ciphertext == test.ciphertext.bytes, "ciphertext differs")
            tally.record(test.name, problems: check.problems)
        }
        tally.finish()
    }

    // MARK: - RFC 7693 BLAKE2b

    struct BLAKE2bFile: Decodable {
        struct Case: Decodable {
            let name: String
            let input: Hex
            let key: Hex
            let outputLength: Int
            let digest: Hex
        }
        let tests: [Case]
    }

    @Test func blake2bRFC7693() throws {
        let file = try Vectors.load("rfc/rfc7693-blake2b.json", as: BLAKE2bFile.self)
        var tally = VectorTally(file: "rfc7693-blake2b")
        for test in file.tests {
            let check = CaseCheck()
            let key = test.key.bytes.isEmpty ? nil : SecureBytes(copying: test.key.bytes)
            check.run("hash") {
                let digest = try BLAKE2b.hash(test.input.bytes, outputByteCount: test.outputLength, key: key)
                check.expect(digest == test.digest.bytes, "digest \(Encoding.hex(digest)) != \(test.digest)")

                let hasher = try BLAKE2b.Hasher(outputByteCount: test.outputLength, key: key)
                for byte in test.input.bytes { hasher.update([byte]) }
                check.expect(hasher.finalize() == test.digest.bytes, "streaming digest differs")
            }
            tally.record(test.name, problems: check.problems)
        }
        tally.finish()
    }

    // MARK: - RFC 9106 Argon2id

    struct Argon2File: Decodable {
        struct Case: Decodable {
            let name: String
            let parallelism: Int
        }
        let libsodiumCryptoPwhashCompatible: Bool
        let tests: [Case]
    }

    @Test func argon2idRFC9106() throws {
        let file = try Vectors.load("rfc/rfc9106-argon2id.json", as: Argon2File.self)
        var tally = VectorTally(file: "rfc9106-argon2id")
        #expect(!file.libsodiumCryptoPwhashCompatible)
        for test in file.tests {
            // crypto_pwhash takes no secret and no associated data and always uses one lane.
            tally.skip(test.name, reason: "libsodium cannot reproduce it: secret key, associated data and \(test.parallelism) lanes")
        }
        tally.finish()
    }
}
