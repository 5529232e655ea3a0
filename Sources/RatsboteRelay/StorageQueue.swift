import Foundation
import RatsboteNet
import RatsboteSupport

/// The storage thread: runs jobs against the store in batches, one durable commit per batch
/// (group commit), and hands each job's completion back to the event loop after the commit.
///
/// Many sends that arrive while a commit is being written share the next commit, so the relay
/// pays one WAL fsync per batch instead of one per envelope.
final class StorageQueue: @unchecked Sendable {
    // @unchecked: `jobs`, `stopping` and `inProgress` are guarded by `condition`; `store` is used
    // only on the storage thread once `start()` has been called.

    /// A unit of work. It runs on the storage thread inside the batch transaction and returns
    /// what to do on the event loop once the batch is committed (`true`) or rolled back (`false`).
    typealias Job = @Sendable (any RelayStore) -> (@Sendable (_ committed: Bool) -> Void)

    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var stopping = false
    private var inProgress = 0
    private let store: any RelayStore
    private let loop: EventLoop
    private let logger: Logger
    /// Runs on the loop after each batch's completions, so their output leaves in one write per connection.
    var afterBatch: (@Sendable () -> Void)?
    /// Runs on the loop before each batch's completions.
    var beforeBatch: (@Sendable () -> Void)?
    private let finished = DispatchSemaphore(value: 0)
    /// Jobs per commit; bounds the latency a single large batch adds.
    private let maximumBatch = 4096

    init(store: any RelayStore, loop: EventLoop, logger: Logger) {
        self.store = store
        self.loop = loop
        self.logger = logger
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "ratsbote-storage"
        thread.start()
    }

    /// Queues `job`; callable from any thread.
    func submit(_ job: @escaping Job) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Jobs queued or running, for the drain on shutdown.
    var pendingCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count + inProgress
    }

    /// Lets the queued jobs finish, then ends the thread and waits for it.
    func stopAndWait() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
        finished.wait()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty && stopping {
                condition.unlock()
                break
            }
            let batch = Array(jobs.prefix(maximumBatch))
            jobs.removeFirst(batch.count)
            inProgress = batch.count
            condition.unlock()

            var completions: [@Sendable (Bool) -> Void] = []
            completions.reserveCapacity(batch.count)
            var committed = true
            do {
                let started = EventLoop.now()
                try store.transaction {
                    for job in batch { completions.append(job(store)) }
                }
                logger.debug(
                    "storage batch committed",
                    ["jobs": .public(String(batch.count)), "milliseconds": .public(String(Int((EventLoop.now() - started) * 1000)))])
            } catch {
                committed = false
                logger.error("storage commit failed", ["error": .public("\(error)"), "jobs": .public(String(batch.count))])
            }

            let outcome = committed
            let ready = completions
            let afterBatch = self.afterBatch
            let beforeBatch = self.beforeBatch
            loop.execute {
                beforeBatch?()
                for completion in ready { completion(outcome) }
                afterBatch?()
            }
            condition.lock()
            inProgress = 0
            condition.unlock()
        }
        finished.signal()
    }
}
