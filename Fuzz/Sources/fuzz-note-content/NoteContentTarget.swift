import FuzzSupport
import RatsboteClient
import RatsboteWire

/// Decodes note content, which a device reads after opening an envelope from any sender.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput(data, size).bytes
    if let note = checkRoundTrip(NoteContent.self, bytes) {
        require(note.subject.utf8.count <= NoteContent.maximumSubjectBytes, "NoteContent.subject over its limit")
        require(note.body.utf8.count <= NoteContent.maximumBodyBytes, "NoteContent.body over its limit")
        require(note.attachments.count <= NoteContent.maximumAttachments, "NoteContent.attachments over its limit")
        // Saving an attachment derives a file name from the sender's text; it must stay a base name.
        for attachment in note.attachments {
            let name = Account.safeFileName(attachment.fileName)
            require(!name.isEmpty && !name.contains("/") && !name.hasPrefix("."), "safeFileName returned an unsafe name")
            require(name.utf8.count <= 200, "safeFileName returned \(name.utf8.count) bytes")
        }
    }
    return 0
}

/// Starts libFuzzer on ``fuzz(_:_:)``. SwiftPM binds `main` to this symbol (see ``runFuzzer(argc:argv:target:)``).
@_cdecl("fuzz_note_content_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc: argc, argv: argv, target: fuzz)
}
