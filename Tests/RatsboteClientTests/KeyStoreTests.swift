import Foundation
import RatsboteCrypto
import RatsboteTestSupport
import Testing

@testable import RatsboteClient

struct KeyStoreTests {
    let parameters = Scenario.keyStoreParameters

    func writeStore() throws -> (String, KeyStore.Contents) {
        let folder = makeTemporaryFolder("ratsbote-keystore")
        let path = folder.appendingPathComponent("keystore.rbks").path
        let contents = KeyStore.Contents.generate()
        try KeyStore.write(contents, to: path, passphrase: SecureBytes(copying: Array("right passphrase".utf8)), parameters: parameters)
        return (path, contents)
    }

    @Test func opensWithTheRightPassphrase() throws {
        let (path, contents) = try writeStore()
        let opened = try KeyStore.read(from: path, passphrase: SecureBytes(copying: Array("right passphrase".utf8)))
        #expect(opened.identitySeed == contents.identitySeed)
        #expect(opened.databaseKey == contents.databaseKey)
    }

    @Test func wrongPassphraseIsReportedAsSuch() throws {
        let (path, _) = try writeStore()
        expectClientError(.wrongPassphrase) { try KeyStore.read(from: path, passphrase: SecureBytes(copying: Array("wrong passphrase".utf8))) }
    }

    @Test func truncatedStoreIsDamagedNotWrongPassphrase() throws {
        let (path, _) = try writeStore()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for length in [0, 10, KeyStore.headerByteCount, bytes.count - 1] {
            try bytes.prefix(length).write(to: URL(fileURLWithPath: path))
            do {
                _ = try KeyStore.read(from: path, passphrase: SecureBytes(copying: Array("right passphrase".utf8)))
                Issue.record("a key store truncated to \(length) bytes opened")
            } catch ClientError.keyStoreDamaged {
            } catch {
                Issue.record("truncated to \(length): expected keyStoreDamaged, got \(error)")
            }
        }
    }

    @Test func alteredCiphertextIsDamaged() throws {
        let (path, _) = try writeStore()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 5] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try KeyStore.read(from: path, passphrase: SecureBytes(copying: Array("right passphrase".utf8)))
            Issue.record("an altered key store opened")
        } catch ClientError.keyStoreDamaged {
        }
    }

    @Test func hostileParametersAreRejectedBeforeDerivation() throws {
        let (path, _) = try writeStore()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // Memory bytes field (offset 13, 8 bytes): 1 TiB must be refused without trying it.
        for index in 13..<21 { bytes[index] = 0 }
        bytes[15] = 1
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try KeyStore.read(from: path, passphrase: SecureBytes(copying: Array("right passphrase".utf8)))
            Issue.record("a key store with 1 TiB memory cost opened")
        } catch ClientError.keyStoreDamaged(_, let reason) {
            #expect(reason.contains("Argon2id"))
        }
    }

    @Test func wrongVersionIsUnsupported() throws {
        let (path, _) = try writeStore()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[4] = 9
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        expectClientError(.keyStoreUnsupportedVersion(path: path, version: 9)) {
            try KeyStore.read(from: path, passphrase: SecureBytes(copying: Array("right passphrase".utf8)))
        }
    }

    @Test func writeReplacesAtomically() throws {
        let (path, _) = try writeStore()
        let folder = (path as NSString).deletingLastPathComponent
        let replacement = KeyStore.Contents.generate()
        try KeyStore.write(replacement, to: path, passphrase: SecureBytes(copying: Array("new passphrase".utf8)), parameters: parameters)
        // No temporary file is left behind, and the file holds the new contents.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["keystore.rbks"])
        let opened = try KeyStore.read(from: path, passphrase: SecureBytes(copying: Array("new passphrase".utf8)))
        #expect(opened.identitySeed == replacement.identitySeed)
    }

    @Test func safeFileNames() {
        #expect(Account.safeFileName("../../etc/passwd") == "passwd")
        #expect(Account.safeFileName("..\\..\\boot.ini") == "boot.ini")
        #expect(Account.safeFileName(".bashrc") == "bashrc")
        #expect(Account.safeFileName("Rechnung\u{202E}fdp.exe") == "Rechnungfdp.exe")
        #expect(Account.safeFileName("a\u{0}b\nc") == "abc")
        #expect(Account.safeFileName("...") == "attachment")
        #expect(Account.safeFileName("Sitzungsvorlage 2026-117.pdf") == "Sitzungsvorlage 2026-117.pdf")
    }
}
