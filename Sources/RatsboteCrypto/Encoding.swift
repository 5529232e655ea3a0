/// Hex and base64url text forms, for use only at the edges (CLI, JSON, vectors).
public enum Encoding {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Lowercase hex of `bytes`.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out = [UInt8]()
        for byte in bytes {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex text (either case, even length).
    ///
    /// - Throws: ``CryptoError/invalidEncoding(format:reason:)``.
    public static func bytes(fromHex text: some StringProtocol) throws -> [UInt8] {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else {
            throw CryptoError.invalidEncoding(format: "hex", reason: "odd number of digits (\(utf8.count))")
        }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else {
                throw CryptoError.invalidEncoding(format: "hex", reason: "not a hex digit at position \(index)")
            }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static let base64URLAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Base64url without padding (RFC 4648 section 5).
    public static func base64URL(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in [18, 12, 6, 0] { out.append(base64URLAlphabet[Int((value >> UInt32(shift)) & 63)]) }
            index += 3
        }
        let rest = bytes.count - index
        if rest == 1 {
            let value = UInt32(bytes[index]) << 16
            out.append(base64URLAlphabet[Int((value >> 18) & 63)])
            out.append(base64URLAlphabet[Int((value >> 12) & 63)])
        } else if rest == 2 {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out.append(base64URLAlphabet[Int((value >> 18) & 63)])
            out.append(base64URLAlphabet[Int((value >> 12) & 63)])
            out.append(base64URLAlphabet[Int((value >> 6) & 63)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes base64url without padding; padding, whitespace and the standard alphabet's `+/` are rejected.
    ///
    /// - Throws: ``CryptoError/invalidEncoding(format:reason:)``.
    public static func bytes(fromBase64URL text: some StringProtocol) throws -> [UInt8] {
        var values = [UInt8]()
        values.reserveCapacity(text.utf8.count)
        for (position, c) in text.utf8.enumerated() {
            let value: UInt8
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = c - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = c - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = c - UInt8(ascii: "0") + 52
            case UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "_"): value = 63
            default:
                throw CryptoError.invalidEncoding(format: "base64url", reason: "invalid character at position \(position)")
            }
            values.append(value)
        }
        guard values.count % 4 != 1 else {
            throw CryptoError.invalidEncoding(format: "base64url", reason: "length \(values.count) is not possible")
        }
        var out = [UInt8]()
        var index = 0
        while index + 4 <= values.count {
            let v = UInt32(values[index]) << 18 | UInt32(values[index + 1]) << 12 | UInt32(values[index + 2]) << 6 | UInt32(values[index + 3])
            out.append(UInt8(v >> 16)); out.append(UInt8((v >> 8) & 0xff)); out.append(UInt8(v & 0xff))
            index += 4
        }
        let rest = values.count - index
        if rest == 2 {
            let v = UInt32(values[index]) << 18 | UInt32(values[index + 1]) << 12
            guard v & 0xffff == 0 else { throw CryptoError.invalidEncoding(format: "base64url", reason: "non-canonical final character") }
            out.append(UInt8(v >> 16))
        } else if rest == 3 {
            let v = UInt32(values[index]) << 18 | UInt32(values[index + 1]) << 12 | UInt32(values[index + 2]) << 6
            guard v & 0xff == 0 else { throw CryptoError.invalidEncoding(format: "base64url", reason: "non-canonical final character") }
            out.append(UInt8(v >> 16)); out.append(UInt8((v >> 8) & 0xff))
        }
        return out
    }
}
