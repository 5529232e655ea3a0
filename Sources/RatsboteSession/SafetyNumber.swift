import RatsboteCrypto

/// The number two people compare out of band to check that no one swapped their identity keys.
///
/// Each side's half is derived from its own identity key and user id only, and the two halves
/// are put in sorted order, so both devices show the same digits.
public enum SafetyNumber {
    /// The version mixed into every hash, so a later algorithm gives unrelated numbers.
    static let version: UInt16 = 1
    /// Hash iterations per half; they make a search for a colliding key more expensive.
    static let iterations = 5200
    /// Digits per half: six groups of five.
    static let digitsPerHalf = 30

    /// Computes the 60-digit safety number in twelve groups of five, separated by spaces.
    ///
    /// - Parameters:
    ///   - localIdentity, remoteIdentity: the two Ed25519 identity keys.
    ///   - localUser, remoteUser: the two user ids as the directory lists them.
    public static func compute(
        localIdentity: Ed25519PublicKey, localUser: String, remoteIdentity: Ed25519PublicKey, remoteUser: String
    ) -> String {
        let halves = [half(identity: localIdentity, user: localUser), half(identity: remoteIdentity, user: remoteUser)]
            .sorted()
        let digits = halves.joined()
        var groups: [Substring] = []
        var index = digits.startIndex
        while index < digits.endIndex {
            let end = digits.index(index, offsetBy: 5)
            groups.append(digits[index..<end])
            index = end
        }
        return groups.joined(separator: " ")
    }

    /// Computes the 30 digits of one side: six 5-byte chunks of an iterated BLAKE2b, each reduced mod 100000.
    static func half(identity: Ed25519PublicKey, user: String) -> String {
        var seed: [UInt8] = [UInt8(version >> 8), UInt8(version & 0xFF)]
        seed += identity.rawRepresentation
        let userBytes = Array(user.utf8)
        seed += [UInt8(userBytes.count >> 8 & 0xFF), UInt8(userBytes.count & 0xFF)] + userBytes

        var digest = blake2b512(seed)
        for _ in 1..<iterations {
            digest = blake2b512(digest + identity.rawRepresentation)
        }

        var text = ""
        for chunk in 0..<6 {
            var value: UInt64 = 0
            for byte in digest[(chunk * 5)..<(chunk * 5 + 5)] { value = value << 8 | UInt64(byte) }
            let group = String(value % 100_000)
            text += String(repeating: "0", count: 5 - group.count) + group
        }
        return text
    }

    /// Hashes `data` with unkeyed BLAKE2b to 64 bytes.
    private static func blake2b512(_ data: [UInt8]) -> [UInt8] {
        // BLAKE2b.hash throws only for an output size outside 16...64 or a bad key, and neither can occur here.
        try! BLAKE2b.hash(data, outputByteCount: 64)
    }
}
