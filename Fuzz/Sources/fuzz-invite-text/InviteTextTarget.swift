import Foundation
import FuzzSupport
import RatsboteWire

/// Parses the text form of an invite code (`RB1-` and base64url), as pasted by a user.
///
/// Base64url decoding rejects non-canonical final characters, so an accepted text must be
/// exactly the canonical text of the code it decodes to, apart from surrounding whitespace.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: FuzzInput(data, size).bytes, as: UTF8.self)
    guard let code = try? InviteCode(text: text) else { return 0 }

    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    require(code.text == trimmed, "InviteCode(text:) accepted a non-canonical text of \(trimmed.utf8.count) bytes")
    let again = try? InviteCode(text: code.text)
    require(again == code, "InviteCode text form does not round-trip")
    return 0
}

/// Starts libFuzzer on ``fuzz(_:_:)``. SwiftPM binds `main` to this symbol (see ``runFuzzer(argc:argv:target:)``).
@_cdecl("fuzz_invite_text_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc: argc, argv: argv, target: fuzz)
}
