import Foundation
import Testing
import RatsboteCrypto

/// Every case of the Project Wycheproof files, run one by one against the Swift API.
@Suite("Wycheproof vectors")
struct WycheproofTests {
    struct File<Group: Decodable>: Decodable {
        let algorithm: String
        let numberOfTests: Int
        let testGroups: [Group]
    }

    // MARK: - X25519

    struct X25519Group: Decodable {
        let curve: String
        let tests: [X25519Case]
    }

    struct X25519Case: Decodable {
        let tcId: Int
        let comment: String
        let flags: [String]
        let `public`: Hex
        let `private`: Hex
        let shared: Hex
        let result: String
    }

    @Test func x25519() throws {
        let file = try Vectors.load("wycheproof/x25519_test.json", as: File<X25519Group>.self)
        var tally = VectorTally(file: "x25519_test")
        var rejectedAllZero = 0

        for group in file.testGroups {
            for test in group.tests {
                let check = CaseCheck()
                let sharedIsZero = test.shared.bytes.allSatisfy { $0 == 0 }
                check.run("agreement") {
                    let peer = try X25519PublicKey(rawRepresentation: test.public.bytes)
                    let key = try X25519PrivateKey(secret: SecureBytes(copying: test.private.bytes, storage: .wiped))
                    do {
                        let shared = try key.sharedSecret(with: peer, storage: .wiped)
                        check.expect(!sharedIsZero, "an all-zero shared secret was accepted")
                        check.expect(shared.testCopy == test.shared.bytes, "shared secret \(Encoding.hex(shared.testCopy)) != \(test.shared)")
                        check.expect(test.result != "invalid", "an invalid case was accepted")
                    } catch CryptoError.weakPublicKey {
                        // An all-zero result is an expected error, never a skip.
                        rejectedAllZero += 1
                        check.expect(sharedIsZero, "weakPublicKey for a non-zero shared secret")
                        check.expect(test.result != "valid", "a valid case was rejected")
                    }
                }
                tally.record("tcId \(test.tcId) (\(test.comment))", problems: check.problems)
            }
        }
        tally.finish(expectedTotal: file.numberOfTests)
        #expect(rejectedAllZero == 31, "libsodium 1.0.18 rejects exactly the 31 all-zero cases")
    }

    // MARK: - Ed25519

    struct Ed25519Group: Decodable {
        struct PublicKey: Decodable { let pk: Hex }
        let publicKey: PublicKey
        let tests: [Ed25519Case]
    }

    struct Ed25519Case: Decodable {
        let tcId: Int
        let comment: String
        let msg: Hex
        let sig: Hex
        let result: String
    }

    @Test func ed25519() throws {
        let file = try Vectors.load("wycheproof/ed25519_test.json", as: File<Ed25519Group>.self)
        var tally = VectorTally(file: "ed25519_test")

        for group in file.testGroups {
            for test in group.tests {
                let check = CaseCheck()
                check.run("verify") {
                    let key = try Ed25519PublicKey(rawRepresentation: group.publicKey.pk.bytes)
                    let valid = key.isValidSignature(test.sig.bytes, for: test.msg.bytes)
                    check.expect(valid == (test.result == "valid"), "isValidSignature returned \(valid) for a \(test.result) case")
                    if test.result == "invalid" {
                        #expect(throws: CryptoError.authenticationFailure) { try key.verify(test.sig.bytes, for: test.msg.bytes) }
                    }
                }
                tally.record("tcId \(test.tcId) (\(test.comment))", problems: check.problems)
            }
        }
        tally.finish(expectedTotal: file.numberOfTests)
    }

    // MARK: - AEADs

    struct AEADGroup: Decodable {
        let ivSize: Int
        let keySize: Int
        let tagSize: Int
        let tests: [AEADCase]
    }

    struct AEADCase: Decodable {
        let tcId: Int
        let comment: String
        let key: Hex
        let iv: Hex
        let aad: Hex
        let msg: Hex
        let ct: Hex
        let tag: Hex
        let result: String
    }

    typealias Seal = ([UInt8], SymmetricKey, [UInt8], [UInt8]) throws -> [UInt8]

    /// Runs one AEAD file; groups whose nonce size libsodium does not offer are skipped, and the
    /// API must still reject their nonces with `invalidLength`.
    func runAEAD(
        file path: String, name: String, nonceBits: Int, seal: Seal, open: Seal
    ) throws {
        let file = try Vectors.load(path, as: File<AEADGroup>.self)
        var tally = VectorTally(file: name)

        for group in file.testGroups {
            for test in group.tests {
                let caseName = "tcId \(test.tcId) (\(test.comment))"
                let key = try SymmetricKey(copying: test.key.bytes, storage: .wiped)
                guard group.ivSize == nonceBits else {
                    #expect(test.result == "invalid", "\(caseName): a \(group.ivSize)-bit nonce case is not invalid")
                    do {
                        _ = try seal(test.msg.bytes, key, test.iv.bytes, test.aad.bytes)
                        Issue.record("\(caseName): a \(group.ivSize)-bit nonce was accepted")
                    } catch let error as CryptoError {
                        guard case .invalidLength(_, "nonce", nonceBits / 8, test.iv.bytes.count) = error else {
                            Issue.record("\(caseName): unexpected error \(error)")
                            continue
                        }
                    }
                    tally.skip(caseName, reason: "nonce size other than \(nonceBits) bits, which libsodium does not offer")
                    continue
                }

                let check = CaseCheck()
                let combined = test.ct.bytes + test.tag.bytes
                switch test.result {
                case "valid":
                    check.run("seal") {
                        let sealed = try seal(test.msg.bytes, key, test.iv.bytes, test.aad.bytes)
                        check.expect(sealed == combined, "seal gave \(Encoding.hex(sealed))")
                    }
                    check.run("open") {
                        let opened = try open(combined, key, test.iv.bytes, test.aad.bytes)
                        check.expect(opened == test.msg.bytes, "open gave \(Encoding.hex(opened))")
                    }
                default:
                    do {
                        let opened = try open(combined, key, test.iv.bytes, test.aad.bytes)
                        check.expect(false, "an invalid ciphertext opened to \(Encoding.hex(opened))")
                    } catch CryptoError.authenticationFailure {
                    } catch {
                        check.expect(false, "expected authenticationFailure, got \(error)")
                    }
                }
                tally.record(caseName, problems: check.problems)
            }
        }
        tally.finish(expectedTotal: file.numberOfTests)
    }

    @Test func chaCha20Poly1305() throws {
        try runAEAD(
            file: "wycheproof/chacha20_poly1305_test.json", name: "chacha20_poly1305_test", nonceBits: 96,
            seal: { try ChaCha20Poly1305.seal($0, using: $1, nonce: $2, authenticating: $3) },
            open: { try ChaCha20Poly1305.open($0, using: $1, nonce: $2, authenticating: $3) })
    }

    @Test func xChaCha20Poly1305() throws {
        try runAEAD(
            file: "wycheproof/xchacha20_poly1305_test.json", name: "xchacha20_poly1305_test", nonceBits: 192,
            seal: { try XChaCha20Poly1305.seal($0, using: $1, nonce: $2, authenticating: $3) },
            open: { try XChaCha20Poly1305.open($0, using: $1, nonce: $2, authenticating: $3) })
    }

    // MARK: - HKDF

    struct HKDFGroup: Decodable {
        let keySize: Int
        let tests: [HKDFCase]
    }

    struct HKDFCase: Decodable {
        let tcId: Int
        let comment: String
        let ikm: Hex
        let salt: Hex
        let info: Hex
        let size: Int
        let okm: Hex
        let result: String
    }

    @Test func hkdfSHA256() throws {
        let file = try Vectors.load("wycheproof/hkdf_sha256_test.json", as: File<HKDFGroup>.self)
        var tally = VectorTally(file: "hkdf_sha256_test")

        for group in file.testGroups {
            for test in group.tests {
                let check = CaseCheck()
                let ikm = SecureBytes(copying: test.ikm.bytes, storage: .wiped)
                do {
                    let okm = try HKDFSHA256.deriveKey(
                        inputKeyMaterial: ikm, salt: test.salt.bytes, info: test.info.bytes, outputByteCount: test.size)
                    check.expect(test.result == "valid", "an invalid case of size \(test.size) was accepted")
                    check.expect(okm.testCopy == test.okm.bytes, "okm \(Encoding.hex(okm.testCopy)) != \(test.okm)")
                } catch let error as CryptoError {
                    let expected = CryptoError.outOfRange(
                        operation: "HKDF-SHA-256", field: "output size", minimum: 0,
                        maximum: HKDFSHA256.maximumOutputByteCount, actual: test.size)
                    check.expect(test.result == "invalid", "a valid case threw \(error)")
                    check.expect(test.size > HKDFSHA256.maximumOutputByteCount, "size \(test.size) was rejected")
                    check.expect(error == expected, "expected \(expected), got \(error)")
                }
                tally.record("tcId \(test.tcId) (\(test.comment))", problems: check.problems)
            }
        }
        tally.finish(expectedTotal: file.numberOfTests)
    }

    // MARK: - HMAC

    struct HMACGroup: Decodable {
        let keySize: Int
        let tagSize: Int
        let tests: [HMACCase]
    }

    struct HMACCase: Decodable {
        let tcId: Int
        let comment: String
        let key: Hex
        let msg: Hex
        let tag: Hex
        let result: String
    }

    @Test func hmacSHA256() throws {
        let file = try Vectors.load("wycheproof/hmac_sha256_test.json", as: File<HMACGroup>.self)
        var tally = VectorTally(file: "hmac_sha256_test")

        for group in file.testGroups {
            for test in group.tests {
                let check = CaseCheck()
                let full = HMACSHA256.authenticationCode(for: test.msg.bytes, key: test.key.bytes)
                // Groups with 128-bit tags compare the first 16 bytes of the full tag.
                let truncated = Array(full.prefix(group.tagSize / 8))
                let matches = constantTimeEqual(truncated, test.tag.bytes)
                check.expect(matches == (test.result == "valid"), "tag match \(matches) for a \(test.result) case")
                if group.tagSize == 256 {
                    let valid = HMACSHA256.isValidAuthenticationCode(test.tag.bytes, for: test.msg.bytes, key: test.key.bytes)
                    check.expect(valid == matches, "isValidAuthenticationCode disagrees")
                }
                tally.record("tcId \(test.tcId) (\(test.comment))", problems: check.problems)
            }
        }
        tally.finish(expectedTotal: file.numberOfTests)
    }
}
