import Foundation
import RatsboteNet
import RatsboteSupport
import RatsboteWire

/// The blob thread: runs ``BlobStore`` work in order, away from the event loop and from the
/// envelope storage thread, and posts each result back to the loop.
final class BlobService: @unchecked Sendable {
    // @unchecked: `store` is touched only on `queue`.
    private let store: BlobStore
    private let queue = DispatchQueue(label: "ratsbote-blobs")
    let limits: BlobLimits

    init(store: BlobStore, limits: BlobLimits) {
        self.store = store
        self.limits = limits
    }

    /// Runs `work` on the blob thread; `completion` runs on the loop with its result.
    func submit<Result: Sendable>(
        loop: EventLoop, _ work: @escaping @Sendable (BlobStore) throws -> Result,
        completion: @escaping @Sendable (Swift.Result<Result, any Error>) -> Void
    ) {
        queue.async { [self] in
            let result = Swift.Result { try work(store) }
            loop.execute { completion(result) }
        }
    }

    /// Deletes expired blobs on the blob thread and logs the count.
    func sweep(now: Int64, logger: Logger) {
        queue.async { [self] in
            do {
                let count = try store.sweepExpired(now: now)
                if count > 0 { logger.info("expired blobs swept", ["count": .public(String(count))]) }
            } catch {
                logger.error("blob expiry sweep failed", ["error": .public("\(error)")])
            }
        }
    }
}

extension RelayConnection {
    /// Blob requests of one connection that may wait at once. Each carries up to 1 MiB, so
    /// this bounds the memory one uploading client can occupy in the relay.
    static let maximumBlobRequestsInFlight = 2

    /// Runs a blob command on the blob thread and responds from the loop.
    func handleBlob(_ request: BlobRequest, id requestId: UInt32, device: DeviceRecord) {
        let blobs = server.blobs
        let limits = blobs.limits
        let now = server.clock.now()
        let row = device.rowId
        let logger = self.logger
        inFlight += 1
        blobRequestsInFlight += 1
        blobs.submit(loop: server.loop, { store -> RelayResponse in
            switch request {
            case .create(let size, let recipientCount, let timeToLive):
                let created = try store.create(
                    size: size, recipientCount: recipientCount, timeToLive: timeToLive, uploaderRow: row, limits: limits, now: now)
                return .blob(.created(id: created.id, expiresAt: UInt64(max(0, created.expiresAt))))
            case .upload(let id, let offset, let bytes):
                return .blob(try store.upload(id: id, offset: offset, bytes: bytes))
            case .status(let id):
                return .blob(try store.status(id: id))
            case .download(let id, let offset, let length):
                return .blob(try store.download(id: id, offset: offset, length: length))
            case .release(let id):
                try store.release(id: id, deviceRow: row)
                return .done
            }
        }) { [self] result in
            inFlight -= 1
            blobRequestsInFlight -= 1
            switch result {
            case .success(let response):
                respond(requestId, response)
            case .failure(let failure as RelayFailure):
                respond(requestId, .failure(failure))
            case .failure(let error):
                logger.error("blob operation failed", ["error": .public("\(error)")])
                respond(requestId, .failure(RelayFailure(.internalError, "the relay could not complete the blob request; retry")))
            }
            resume()
        }
    }
}
