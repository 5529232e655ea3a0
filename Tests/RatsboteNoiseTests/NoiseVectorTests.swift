import Foundation
import RatsboteCrypto
import Testing

@testable import RatsboteNoise

/// Replays the IK and XX cases of the third-party Noise vector files byte for byte.
@Suite struct NoiseVectorTests {
    /// One case of a vector file, decoded.
    struct VectorCase {
        let name: String
        let pattern: NoisePattern
        let initiatorPrologue: [UInt8]
        let responderPrologue: [UInt8]
        let initiatorStatic: X25519PrivateKey
        let initiatorEphemeral: X25519PrivateKey
        let initiatorRemoteStatic: X25519PublicKey?
        let responderStatic: X25519PrivateKey
        let responderEphemeral: X25519PrivateKey
        let handshakeHash: [UInt8]?
        let messages: [(payload: [UInt8], ciphertext: [UInt8])]
    }

    static let files = ["noise-25519-chachapoly-blake2b", "snow-25519-chachapoly-blake2b"]

    @Test(arguments: files)
    func vectorFile(_ fileName: String) throws {
        let url = try vectorsDirectory().appendingPathComponent("noise/\(fileName).json")
        let cases = try Self.loadCases(url)
        #expect(!cases.isEmpty, "no IK or XX case in \(fileName).json")

        var passed = 0
        for vector in cases {
            if try Self.replay(vector) { passed += 1 }
        }
        print("vectors \(fileName): \(cases.count) cases, \(passed) passed, 0 skipped (none)")
        #expect(passed == cases.count, "\(fileName): \(cases.count - passed) of \(cases.count) cases failed")
    }

    /// Runs one case; records an issue and returns `false` at the first mismatch.
    static func replay(_ vector: VectorCase) throws -> Bool {
        var initiator = try NoiseHandshake(
            pattern: vector.pattern, role: .initiator, prologue: vector.initiatorPrologue,
            localStatic: vector.initiatorStatic, remoteStatic: vector.initiatorRemoteStatic,
            ephemeral: vector.initiatorEphemeral)
        var responder = try NoiseHandshake(
            pattern: vector.pattern, role: .responder, prologue: vector.responderPrologue,
            localStatic: vector.responderStatic, ephemeral: vector.responderEphemeral)
        var initiatorTransport: NoiseTransport?
        var responderTransport: NoiseTransport?

        for (index, message) in vector.messages.enumerated() {
            let initiatorSends = index % 2 == 0
            let produced: [UInt8]
            let received: [UInt8]
            if !initiator.isComplete {
                if initiatorSends {
                    produced = try initiator.writeMessage(payload: message.payload)
                    received = try responder.readMessage(produced)
                } else {
                    produced = try responder.writeMessage(payload: message.payload)
                    received = try initiator.readMessage(produced)
                }
            } else {
                if initiatorTransport == nil {
                    guard checkHandshakeEnd(vector, initiator, responder) else { return false }
                    initiatorTransport = try initiator.split()
                    responderTransport = try responder.split()
                }
                if initiatorSends {
                    produced = try initiatorTransport!.encrypt(message.payload)
                    received = try responderTransport!.decrypt(produced)
                } else {
                    produced = try responderTransport!.encrypt(message.payload)
                    received = try initiatorTransport!.decrypt(produced)
                }
            }

            guard produced == message.ciphertext else {
                Issue.record(
                    "\(vector.name) message \(index): ciphertext \(Encoding.hex(produced)), expected \(Encoding.hex(message.ciphertext))")
                return false
            }
            guard received == message.payload else {
                Issue.record("\(vector.name) message \(index): payload \(Encoding.hex(received)), expected \(Encoding.hex(message.payload))")
                return false
            }
        }
        guard initiatorTransport != nil || checkHandshakeEnd(vector, initiator, responder) else { return false }
        return true
    }

    /// Checks that both sides finished and agree with the vector's handshake hash, when it has one.
    static func checkHandshakeEnd(_ vector: VectorCase, _ initiator: NoiseHandshake, _ responder: NoiseHandshake) -> Bool {
        guard initiator.isComplete, responder.isComplete else {
            Issue.record("\(vector.name): handshake not complete after the handshake messages")
            return false
        }
        guard initiator.handshakeHash == responder.handshakeHash else {
            Issue.record("\(vector.name): initiator and responder handshake hashes differ")
            return false
        }
        if let expected = vector.handshakeHash, initiator.handshakeHash != expected {
            Issue.record(
                "\(vector.name): handshake hash \(Encoding.hex(initiator.handshakeHash)), expected \(Encoding.hex(expected))")
            return false
        }
        guard initiator.remoteStaticKey == vector.responderStatic.publicKey,
            responder.remoteStaticKey == vector.initiatorStatic.publicKey
        else {
            Issue.record("\(vector.name): a side learnt the wrong remote static key")
            return false
        }
        return true
    }

    /// Loads the cases whose protocol is exactly IK or XX (no PSK variants).
    static func loadCases(_ url: URL) throws -> [VectorCase] {
        let data = try Data(contentsOf: url)
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let vectors = root["vectors"] as? [[String: Any]]
        else {
            throw FixtureError(description: "\(url.lastPathComponent): no \"vectors\" array")
        }

        var cases: [VectorCase] = []
        for object in vectors {
            let name = object["protocol_name"] as? String ?? ""
            let pattern: NoisePattern
            switch name {
            case NoisePattern.IK.protocolName: pattern = .IK
            case NoisePattern.XX.protocolName: pattern = .XX
            default: continue
            }

            func bytes(_ key: String) throws -> [UInt8] {
                guard let text = object[key] as? String else {
                    throw FixtureError(description: "\(url.lastPathComponent) \(name): missing field \(key)")
                }
                return try hexBytes(text)
            }
            func optionalBytes(_ key: String) throws -> [UInt8]? {
                object[key] == nil ? nil : try bytes(key)
            }

            guard let messageObjects = object["messages"] as? [[String: String]] else {
                throw FixtureError(description: "\(url.lastPathComponent) \(name): missing messages")
            }
            let messages = try messageObjects.map { message in
                (payload: try hexBytes(message["payload"] ?? ""), ciphertext: try hexBytes(message["ciphertext"] ?? ""))
            }

            cases.append(
                VectorCase(
                    name: name, pattern: pattern,
                    initiatorPrologue: try bytes("init_prologue"), responderPrologue: try bytes("resp_prologue"),
                    initiatorStatic: try privateKey(bytes("init_static")),
                    initiatorEphemeral: try privateKey(bytes("init_ephemeral")),
                    initiatorRemoteStatic: try optionalBytes("init_remote_static").map {
                        try X25519PublicKey(rawRepresentation: $0)
                    },
                    responderStatic: try privateKey(bytes("resp_static")),
                    responderEphemeral: try privateKey(bytes("resp_ephemeral")),
                    handshakeHash: try optionalBytes("handshake_hash"),
                    messages: messages))
        }
        return cases
    }
}
