import Foundation
import RatsboteCrypto
import RatsboteTestSupport
import Testing

@testable import RatsboteClient

/// Document ciphertexts in protocol/vectors/documents.json that another implementation can
/// decrypt and check. The secretstream header is random in libsodium, so the vectors are made
/// once and then only decrypted: set `RATSBOTE_REGENERATE_VECTORS=1` to write them anew.
@Suite struct DocumentVectorTests {
    static var vectorFile: URL { packageRoot().appendingPathComponent("protocol/vectors/documents.json") }
    /// Plaintext sizes: empty, one byte, one byte short of a chunk, one byte over a chunk.
    static let sizes = [0, 1, 65535, 65537]
    static let key = (0..<32).map { UInt8($0) }

    /// Plaintext byte i is i mod 251, so a reader can rebuild it from the size alone.
    static func plaintext(_ size: Int) -> [UInt8] { (0..<size).map { UInt8($0 % 251) } }

    struct Vector: Codable {
        var name: String
        var plaintextSize: Int
        var plaintextRule: String
        var keyHex: String
        var headerHex: String
        var ciphertextHex: String
        var ciphertextBLAKE2b256Hex: String
    }

    @Test func vectorsDecryptAndMatch() throws {
        let folder = makeTemporaryFolder("ratsbote-document-vectors")
        defer { try? FileManager.default.removeItem(at: folder) }
        if ProcessInfo.processInfo.environment["RATSBOTE_REGENERATE_VECTORS"] == "1" {
            var vectors: [Vector] = []
            for size in Self.sizes {
                let plainPath = folder.appendingPathComponent("p\(size)").path
                let cipherPath = folder.appendingPathComponent("c\(size)").path
                try Data(Self.plaintext(size)).write(to: URL(fileURLWithPath: plainPath))
                let sealed = try DocumentFile.encrypt(file: plainPath, to: cipherPath, key: try SymmetricKey(copying: Self.key))
                let ciphertext = [UInt8](try Data(contentsOf: URL(fileURLWithPath: cipherPath)))
                vectors.append(Vector(
                    name: "document.\(size)B", plaintextSize: size, plaintextRule: "byte i = i mod 251",
                    keyHex: Encoding.hex(Self.key), headerHex: Encoding.hex(sealed.header), ciphertextHex: Encoding.hex(ciphertext),
                    ciphertextBLAKE2b256Hex: Encoding.hex(sealed.ciphertextHash)))
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(vectors).write(to: Self.vectorFile)
        }
        let vectors = try JSONDecoder().decode([Vector].self, from: Data(contentsOf: Self.vectorFile))
        #expect(vectors.map(\.plaintextSize) == Self.sizes)
        for vector in vectors {
            let ciphertext = try Encoding.bytes(fromHex: vector.ciphertextHex)
            #expect(UInt64(ciphertext.count) == DocumentFile.ciphertextByteCount(plaintextByteCount: UInt64(vector.plaintextSize)))
            #expect(Encoding.hex(try BLAKE2b.hash(ciphertext)) == vector.ciphertextBLAKE2b256Hex)
            let cipherPath = folder.appendingPathComponent("in-\(vector.name)").path
            let target = folder.appendingPathComponent("out-\(vector.name)").path
            try Data(ciphertext).write(to: URL(fileURLWithPath: cipherPath))
            let sealed = DocumentFile.Sealed(
                key: try SymmetricKey(copying: try Encoding.bytes(fromHex: vector.keyHex)), header: try Encoding.bytes(fromHex: vector.headerHex),
                size: UInt64(vector.plaintextSize), ciphertextHash: try Encoding.bytes(fromHex: vector.ciphertextBLAKE2b256Hex))
            try DocumentFile.decrypt(file: cipherPath, sealed: sealed, fileName: vector.name, to: target)
            #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: target))) == Self.plaintext(vector.plaintextSize), "\(vector.name)")
        }
    }
}
