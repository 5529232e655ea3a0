import Foundation
import RatsboteCrypto
import RatsboteTestSupport
import RatsboteWire
import Testing

@testable import RatsboteRelay

/// Expects `body` to throw a relay failure with `code`.
private func expectFailure(_ code: RelayErrorCode, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected relay error \(code), but the call succeeded", sourceLocation: sourceLocation)
    } catch let failure as RelayFailure {
        #expect(failure.code == code, "\(failure)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected relay error \(code), got \(error)", sourceLocation: sourceLocation)
    }
}

@Suite struct BlobStoreTests {
    let folder = makeTemporaryFolder("ratsbote-blobs")
    var limits = BlobLimits()

    func blobFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path + "/blobs")
    }

    @Test func uploadInChunksThenDownload() throws {
        let store = try BlobStore(dataPath: folder.path)
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0) }
        let (id, expiresAt) = try store.create(size: 1000, recipientCount: 2, timeToLive: 0, uploaderRow: 1, limits: limits, now: 100)
        #expect(expiresAt == 100 + Int64(limits.timeToLiveSeconds))
        #expect(try store.upload(id: id, offset: 0, bytes: Array(data[0..<400])) == .status(size: 1000, received: 400, isComplete: false))
        expectFailure(.blobIncomplete) { _ = try store.download(id: id, offset: 0, length: 10) }
        #expect(try store.upload(id: id, offset: 400, bytes: Array(data[400...])) == .status(size: 1000, received: 1000, isComplete: true))
        // A retried last chunk, whose acknowledgement was lost, is answered with the status again.
        #expect(try store.upload(id: id, offset: 400, bytes: Array(data[400...])) == .status(size: 1000, received: 1000, isComplete: true))

        #expect(try store.download(id: id, offset: 0, length: 600) == .chunk(offset: 0, bytes: Array(data[0..<600])))
        #expect(try store.download(id: id, offset: 600, length: 600) == .chunk(offset: 600, bytes: Array(data[600...])))
        #expect(try store.download(id: id, offset: 1000, length: 600) == .chunk(offset: 1000, bytes: []))
        expectFailure(.tooLarge) { _ = try store.download(id: id, offset: 1001, length: 1) }
    }

    @Test func offsetMustMatchBytesHeld() throws {
        let store = try BlobStore(dataPath: folder.path)
        let (id, _) = try store.create(size: 100, recipientCount: 1, timeToLive: 0, uploaderRow: 1, limits: limits, now: 0)
        _ = try store.upload(id: id, offset: 0, bytes: [UInt8](repeating: 1, count: 30))
        expectFailure(.blobOffsetMismatch) { _ = try store.upload(id: id, offset: 0, bytes: [1]) }
        expectFailure(.blobOffsetMismatch) { _ = try store.upload(id: id, offset: 31, bytes: [1]) }
        expectFailure(.tooLarge) { _ = try store.upload(id: id, offset: 30, bytes: [UInt8](repeating: 1, count: 71)) }
        #expect(try store.status(id: id) == .status(size: 100, received: 30, isComplete: false))
    }

    @Test func resumesAfterReopen() throws {
        var store: BlobStore? = try BlobStore(dataPath: folder.path)
        let (id, _) = try store!.create(size: 10, recipientCount: 1, timeToLive: 0, uploaderRow: 1, limits: limits, now: 0)
        _ = try store!.upload(id: id, offset: 0, bytes: [1, 2, 3, 4])
        store = nil

        let reopened = try BlobStore(dataPath: folder.path)
        #expect(try reopened.status(id: id) == .status(size: 10, received: 4, isComplete: false))
        #expect(try reopened.upload(id: id, offset: 4, bytes: [5, 6, 7, 8, 9, 10]) == .status(size: 10, received: 10, isComplete: true))
    }

    @Test func releasesDeleteAfterEveryRecipient() throws {
        let store = try BlobStore(dataPath: folder.path)
        let (id, _) = try store.create(size: 3, recipientCount: 3, timeToLive: 0, uploaderRow: 1, limits: limits, now: 0)
        _ = try store.upload(id: id, offset: 0, bytes: [1, 2, 3])
        #expect(try store.release(id: id, deviceRow: 7) == false)
        #expect(try store.release(id: id, deviceRow: 8) == false)
        #expect(try blobFiles().count == 1)
        #expect(try store.release(id: id, deviceRow: 9) == true)
        #expect(try blobFiles().isEmpty)
        expectFailure(.notFound) { _ = try store.status(id: id) }
        expectFailure(.notFound) { _ = try store.release(id: id, deviceRow: 9) }
    }

    @Test func repeatedReleaseCountsOnce() throws {
        let store = try BlobStore(dataPath: folder.path)
        let (id, _) = try store.create(size: 3, recipientCount: 2, timeToLive: 0, uploaderRow: 1, limits: limits, now: 0)
        _ = try store.upload(id: id, offset: 0, bytes: [1, 2, 3])
        #expect(try store.release(id: id, deviceRow: 7) == false)
        #expect(try store.release(id: id, deviceRow: 7) == false)
        #expect(try store.release(id: id, deviceRow: 7) == false)
        // The second recipient can still fetch the blob after the first released it three times.
        #expect(try store.download(id: id, offset: 0, length: 3) == .chunk(offset: 0, bytes: [1, 2, 3]))
        #expect(try store.release(id: id, deviceRow: 8) == true)
        #expect(try blobFiles().isEmpty)
    }

    @Test func releasesSurviveReopen() throws {
        var store: BlobStore? = try BlobStore(dataPath: folder.path)
        let (id, _) = try #require(store).create(size: 1, recipientCount: 2, timeToLive: 0, uploaderRow: 1, limits: limits, now: 0)
        _ = try store?.upload(id: id, offset: 0, bytes: [1])
        #expect(try store?.release(id: id, deviceRow: 7) == false)
        store = nil

        let reopened = try BlobStore(dataPath: folder.path)
        #expect(try reopened.release(id: id, deviceRow: 7) == false)
        #expect(try reopened.release(id: id, deviceRow: 8) == true)
    }

    @Test func statisticsCountIncompleteUploads() throws {
        let store = try BlobStore(dataPath: folder.path)
        #expect(try store.statistics() == BlobStore.Statistics(count: 0, bytes: 0, incompleteUploads: 0))
        let (complete, _) = try store.create(size: 3, recipientCount: 1, timeToLive: 0, uploaderRow: 1, limits: limits, now: 0)
        _ = try store.upload(id: complete, offset: 0, bytes: [1, 2, 3])
        let (partial, _) = try store.create(size: 10, recipientCount: 1, timeToLive: 0, uploaderRow: 1, limits: limits, now: 0)
        _ = try store.upload(id: partial, offset: 0, bytes: [1, 2])
        #expect(try store.statistics() == BlobStore.Statistics(count: 2, bytes: 13, incompleteUploads: 1))
        try store.release(id: complete, deviceRow: 2)
        #expect(try store.statistics() == BlobStore.Statistics(count: 1, bytes: 10, incompleteUploads: 1))
    }

    @Test func expiredBlobsAreSwept() throws {
        let store = try BlobStore(dataPath: folder.path)
        let (old, _) = try store.create(size: 5, recipientCount: 1, timeToLive: 60, uploaderRow: 1, limits: limits, now: 0)
        let (fresh, _) = try store.create(size: 5, recipientCount: 1, timeToLive: 600, uploaderRow: 1, limits: limits, now: 0)
        #expect(try store.sweepExpired(now: 59) == 0)
        #expect(try store.sweepExpired(now: 60) == 1)
        expectFailure(.notFound) { _ = try store.status(id: old) }
        #expect(try store.status(id: fresh) == .status(size: 5, received: 0, isComplete: false))
        #expect(try blobFiles() == [Encoding.hex(fresh)])
    }

    @Test func quotaAndSizeLimits() throws {
        var limits = BlobLimits()
        limits.maximumBlobBytes = 1000
        limits.maximumBytesPerDevice = 1500
        limits.maximumRecipients = 5
        let store = try BlobStore(dataPath: folder.path)
        expectFailure(.tooLarge) { _ = try store.create(size: 1001, recipientCount: 1, timeToLive: 0, uploaderRow: 1, limits: limits, now: 0) }
        expectFailure(.tooLarge) { _ = try store.create(size: 10, recipientCount: 0, timeToLive: 0, uploaderRow: 1, limits: limits, now: 0) }
        expectFailure(.tooLarge) { _ = try store.create(size: 10, recipientCount: 6, timeToLive: 0, uploaderRow: 1, limits: limits, now: 0) }
        let (first, _) = try store.create(size: 1000, recipientCount: 1, timeToLive: 0, uploaderRow: 1, limits: limits, now: 0)
        expectFailure(.blobQuotaExceeded) { _ = try store.create(size: 501, recipientCount: 1, timeToLive: 0, uploaderRow: 1, limits: limits, now: 0) }
        // The quota is per device.
        _ = try store.create(size: 1000, recipientCount: 1, timeToLive: 0, uploaderRow: 2, limits: limits, now: 0)
        try store.release(id: first, deviceRow: 2)
        _ = try store.create(size: 1000, recipientCount: 1, timeToLive: 0, uploaderRow: 1, limits: limits, now: 0)
    }
}
