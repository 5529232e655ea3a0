// Document files: DocumentFile's file-to-file encryption and checked decryption beside the same
// work in C (read, secretstream, BLAKE2b-256 of the ciphertext, write, fsync, rename), on the
// same files in the same run. The 1 GiB cases record peak resident memory; set
// RATSBOTE_BENCH_DOCUMENT_GIB=4 for the documented 4 GiB long run.

import CSodiumBench
import Foundation
import Glibc
import RatsboteClient
import RatsboteCrypto

/// Files for one document case in a temporary folder, removed on release.
private final class DocumentFiles {
    let folder: String
    let plaintext: String
    let ciphertext: String
    let output: String
    let size: UInt64
    let key = SymmetricKey.generate(storage: .wiped)
    private(set) var sealed: DocumentFile.Sealed?

    init(caseName: String, size: UInt64) throws {
        folder = NSTemporaryDirectory() + "ratsbote-bench-document-" + Encoding.hex(Random.bytes(count: 6))
        plaintext = folder + "/plain.bin"
        ciphertext = folder + "/cipher.bin"
        output = folder + "/out.bin"
        self.size = size
        guard mkdir(folder, 0o700) == 0 else { throw BenchmarkFailure(caseName: caseName, reason: "mkdir \(folder) failed") }
        // Random content in 1 MiB pieces, so that writing a 4 GiB input keeps memory flat too.
        guard FileManager.default.createFile(atPath: plaintext, contents: nil) else {
            throw BenchmarkFailure(caseName: caseName, reason: "creating \(plaintext) failed; check the space in the temporary folder")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: plaintext))
        var remaining = size
        let piece = Random.bytes(count: 1 << 20)
        while remaining > 0 {
            let count = Int(min(remaining, UInt64(piece.count)))
            try handle.write(contentsOf: piece[0..<count])
            remaining -= UInt64(count)
        }
        try handle.close()
    }

    /// Writes the ciphertext once, for the decrypt cases.
    func prepareCiphertext() throws {
        sealed = try DocumentFile.encrypt(file: plaintext, to: ciphertext, key: key)
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }
}

extension CaseRegistry {
    /// At least 0.9 times the C throughput, as a Swift/C time ratio.
    static let documentTarget = 1 / 0.9

    /// Registers the document file cases.
    mutating func addDocumentCases() {
        let gibibytes = UInt64(ProcessInfo.processInfo.environment["RATSBOTE_BENCH_DOCUMENT_GIB"] ?? "") ?? 1
        addDocumentCases(size: 64 << 20, label: "64MiB", measuresMemory: false)
        addDocumentCases(size: gibibytes << 30, label: "\(gibibytes)GiB", measuresMemory: true)
    }

    private mutating func addDocumentCases(size: UInt64, label: String, measuresMemory: Bool) {
        let unit = FigureUnit.megabytesPerSecond(bytesPerOperation: Int(size))
        let encryptName = "document encrypt.file.\(label)"
        add(encryptName, unit: unit, target: Self.documentTarget, measuresMemory: measuresMemory) {
            let files = try DocumentFiles(caseName: encryptName, size: size)
            var hash = [UInt8](repeating: 0, count: 32)
            return PairedWorkloads(
                swift: .timed { n in
                    for _ in 0..<n {
                        unlink(files.ciphertext)
                        consume(try DocumentFile.encrypt(file: files.plaintext, to: files.ciphertext, key: files.key))
                    }
                },
                c: .timed { n in
                    for _ in 0..<n {
                        unlink(files.ciphertext)
                        let rc = files.key.withUnsafeBytes { key in
                            csb_document_encrypt_file(files.plaintext, files.ciphertext, key.bindMemory(to: UInt8.self).baseAddress, &hash)
                        }
                        guard rc == 0 else { throw BenchmarkFailure(caseName: encryptName, reason: "csb_document_encrypt_file failed") }
                    }
                })
        }
        let decryptName = "document decrypt.file.\(label)"
        add(decryptName, unit: unit, target: Self.documentTarget, measuresMemory: measuresMemory) {
            let files = try DocumentFiles(caseName: decryptName, size: size)
            try files.prepareCiphertext()
            guard let sealed = files.sealed else { throw BenchmarkFailure(caseName: decryptName, reason: "no ciphertext") }
            return PairedWorkloads(
                swift: .timed { n in
                    for _ in 0..<n {
                        unlink(files.output)
                        try DocumentFile.decrypt(file: files.ciphertext, sealed: sealed, fileName: "bench", to: files.output)
                    }
                },
                c: .timed { n in
                    for _ in 0..<n {
                        unlink(files.output)
                        let rc = files.key.withUnsafeBytes { key in
                            csb_document_decrypt_file(
                                files.ciphertext, files.output, key.bindMemory(to: UInt8.self).baseAddress, size, sealed.ciphertextHash)
                        }
                        guard rc == 0 else { throw BenchmarkFailure(caseName: decryptName, reason: "csb_document_decrypt_file failed") }
                    }
                })
        }
    }
}
