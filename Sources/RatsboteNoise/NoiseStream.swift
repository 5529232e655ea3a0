import RatsboteCrypto

/// Length prefixes of the two framing layers on a Ratsbote byte stream.
///
/// Every Noise message goes on the stream as a 2-byte big-endian length and the message. After
/// the handshake, the plaintexts of the transport messages form a second stream that carries
/// application frames: a 4-byte big-endian length and the frame payload. A frame may span
/// several transport messages, because one Noise message carries at most 65,519 payload bytes.
public enum NoiseStreamFraming {
    /// The size of the length prefix before each Noise message.
    public static let messageHeaderLength = 2
    /// The size of the length prefix before each application frame.
    public static let frameHeaderLength = 4

    /// Prefixes a handshake message with its 2-byte length.
    ///
    /// - Throws: ``NoiseError/tooLarge(field:maximum:actual:)`` above 65,535 bytes.
    public static func encode(noiseMessage message: [UInt8]) throws -> [UInt8] {
        guard message.count <= RatsboteTransport.maximumNoiseMessage else {
            throw NoiseError.tooLarge(field: "Noise message", maximum: RatsboteTransport.maximumNoiseMessage, actual: message.count)
        }
        return [UInt8(message.count >> 8), UInt8(message.count & 0xff)] + message
    }
}

/// Turns application frames into encrypted, length-prefixed Noise messages for the socket.
///
/// The encoder starts every frame in a new transport message and fills each message up to
/// 65,519 payload bytes, so a frame of `n` bytes needs `ceil((n + 4) / 65519)` messages.
public struct NoiseStreamEncoder: Sendable {
    /// The largest frame payload this encoder accepts.
    public let maximumFrame: Int

    /// Creates an encoder that rejects frames above `maximumFrame` bytes.
    public init(maximumFrame: Int = RatsboteTransport.defaultMaximumFrame) {
        self.maximumFrame = maximumFrame
    }

    /// Encrypts one application frame with `transport` and returns the bytes to write.
    ///
    /// The plaintext is copied once, into the output, and encrypted there in place. On error the
    /// transport is unchanged, so no nonce is spent on bytes that never reach the socket.
    ///
    /// - Throws: ``NoiseError/tooLarge(field:maximum:actual:)`` above ``maximumFrame``,
    ///   ``NoiseError/nonceExhausted``.
    public mutating func encode(frame: [UInt8], with transport: inout NoiseTransport) throws -> [UInt8] {
        guard frame.count <= maximumFrame else {
            throw NoiseError.tooLarge(field: "application frame", maximum: maximumFrame, actual: frame.count)
        }

        let chunkLimit = NoiseTransport.maximumPayloadLength
        let plaintextLength = NoiseStreamFraming.frameHeaderLength + frame.count
        let messageCount = (plaintextLength + chunkLimit - 1) / chunkLimit
        let perMessageOverhead = NoiseStreamFraming.messageHeaderLength + NoiseCipherState.tagLength
        let totalLength = plaintextLength + messageCount * perMessageOverhead
        let header: [UInt8] = [
            UInt8(truncatingIfNeeded: frame.count >> 24), UInt8(truncatingIfNeeded: frame.count >> 16),
            UInt8(truncatingIfNeeded: frame.count >> 8), UInt8(truncatingIfNeeded: frame.count),
        ]

        var working = transport
        let output = try [UInt8](unsafeUninitializedCapacity: totalLength) { buffer, count in
            count = 0
            let raw = UnsafeMutableRawBufferPointer(buffer)
            var position = 0
            var consumed = 0

            try frame.withUnsafeBytes { frameBytes in
                while consumed < plaintextLength {
                    let chunkLength = Swift.min(chunkLimit, plaintextLength - consumed)
                    let messageLength = chunkLength + NoiseCipherState.tagLength
                    raw[position] = UInt8(messageLength >> 8)
                    raw[position + 1] = UInt8(messageLength & 0xff)
                    position += NoiseStreamFraming.messageHeaderLength

                    // Copy this chunk of header-plus-frame into place, then encrypt it there.
                    var target = position
                    var logical = consumed
                    while logical < consumed + chunkLength {
                        if logical < NoiseStreamFraming.frameHeaderLength {
                            raw[target] = header[logical]
                            target += 1
                            logical += 1
                        } else {
                            let run = consumed + chunkLength - logical
                            let start = logical - NoiseStreamFraming.frameHeaderLength
                            raw.baseAddress!.advanced(by: target).copyMemory(
                                from: frameBytes.baseAddress!.advanced(by: start), byteCount: run)
                            target += run
                            logical += run
                        }
                    }
                    let region = UnsafeMutableRawBufferPointer(rebasing: raw[position..<(position + messageLength)])
                    let plaintext = UnsafeRawBufferPointer(rebasing: region[0..<chunkLength])
                    position += try working.encrypt(plaintext, into: region)
                    consumed += chunkLength
                }
            }
            count = position
        }

        transport = working
        return output
    }
}

/// Reassembles Noise messages and application frames from bytes read off the socket.
///
/// Feed every read into ``append(_:)``. During the handshake take messages with
/// ``nextNoiseMessage()``; afterwards take frames with ``nextFrame(with:)``. Bytes that arrive
/// early (for example the first transport message right behind the last handshake message) stay
/// buffered for the next phase. The unread decrypted bytes never exceed one unfinished frame plus
/// one message's plaintext, because the frame length is checked before the next message is decrypted.
public struct NoiseStreamDecoder: Sendable {
    /// The largest frame payload this decoder accepts.
    public let maximumFrame: Int

    /// Bytes from the socket not yet taken as a Noise message; valid from `inputStart`.
    private var input: [UInt8] = []
    private var inputStart = 0
    /// Decrypted transport plaintext not yet returned as a frame; valid from `plainStart`.
    private var plain: [UInt8] = []
    private var plainStart = 0

    /// Creates a decoder that rejects frames above `maximumFrame` bytes.
    public init(maximumFrame: Int = RatsboteTransport.defaultMaximumFrame) {
        self.maximumFrame = maximumFrame
    }

    /// The number of received bytes not yet returned as a message (the caller can cap it).
    public var bufferedByteCount: Int { input.count - inputStart }

    /// Adds bytes read from the socket.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        compact(&input, start: &inputStart)
        input.append(contentsOf: bytes)
    }

    /// Returns the next length-prefixed Noise message, or `nil` while it is incomplete.
    ///
    /// - Throws: ``NoiseError/truncated(field:minimum:actual:)`` for a zero-length message, which
    ///   neither a handshake nor a transport message can be.
    public mutating func nextNoiseMessage() throws -> [UInt8]? {
        guard let range = try nextMessageRange() else { return nil }

        inputStart = range.upperBound
        return Array(input[range])
    }

    /// Returns the next application frame, decrypting transport messages as needed, or `nil`
    /// while the frame is incomplete.
    ///
    /// - Throws: ``NoiseError/decryptionFailed`` (the message stays unread and `transport`
    ///   unchanged), ``NoiseError/tooLarge(field:maximum:actual:)`` for a frame above
    ///   ``maximumFrame``, ``NoiseError/truncated(field:minimum:actual:)`` for a message shorter
    ///   than its tag, ``NoiseError/nonceExhausted``.
    public mutating func nextFrame(with transport: inout NoiseTransport) throws -> [UInt8]? {
        // Each pass either returns or consumes one buffered message, so the loop ends.
        while true {
            if let frame = try takeFrame() { return frame }
            guard let range = try nextMessageRange() else { return nil }
            guard range.count >= NoiseCipherState.tagLength else {
                throw NoiseError.truncated(field: "transport message", minimum: NoiseCipherState.tagLength, actual: range.count)
            }

            compact(&plain, start: &plainStart)
            let payloadLength = range.count - NoiseCipherState.tagLength
            let oldCount = plain.count
            // A zero-filled array appends with one memset; repeatElement went element by element.
            plain.append(contentsOf: [UInt8](repeating: 0, count: payloadLength))
            do {
                let message = input
                _ = try message.withUnsafeBytes { inputBytes in
                    try plain.withUnsafeMutableBytes { plainBytes in
                        try transport.decrypt(
                            UnsafeRawBufferPointer(rebasing: inputBytes[range]),
                            into: UnsafeMutableRawBufferPointer(rebasing: plainBytes[oldCount...]))
                    }
                }
            } catch {
                plain.removeSubrange(oldCount...)
                throw error
            }
            inputStart = range.upperBound
        }
    }

    // MARK: - Buffers

    /// Finds the next complete Noise message in `input` without consuming it.
    private func nextMessageRange() throws -> Range<Int>? {
        let available = input.count - inputStart
        guard available >= NoiseStreamFraming.messageHeaderLength else { return nil }

        let length = Int(input[inputStart]) << 8 | Int(input[inputStart + 1])
        guard length > 0 else {
            throw NoiseError.truncated(field: "Noise message", minimum: 1, actual: 0)
        }
        guard available - NoiseStreamFraming.messageHeaderLength >= length else { return nil }

        let start = inputStart + NoiseStreamFraming.messageHeaderLength
        return start..<(start + length)
    }

    /// Takes a complete frame from the decrypted buffer, rejecting an oversized one as soon as
    /// its length is visible.
    private mutating func takeFrame() throws -> [UInt8]? {
        let available = plain.count - plainStart
        guard available >= NoiseStreamFraming.frameHeaderLength else { return nil }

        var length = 0
        for index in 0..<NoiseStreamFraming.frameHeaderLength {
            length = length << 8 | Int(plain[plainStart + index])
        }
        guard length <= maximumFrame else {
            throw NoiseError.tooLarge(field: "application frame", maximum: maximumFrame, actual: length)
        }
        guard available - NoiseStreamFraming.frameHeaderLength >= length else { return nil }

        let start = plainStart + NoiseStreamFraming.frameHeaderLength
        let frame = Array(plain[start..<(start + length)])
        plainStart = start + length
        return frame
    }

    /// Drops consumed bytes at the front once they make up at least half of the buffer, so
    /// appends stay amortised O(1) without copying on every message.
    private func compact(_ buffer: inout [UInt8], start: inout Int) {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 0, start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
    }
}
