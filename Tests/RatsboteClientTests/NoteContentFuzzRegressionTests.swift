import Foundation
import RatsboteCrypto
import RatsboteWire
import Testing

@testable import RatsboteClient

/// An input the note-content fuzz target found: a stored note with a present but empty list of
/// relay documents decoded, but encode() omits an empty list, so the bytes did not round-trip.
struct NoteContentFuzzRegressionTests {
    @Test func emptyRemoteDocumentListIsRejected() throws {
        let input = try #require(Data(base64Encoded: "AQEBAcwBAQEBAgIBAgECAQEBAAAAAgAAOwT/a3VyAUAoAAAAAAAAAA=="))
        #expect(throws: WireError.invalidValue(structure: "NoteContent", field: "remoteDocuments", value: "an empty list must be omitted")) {
            try NoteContent.decode([UInt8](input))
        }
    }

    @Test func noteWithoutRemoteDocumentsRoundTrips() throws {
        let note = NoteContent(
            messageId: [UInt8](repeating: 1, count: 16), threadId: [UInt8](repeating: 2, count: 16), inReplyTo: nil, subject: "s",
            body: "b", attachments: [])
        var bytes = note.encoded()
        #expect(try NoteContent.decode(bytes) == note)
        // The same bytes with an explicit empty list appended are rejected.
        bytes.append(0)
        #expect(throws: WireError.self) { try NoteContent.decode(bytes) }
    }
}
