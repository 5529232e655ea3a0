import RatsboteWire

/// The fuzzer's input, read from the front as control values and from the rest as data.
///
/// Structured targets (the Noise stream, the handshake, secretstream) take a few control bytes
/// that choose a mode, a mutation or split points, then use the remaining bytes as a payload.
/// Reads past the end return zeros, so every input, even an empty one, is a valid run.
public struct FuzzInput {
    public let bytes: [UInt8]
    private var position = 0

    public init(_ data: UnsafePointer<UInt8>, _ size: Int) {
        bytes = Array(UnsafeBufferPointer(start: data, count: size))
    }

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The number of bytes not yet taken.
    public var remaining: Int { bytes.count - position }

    /// Takes one byte, or 0 at the end.
    public mutating func takeByte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// Takes a big-endian 16-bit value, with zeros past the end.
    public mutating func takeUInt16() -> UInt16 {
        UInt16(takeByte()) << 8 | UInt16(takeByte())
    }

    /// Takes up to `count` bytes.
    public mutating func takeBytes(_ count: Int) -> [UInt8] {
        let end = min(bytes.count, position + max(count, 0))
        defer { position = end }
        return Array(bytes[position..<end])
    }

    /// Takes every remaining byte.
    public mutating func takeRest() -> [UInt8] {
        takeBytes(remaining)
    }
}

/// Stops the run with a message when a decoder invariant fails.
///
/// `fatalError` traps, which libFuzzer reports as a crash and saves the input; a thrown error
/// would only be an ordinary rejection.
public func require(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    if !condition {
        fatalError("fuzz invariant failed: \(message())", file: file, line: line)
    }
}

/// Decodes `bytes` as `T` and, when that succeeds, requires the canonical encoding to give the
/// same bytes back and to decode to an equal value.
///
/// Every Ratsbote wire structure has exactly one encoding per value (minimal varints, no
/// trailing bytes, fixed field order), so a decoder that accepts two encodings of one value, or
/// one that loses a field, fails here.
///
/// - Returns: the decoded value, or `nil` when the decoder rejected the bytes.
@discardableResult
public func checkRoundTrip<T: WireCodable & Equatable>(_ type: T.Type, _ bytes: [UInt8]) -> T? {
    guard let value = try? T.decode(bytes) else { return nil }
    let encoded = value.encoded()
    require(encoded == bytes, "\(T.wireName): re-encoding differs from the accepted input (\(bytes.count) bytes in, \(encoded.count) out)")
    let again = try? T.decode(encoded)
    require(again == value, "\(T.wireName): decoding the re-encoding gives another value")
    return value
}
