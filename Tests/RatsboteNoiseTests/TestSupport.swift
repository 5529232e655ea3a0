import Foundation
import RatsboteCrypto
import Testing

@testable import RatsboteNoise

/// Errors of the test helpers themselves, so a broken fixture fails with a clear message.
struct FixtureError: Error, CustomStringConvertible {
    let description: String
}

/// Finds `shared/vectors`: `RATSBOTE_VECTORS` when set, otherwise the first ancestor of this file
/// (or an ancestor's parent, where CI keeps `shared/` beside the clone) that contains it.
func vectorsDirectory(filePath: String = #filePath) throws -> URL {
    if let override = ProcessInfo.processInfo.environment["RATSBOTE_VECTORS"], !override.isEmpty {
        return URL(fileURLWithPath: override, isDirectory: true)
    }

    var directory = URL(fileURLWithPath: filePath).deletingLastPathComponent()
    while directory.path != "/" {
        for base in [directory, directory.deletingLastPathComponent()] {
            let candidate = base.appendingPathComponent("shared/vectors", isDirectory: true)
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
        }
        directory = directory.deletingLastPathComponent()
    }
    throw FixtureError(
        description: "shared/vectors not found above \(filePath); set RATSBOTE_VECTORS to the vectors folder")
}

/// Decodes lowercase or uppercase hex from a vector file.
func hexBytes(_ text: String) throws -> [UInt8] {
    try Encoding.bytes(fromHex: text)
}

/// Builds a private key from 32 fixed bytes.
func privateKey(_ bytes: [UInt8]) throws -> X25519PrivateKey {
    try X25519PrivateKey(secret: SecureBytes(copying: bytes, storage: .wiped))
}

/// Builds a private key whose every byte is `seed`, for readable fixed test keys.
func fixedKey(_ seed: UInt8) throws -> X25519PrivateKey {
    try privateKey([UInt8](repeating: seed, count: 32))
}

/// A completed handshake pair and its transports, for tests that need a working channel.
struct ConnectedPair {
    var initiator: NoiseTransport
    var responder: NoiseTransport
}

/// Runs a full IK handshake with Ratsbote's prologue and fixed static and ephemeral keys.
func connectedIKPair(rekeyInterval: UInt64 = RatsboteTransport.rekeyInterval) throws -> ConnectedPair {
    let clientKey = try fixedKey(0x11)
    let relayKey = try fixedKey(0x22)
    // Fixed ephemeral keys make two pairs derive the same transport keys, so tests can compare them.
    var client = try NoiseHandshake(
        pattern: .IK, role: .initiator, prologue: RatsboteTransport.prologue, localStatic: clientKey,
        remoteStatic: relayKey.publicKey, ephemeral: try fixedKey(0x33))
    var relay = try NoiseHandshake(
        pattern: .IK, role: .responder, prologue: RatsboteTransport.prologue, localStatic: relayKey,
        ephemeral: try fixedKey(0x44))

    // CLIENT: e, es, s, ss with the hello. RELAY: e, ee, se with its reply.
    let first = try client.writeMessage(payload: RatsboteTransport.helloPayload())
    _ = try relay.readMessage(first)
    let second = try relay.writeMessage(payload: RatsboteTransport.helloPayload())
    _ = try client.readMessage(second)

    return ConnectedPair(
        initiator: try client.split(rekeyInterval: rekeyInterval),
        responder: try relay.split(rekeyInterval: rekeyInterval))
}

/// Returns `bytes` with the byte at `index` XORed with 0x01.
func flipping(_ bytes: [UInt8], at index: Int) -> [UInt8] {
    var copy = bytes
    copy[index] ^= 0x01
    return copy
}

/// Returns `count` bytes of a simple repeating pattern, so mismatches are easy to spot.
func patternBytes(_ count: Int, seed: UInt8 = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
}
