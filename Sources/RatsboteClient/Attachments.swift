import Foundation

extension Account {
    /// Reads a file to attach; the media type is guessed from the extension.
    public static func attachment(fromFile path: String) throws -> Attachment {
        let url = URL(fileURLWithPath: path)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ClientError.attachmentUnreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        return Attachment(fileName: url.lastPathComponent, mediaType: mediaType(forExtension: url.pathExtension), data: [UInt8](data))
    }

    static func mediaType(forExtension ext: String) -> String {
        switch ext.lowercased() {
        case "pdf": return "application/pdf"
        case "txt", "md": return "text/plain"
        case "html", "htm": return "text/html"
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "odt": return "application/vnd.oasis.opendocument.text"
        case "docx": return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        case "xlsx": return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        case "zip": return "application/zip"
        default: return "application/octet-stream"
        }
    }

    /// Writes a message's attachments and documents into `folder`.
    ///
    /// Each name is reduced to a safe base name first (see ``safeFileName(_:fallback:)``). An
    /// existing file is never replaced unless `force` is set; every target is checked before the
    /// first byte is written. Documents stored on the relay are downloaded (resumably), checked,
    /// decrypted and then released on the relay.
    ///
    /// - Returns: the paths written.
    public func saveAttachments(
        of id: String, to folder: String, force: Bool = false, progress: ((TransferProgress) -> Void)? = nil
    ) throws -> [String] {
        let message = try message(id)
        let names = message.content.attachments.map(\.fileName) + message.content.remoteDocuments.map(\.fileName)
        var targets: [String] = []
        var used = Set<String>()
        for (index, fileName) in names.enumerated() {
            var name = Self.safeFileName(fileName, fallback: "attachment-\(index + 1)")
            while used.contains(name) { name = "\(index + 1)-" + name }
            used.insert(name)
            let path = (folder as NSString).appendingPathComponent(name)
            if !force && FileManager.default.fileExists(atPath: path) { throw ClientError.fileExists(path: path) }
            targets.append(path)
        }

        for (attachment, path) in zip(message.content.attachments, targets) {
            do {
                try Data(attachment.data).write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                throw ClientError.writeFailed(path: path, reason: (error as NSError).localizedDescription)
            }
        }
        let remoteTargets = targets.dropFirst(message.content.attachments.count)
        if !message.content.remoteDocuments.isEmpty {
            var connection = try connect()
            for (position, (document, path)) in zip(message.content.remoteDocuments, remoteTargets).enumerated() {
                try downloadDocument(document, to: path, force: force, connection: &connection, progress: progress)
                try database.markDocumentSaved(messageId: message.id, position: position)
            }
        }
        return targets
    }

    /// Returns the positions in ``NoteContent/remoteDocuments`` of the documents of message `id`
    /// that this device saved.
    public func savedDocumentPositions(of id: String) throws -> Set<Int> {
        try database.savedDocumentPositions(messageId: message(id).id)
    }

    /// Reduces a sender's file name to a safe base name: no path separators, no control or
    /// bidirectional-override characters, no leading dots, at most 200 bytes.
    public static func safeFileName(_ name: String, fallback: String = "attachment") -> String {
        let base = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        var cleaned = String.UnicodeScalarView()
        for scalar in base.unicodeScalars {
            let value = scalar.value
            let isControl = value < 0x20 || (0x7f...0x9f).contains(value)
            let isBidi = (0x202a...0x202e).contains(value) || (0x2066...0x2069).contains(value) || value == 0x200e || value == 0x200f
                || value == 0x061c
            if isControl || isBidi { continue }
            cleaned.append(scalar)
        }
        var result = String(cleaned).trimmingCharacters(in: .whitespaces)
        while result.hasPrefix(".") { result.removeFirst() }
        while result.utf8.count > 200 { result.removeLast() }
        return result.isEmpty ? fallback : result
    }
}
