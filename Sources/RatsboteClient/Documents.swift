import Foundation
import RatsboteCrypto
import RatsboteSession

/// Encrypting documents for a message and checking them on arrival.
///
/// Each document gets a fresh key and is encrypted with secretstream in 64 KiB chunks, the last
/// one tagged final. The key, header, size and BLAKE2b-256 of the ciphertext travel inside the
/// end-to-end encrypted message, never to the relay.
enum Documents {
    /// The maximum ciphertext that travels inside one message; larger files need the blob transfer.
    static let maximumInlineBytes = 900 * 1024

    /// Encrypts a file for sending inside the message.
    static func encryptInline(_ attachment: Attachment) throws -> DocumentReference {
        let key = SymmetricKey.generate(storage: .wiped)
        let ciphertext = SecretStream.encrypt(attachment.data, using: key)
        guard ciphertext.count <= maximumInlineBytes else {
            throw ClientError.attachmentTooLarge(path: attachment.fileName, size: attachment.data.count, maximum: maximumInlineBytes)
        }
        let header = Array(ciphertext.prefix(SecretStream.headerByteCount))
        return DocumentReference(
            fileName: attachment.fileName, mediaType: attachment.mediaType, size: UInt64(attachment.data.count),
            key: key.withUnsafeBytes { Array($0) }, header: header, ciphertextHash: try BLAKE2b.hash(ciphertext),
            inlineCiphertext: ciphertext)
    }

    /// Checks and decrypts an inline document.
    ///
    /// - Throws: ``ClientError/documentRejected(fileName:reason:)`` when the hash, the size, the
    ///   final tag or the authentication fails; no partial plaintext is returned.
    static func decryptInline(_ reference: DocumentReference) throws -> Attachment {
        guard reference.isInline else {
            throw ClientError.documentRejected(fileName: reference.fileName, reason: "stored on the relay, which this version cannot fetch")
        }
        let ciphertext = reference.inlineCiphertext
        guard constantTimeEqual(try BLAKE2b.hash(ciphertext), reference.ciphertextHash) else {
            throw ClientError.documentRejected(fileName: reference.fileName, reason: "the ciphertext hash does not match")
        }
        guard ciphertext.prefix(SecretStream.headerByteCount).elementsEqual(reference.header) else {
            throw ClientError.documentRejected(fileName: reference.fileName, reason: "the stream header does not match")
        }
        let plaintext: [UInt8]
        do {
            let key = try SymmetricKey(copying: reference.key, storage: .wiped)
            plaintext = try SecretStream.decrypt(ciphertext, using: key, plaintextByteCount: Int(clamping: reference.size))
        } catch {
            throw ClientError.documentRejected(fileName: reference.fileName, reason: "\(error)")
        }
        guard plaintext.count == reference.size else {
            throw ClientError.documentRejected(fileName: reference.fileName, reason: "size \(plaintext.count) differs from \(reference.size)")
        }
        return Attachment(fileName: reference.fileName, mediaType: reference.mediaType, data: plaintext)
    }
}
