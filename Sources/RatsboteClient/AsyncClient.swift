import Foundation
import RatsboteCrypto
import RatsboteSupport
import RatsboteWire

/// The async/await front of the client core for apps.
///
/// Every call runs on the client's own serial queue, so the caller's thread (for example an app's
/// main thread) never blocks on the network, Argon2id or SQLite, and the account is never used by
/// two threads at once.
public final class RatsboteClient: @unchecked Sendable {
    // @unchecked: `account` is only touched on `queue`, a serial queue, which is the lock.
    private let account: Account
    private let queue: DispatchQueue

    private init(account: Account, label: String) {
        self.account = account
        self.queue = DispatchQueue(label: label)
    }

    private static func run<T: Sendable>(on queue: DispatchQueue, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable (Account) throws -> T) async throws -> T {
        let account = UncheckedAccount(account)
        return try await Self.run(on: queue) { try body(account.value) }
    }

    /// Opens the account in `home`.
    public static func open(home: Account.Home, passphrase: SecureBytes, logger: Logger = .disabled) async throws -> RatsboteClient {
        let queue = DispatchQueue(label: "ratsbote.client.open")
        let account = try await run(on: queue) { UncheckedAccount(try Account.open(home: home, passphrase: passphrase, logger: logger)) }
        return RatsboteClient(account: account.value, label: "ratsbote.client.\(home.folder)")
    }

    /// Enrolls this device with an invite code and opens the new account.
    public static func enroll(
        home: Account.Home, invite: InviteCode, passphrase: SecureBytes, logger: Logger = .disabled
    ) async throws -> RatsboteClient {
        let queue = DispatchQueue(label: "ratsbote.client.enroll")
        let account = try await run(on: queue) {
            UncheckedAccount(try Account.enroll(home: home, invite: invite, passphrase: passphrase, logger: logger))
        }
        return RatsboteClient(account: account.value, label: "ratsbote.client.\(home.folder)")
    }

    public func identity() async throws -> Account.Identity { try await run { $0.identity } }

    public func directory(_ query: String = "") async throws -> [DirectoryEntry] { try await run { try $0.directory(query) } }

    public func send(
        to recipient: String, subject: String, body: String, attachments: [Attachment] = [], inReplyTo: String? = nil
    ) async throws -> SendReport {
        try await run { try $0.send(to: recipient, subject: subject, body: body, attachments: attachments, inReplyTo: inReplyTo) }
    }

    public func sync() async throws -> SyncReport { try await run { try $0.sync() } }

    public func inbox() async throws -> [StoredMessage] { try await run { try $0.inbox() } }

    public func message(_ id: String) async throws -> StoredMessage { try await run { try $0.message(id) } }

    public func markRead(_ id: String) async throws { try await run { try $0.markRead(id) } }

    public func safetyNumber(with recipient: String) async throws -> SafetyNumberReport {
        try await run { try $0.safetyNumber(with: recipient) }
    }

    public func confirmSafetyNumber(of recipient: String) async throws { try await run { try $0.confirmSafetyNumber(of: recipient) } }

    /// New incoming messages as they arrive: syncs every `interval` seconds and yields each new
    /// message once. While the relay cannot be reached it retries with exponential backoff
    /// (doubling from `interval` up to 5 minutes); other errors end the stream. Cancelling the
    /// consuming task stops the loop.
    public func incomingMessages(every interval: TimeInterval = 5) -> AsyncThrowingStream<StoredMessage, Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                var seen = Set(((try? await self.inbox()) ?? []).map(\.id))
                var delay = interval
                while !Task.isCancelled {
                    do {
                        _ = try await self.sync()
                        delay = interval
                        for message in try await self.inbox() where !seen.contains(message.id) {
                            seen.insert(message.id)
                            continuation.yield(message)
                        }
                    } catch ClientError.relayUnreachable {
                        delay = min(delay * 2, 300)
                    } catch {
                        continuation.finish(throwing: error)
                        return
                    }
                    try? await Task.sleep(nanoseconds: UInt64(delay * 1_000_000_000))
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

/// Carries an account across the queue hop; only the client's serial queue uses it.
private struct UncheckedAccount: @unchecked Sendable {
    let value: Account
    init(_ value: Account) { self.value = value }
}
