import Foundation
import RatsboteCrypto
import RatsboteTestSupport
import RatsboteWire
import Testing

@testable import RatsboteClient

/// A relay process and participants whose accounts are opened afresh for every step, as if the
/// client were restarted between steps.
final class Scenario {
    let folder: URL
    let relay: RelayProcess
    /// The lowest Argon2id cost the key store accepts, so that tests open accounts quickly.
    static let keyStoreParameters = Argon2id.Parameters(
        operations: Argon2id.Parameters.minimumOperations, memoryBytes: Argon2id.Parameters.minimumMemoryBytes)

    init() throws {
        folder = makeTemporaryFolder("ratsbote-client")
        relay = try RelayProcess(folder: folder)
    }

    deinit {
        relay.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    func passphrase(_ name: String) -> SecureBytes { SecureBytes(copying: Array("passphrase of \(name)".utf8)) }

    func home(_ name: String) -> Account.Home { Account.Home(folder: folder.appendingPathComponent("home-\(name)").path) }

    /// Enrolls a participant and returns their user id.
    @discardableResult
    func enroll(_ name: String, role: String = "Ratsmitglied", unit: String = "Fraktion") throws -> String {
        let code = try relay.invite(name: name, role: role, unit: unit)
        let account = try Account.enroll(
            home: home(name), invite: try InviteCode(text: code), passphrase: passphrase(name), keyStoreParameters: Self.keyStoreParameters)
        return account.identity.address.userId
    }

    /// Enrolls another device of the user `userId`, whose account lives under the name `deviceName`.
    func enrollDevice(of userId: String, as deviceName: String) throws {
        let code = try relay.inviteDevice(userId: userId)
        _ = try Account.enroll(
            home: home(deviceName), invite: try InviteCode(text: code), passphrase: passphrase(deviceName),
            keyStoreParameters: Self.keyStoreParameters)
    }

    /// Opens a participant's account anew.
    func open(_ name: String) throws -> Account {
        let account = try Account.open(home: home(name), passphrase: passphrase(name))
        account.connectionTimeout = 5
        return account
    }

    /// Every regular file below the folder.
    func allFiles(under url: URL) -> [URL] {
        guard let enumerator = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        return enumerator.compactMap { $0 as? URL }.filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
    }
}

/// Expects `body` to throw exactly `expected`.
func expectClientError<T>(_ expected: ClientError, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T) {
    do {
        _ = try body()
        Issue.record("expected \(expected), but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as ClientError {
        #expect(error == expected, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(expected), got \(error)", sourceLocation: sourceLocation)
    }
}
