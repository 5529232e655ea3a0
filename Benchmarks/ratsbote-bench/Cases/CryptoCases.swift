// The crypto hot-path cases: each Swift call through RatsboteCrypto beside the same libsodium
// call in C. Where the Swift API returns a fresh array, the C side mallocs its output. Where the
// Swift API keeps a secret in guarded or wiped memory, the C side allocates the same kind.

import CSodiumBench
import RatsboteCrypto

extension CaseRegistry {
    /// Registers every RatsboteCrypto case.
    mutating func addCryptoCases() {
        addSealedBoxCases()
        addSignatureCases()
        addX25519Cases()
        for size in [1024, 64 * 1024] { addAEADCases(messageByteCount: size) }
        addSecretStreamCases()
        addHashCases()
    }

    private mutating func addSealedBoxCases() {
        let size = 1024
        add("sealedbox.seal.1KiB", unit: .operationsPerSecond) {
            let fixture = try CFixture(caseName: "sealedbox.seal.1KiB", messageByteCount: size)
            let recipient = X25519PrivateKey.generate().publicKey
            let message = Random.bytes(count: size)
            return PairedWorkloads(
                swift: .timed { n in for _ in 0..<n { consume(SealedBox.seal(message, to: recipient)) } },
                c: fixture.timed(csb_box_seal))
        }
        add("sealedbox.open.1KiB", unit: .operationsPerSecond) {
            let fixture = try CFixture(caseName: "sealedbox.open.1KiB", messageByteCount: size)
            let recipient = X25519PrivateKey.generate()
            let sealed = SealedBox.seal(Random.bytes(count: size), to: recipient.publicKey)
            return PairedWorkloads(
                swift: .timed { n in for _ in 0..<n { consume(try SealedBox.open(sealed, with: recipient)) } },
                c: fixture.timed(csb_box_seal_open))
        }
    }

    private mutating func addSignatureCases() {
        let size = 256
        add("ed25519.sign.256B", unit: .operationsPerSecond) {
            let fixture = try CFixture(caseName: "ed25519.sign.256B", messageByteCount: size)
            let key = Ed25519SigningKey.generate()
            let message = Random.bytes(count: size)
            return PairedWorkloads(
                swift: .timed { n in for _ in 0..<n { consume(key.signature(for: message)) } },
                c: fixture.timed(csb_sign_detached))
        }
        add("ed25519.verify.256B", unit: .operationsPerSecond) {
            let fixture = try CFixture(caseName: "ed25519.verify.256B", messageByteCount: size)
            let key = Ed25519SigningKey.generate()
            let message = Random.bytes(count: size)
            let signature = key.signature(for: message)
            let publicKey = key.publicKey
            return PairedWorkloads(
                swift: .timed { n in
                    for _ in 0..<n {
                        guard publicKey.isValidSignature(signature, for: message) else {
                            throw BenchmarkFailure(caseName: "ed25519.verify.256B", reason: "valid signature rejected")
                        }
                    }
                },
                c: fixture.timed(csb_sign_verify_detached))
        }
    }

    private mutating func addX25519Cases() {
        add("x25519.generate", unit: .operationsPerSecond) {
            let fixture = try CFixture(caseName: "x25519.generate", messageByteCount: 0)
            return PairedWorkloads(
                swift: .timed { n in for _ in 0..<n { consume(X25519PrivateKey.generate()) } },
                c: fixture.timed(csb_x25519_keygen))
        }
        add("x25519.agree", unit: .operationsPerSecond) {
            let fixture = try CFixture(caseName: "x25519.agree", messageByteCount: 0)
            let own = X25519PrivateKey.generate()
            let peer = X25519PrivateKey.generate().publicKey
            return PairedWorkloads(
                swift: .timed { n in for _ in 0..<n { consume(try own.sharedSecret(with: peer)) } },
                c: fixture.timed(csb_x25519_agree))
        }
    }

    /// Encrypt and decrypt through the array-returning API and through the caller-buffer API.
    private mutating func addAEADCases(messageByteCount size: Int) {
        let label = size % 1024 == 0 ? "\(size / 1024)KiB" : "\(size)B"
        // Per-call overhead weighs most on small messages, so the 1 KiB cases get the looser target of 1.10.
        let target = size <= 1024 ? 1.10 : CaseRegistry.defaultTarget
        let unit = FigureUnit.megabytesPerSecond(bytesPerOperation: size)
        let tag = XChaCha20Poly1305.tagByteCount

        add("xchacha20poly1305.encrypt.\(label)", unit: unit, target: target) {
            let inputs = try AEADInputs(caseName: "xchacha20poly1305.encrypt.\(label)", size: size)
            return PairedWorkloads(
                swift: .timed { n in
                    for _ in 0..<n { consume(try XChaCha20Poly1305.seal(inputs.message, using: inputs.key, nonce: inputs.nonce)) }
                },
                c: inputs.fixture.timed(csb_xchacha_encrypt_alloc))
        }
        add("xchacha20poly1305.decrypt.\(label)", unit: unit, target: target) {
            let inputs = try AEADInputs(caseName: "xchacha20poly1305.decrypt.\(label)", size: size)
            return PairedWorkloads(
                swift: .timed { n in
                    for _ in 0..<n { consume(try XChaCha20Poly1305.open(inputs.ciphertext, using: inputs.key, nonce: inputs.nonce)) }
                },
                c: inputs.fixture.timed(csb_xchacha_decrypt_alloc))
        }
        add("xchacha20poly1305.encrypt-into.\(label)", unit: unit, target: target) {
            let inputs = try AEADInputs(caseName: "xchacha20poly1305.encrypt-into.\(label)", size: size)
            let output = UnsafeMutableRawBufferPointer.allocate(byteCount: size + tag, alignment: 16)
            return PairedWorkloads(
                swift: .timed { n in
                    try inputs.message.withUnsafeBytes { message in
                        try inputs.nonce.withUnsafeBytes { nonce in
                            for _ in 0..<n {
                                _ = try XChaCha20Poly1305.seal(
                                    message, using: inputs.key, nonce: nonce, authenticating: UnsafeRawBufferPointer(start: nil, count: 0),
                                    into: output)
                            }
                        }
                    }
                    withExtendedLifetime(inputs) {}
                },
                c: inputs.fixture.timed(csb_xchacha_encrypt_into))
        }
        add("xchacha20poly1305.decrypt-into.\(label)", unit: unit, target: target) {
            let inputs = try AEADInputs(caseName: "xchacha20poly1305.decrypt-into.\(label)", size: size)
            let output = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
            return PairedWorkloads(
                swift: .timed { n in
                    try inputs.ciphertext.withUnsafeBytes { ciphertext in
                        try inputs.nonce.withUnsafeBytes { nonce in
                            for _ in 0..<n {
                                _ = try XChaCha20Poly1305.open(
                                    ciphertext, using: inputs.key, nonce: nonce, authenticating: UnsafeRawBufferPointer(start: nil, count: 0),
                                    into: output)
                            }
                        }
                    }
                },
                c: inputs.fixture.timed(csb_xchacha_decrypt_into))
        }
    }

    private mutating func addSecretStreamCases() {
        // 256 MiB as 4096 chunks of 64 KiB through the caller-buffer API; both sides reuse one
        // chunk buffer, so memory stays flat.
        let chunkByteCount = SecretStream.chunkByteCount
        let chunkCount = 4096
        let unit = FigureUnit.megabytesPerSecond(bytesPerOperation: chunkByteCount * chunkCount)

        add("secretstream.push.256MiB", unit: unit, measuresMemory: true) {
            let fixture = try CFixture(caseName: "secretstream.push.256MiB", messageByteCount: chunkByteCount)
            let buffers = StreamBuffers(chunkByteCount: chunkByteCount)
            return PairedWorkloads(
                swift: .timed { n in
                    for _ in 0..<n {
                        let encryptor = SecretStream.Encryptor(key: buffers.key)
                        for index in 0..<chunkCount {
                            _ = try encryptor.push(
                                UnsafeRawBufferPointer(buffers.plaintext), isFinal: index == chunkCount - 1,
                                into: buffers.ciphertext)
                        }
                    }
                },
                c: fixture.timed { csb_secretstream_push($0, $1, UInt64(chunkCount)) })
        }
        add("secretstream.pull.256MiB", unit: unit, measuresMemory: true) {
            let fixture = try CFixture(caseName: "secretstream.pull.256MiB", messageByteCount: chunkByteCount)
            let buffers = StreamBuffers(chunkByteCount: chunkByteCount)
            return PairedWorkloads(
                swift: .selfTimed { n in try buffers.pullStreams(n, chunkCount: chunkCount) },
                c: fixture.selfTimed { csb_secretstream_pull($0, $1, UInt64(chunkCount)) })
        }
    }

    private mutating func addHashCases() {
        let blakeSize = 64 * 1024
        add("blake2b.64KiB", unit: .megabytesPerSecond(bytesPerOperation: blakeSize)) {
            let fixture = try CFixture(caseName: "blake2b.64KiB", messageByteCount: blakeSize)
            let message = Random.bytes(count: blakeSize)
            return PairedWorkloads(
                swift: .timed { n in for _ in 0..<n { consume(try BLAKE2b.hash(message)) } },
                c: fixture.timed(csb_blake2b))
        }
        add("hkdf-sha256.32B", unit: .operationsPerSecond) {
            let fixture = try CFixture(caseName: "hkdf-sha256.32B", messageByteCount: 0)
            let inputKey = SecureBytes.random(count: 32, storage: .wiped)
            let salt = Random.bytes(count: 32)
            let info = Array(CSB_HKDF_INFO.utf8)
            return PairedWorkloads(
                swift: .timed { n in
                    for _ in 0..<n {
                        consume(try HKDFSHA256.deriveKey(inputKeyMaterial: inputKey, salt: salt, info: info, outputByteCount: 32))
                    }
                },
                c: fixture.timed(csb_hkdf_sha256))
        }
        add("argon2id.interactive", unit: .operationsPerSecond, measuresMemory: true) {
            let fixture = try CFixture(caseName: "argon2id.interactive", messageByteCount: 0)
            let passphrase = SecureBytes(copying: Array("correct horse battery".utf8))
            let salt = Random.bytes(count: Argon2id.saltByteCount)
            return PairedWorkloads(
                swift: .timed { n in
                    for _ in 0..<n { consume(try Argon2id.deriveKey(from: passphrase, salt: salt, parameters: .interactive)) }
                },
                c: fixture.timed(csb_argon2id_interactive))
        }
    }
}

/// A key, nonce, message and matching ciphertext for the AEAD cases, plus the C fixture.
private final class AEADInputs {
    let fixture: CFixture
    let key = SymmetricKey.generate()
    let nonce = Random.bytes(count: XChaCha20Poly1305.nonceByteCount)
    let message: [UInt8]
    let ciphertext: [UInt8]

    init(caseName: String, size: Int) throws {
        fixture = try CFixture(caseName: caseName, messageByteCount: size)
        message = Random.bytes(count: size)
        ciphertext = try XChaCha20Poly1305.seal(message, using: key, nonce: nonce)
    }
}

/// A key and one reused plaintext, ciphertext and output chunk for the secretstream cases.
private final class StreamBuffers {
    let key = SymmetricKey.generate()
    let plaintext: UnsafeMutableRawBufferPointer
    let ciphertext: UnsafeMutableRawBufferPointer
    let output: UnsafeMutableRawBufferPointer

    init(chunkByteCount: Int) {
        plaintext = .allocate(byteCount: chunkByteCount, alignment: 16)
        ciphertext = .allocate(byteCount: chunkByteCount + SecretStream.overheadByteCount, alignment: 16)
        output = .allocate(byteCount: chunkByteCount, alignment: 16)
        Random.fill(plaintext)
    }

    deinit {
        plaintext.deallocate()
        ciphertext.deallocate()
        output.deallocate()
    }

    /// Decrypts `streams` whole streams, pushing each chunk untimed just before it is pulled, and
    /// returns the nanoseconds spent in the decryptor alone.
    func pullStreams(_ streams: Int, chunkCount: Int) throws -> UInt64 {
        var elapsed: UInt64 = 0
        for _ in 0..<streams {
            let encryptor = SecretStream.Encryptor(key: key)
            var start = clockNanoseconds()
            let decryptor = try SecretStream.Decryptor(key: key, header: encryptor.header)
            elapsed += clockNanoseconds() - start
            for index in 0..<chunkCount {
                let isFinal = index == chunkCount - 1
                let written = try encryptor.push(UnsafeRawBufferPointer(plaintext), isFinal: isFinal, into: ciphertext)
                start = clockNanoseconds()
                let result = try decryptor.pull(UnsafeRawBufferPointer(rebasing: ciphertext[0..<written]), into: output)
                elapsed += clockNanoseconds() - start
                guard result.isFinal == isFinal else {
                    throw BenchmarkFailure(caseName: "secretstream.pull.256MiB", reason: "final tag in the wrong chunk")
                }
            }
            try decryptor.finish()
        }
        return elapsed
    }
}
