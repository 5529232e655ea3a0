import RatsboteWire
import Testing

/// Checks the properties every structure must have: it round-trips, every truncation fails with
/// `truncated`, and one extra byte fails with `trailingBytes`.
func checkCodec<T: WireCodable & Equatable>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let bytes = value.encoded()
    let decoded = try T.decode(bytes)
    #expect(decoded == value, "round trip of \(T.wireName) changed the value", sourceLocation: sourceLocation)

    for length in 0..<bytes.count {
        do {
            _ = try T.decode(Array(bytes[0..<length]))
            Issue.record("\(T.wireName) truncated to \(length) of \(bytes.count) bytes decoded", sourceLocation: sourceLocation)
        } catch let error as WireError {
            guard case .truncated = error else {
                Issue.record("\(T.wireName) truncated to \(length): expected truncated, got \(error)", sourceLocation: sourceLocation)
                continue
            }
        }
    }

    do {
        _ = try T.decode(bytes + [0])
        Issue.record("\(T.wireName) with a trailing byte decoded", sourceLocation: sourceLocation)
    } catch let error as WireError {
        #expect(error == .trailingBytes(structure: T.wireName, count: 1), sourceLocation: sourceLocation)
    }
}

/// Expects decoding to fail with exactly `expected`.
func expectDecodeError<T: WireCodable>(
    _ type: T.Type, _ bytes: [UInt8], _ expected: WireError, sourceLocation: SourceLocation = #_sourceLocation
) {
    do {
        _ = try T.decode(bytes)
        Issue.record("\(T.wireName) decoded; expected \(expected)", sourceLocation: sourceLocation)
    } catch let error as WireError {
        #expect(error == expected, sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}

/// Fixed sample values used by the codec tests and the vector file.
enum Samples {
    static let key = [UInt8](repeating: 0x11, count: 32)
    static let key2 = [UInt8](repeating: 0x22, count: 32)
    static let signature = [UInt8](repeating: 0x33, count: 64)
    static let address = DeviceAddress(userId: "anna-schmidt", deviceId: 1)
    static let device = DeviceKeys(deviceId: 1, identityKey: key, envelopeKey: key2)
    static let entry = DirectoryEntry(
        userId: "anna-schmidt", displayName: "Anna Schmidt", role: "Ratsmitglied", unit: "Fraktion Bürgerliste", devices: [device])
    static let signedPrekey = SignedPrekey(id: 7, publicKey: key2, signature: signature)
    static let oneTime = OneTimePrekey(id: 300, publicKey: key)
    static let bundle = DevicePrekeyBundle(address: address, device: device, signedPrekey: signedPrekey, oneTimePrekey: oneTime)

    static let frames: [(String, RelayFrame)] = [
        ("request.enroll", .request(id: 1, .enroll(EnrollRequest(
            token: [UInt8](repeating: 0x44, count: 16), identityKey: key, envelopeKey: key2, signature: signature)))),
        ("request.send", .request(id: 2, .send(SendRequest(
            recipient: address, idempotencyId: [UInt8](repeating: 0x55, count: 16), timeToLive: 86400, sealed: [1, 2, 3, 4])))),
        ("request.receive", .request(id: 3, .receive)),
        ("request.acknowledge", .request(id: 4, .acknowledge(ids: [1, 2, 0xFFFF_FFFF_FFFF]))),
        ("request.uploadPrekeys", .request(id: 5, .uploadPrekeys(signed: signedPrekey, oneTime: [oneTime]))),
        ("request.claimPrekeys", .request(id: 6, .claimPrekeys(userId: "jens-becker"))),
        ("request.directory", .request(id: 7, .directory(query: "Stadtwerke"))),
        ("request.ping", .request(id: 8, .ping)),
        ("response.enrolled", .response(id: 1, .enrolled(address: address, displayName: "Anna Schmidt", role: "Ratsmitglied", unit: "Fraktion"))),
        ("response.stored", .response(id: 2, .stored(envelopeId: 42))),
        ("response.receiving", .response(id: 3, .receiving(backlog: 5, expiredUnread: 1, expiredSince: 1_780_000_000))),
        ("response.done", .response(id: 4, .done)),
        ("response.prekeys", .response(id: 6, .prekeys([bundle, DevicePrekeyBundle(address: address, device: device, signedPrekey: signedPrekey, oneTimePrekey: nil)]))),
        ("response.directory", .response(id: 7, .directory([entry]))),
        ("response.pong", .response(id: 8, .pong)),
        ("response.failure", .response(id: 9, .failure(RelayFailure(.mailboxFull, "mailbox of anna-schmidt.1 holds 10000 envelopes")))),
        ("request.trust", .request(id: 10, .trust)),
        ("response.trust", .response(id: 10, .trust(TrustMaterial(
            rootKey: key, issuer: IssuerCertificate(serial: 1, issuerKey: key2, validFrom: 1_780_000_000, validUntil: 2_095_000_000, signature: signature),
            revocations: RevocationList(issuedAt: 1_780_000_500, serials: [4, 9], issuerKey: key2, signature: signature),
            groups: [GroupDefinition(
                groupId: "ausschuss-umwelt", name: "Ausschuss für Umwelt", kind: .committee, members: ["anna-schmidt"], revision: 3,
                issuedAt: 1_780_000_400, issuerKey: key2, signature: signature)])))),
        ("response.directory.certified", .response(id: 11, .directory([DirectoryEntry(
            userId: "anna-schmidt", displayName: "Anna Schmidt", role: "Ratsmitglied", unit: "Fraktion",
            devices: [DeviceKeys(deviceId: 1, identityKey: key, envelopeKey: key2, certificate: [0x01, 0x02, 0x03])])]))),
        ("push.envelope", .push(.envelope(id: 77, receivedAt: 1_780_000_123, sealed: [9, 8, 7]))),
        ("push.prekeysLow", .push(.prekeysLow(remaining: 3))),
    ]

    static let invite = InviteCode(
        host: "relay.musterstadt.example", port: 7443, relayKey: key, rootFingerprint: key2,
        token: [UInt8](repeating: 0x44, count: 16), expiresAt: 1_780_000_000)
}
