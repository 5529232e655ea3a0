import Foundation
import RatsboteSupport
import Testing

@Suite struct LockedTests {
    @Test func concurrentIncrementsAreAllCounted() {
        let counter = Locked(0)
        let group = DispatchGroup()
        for _ in 0..<4 {
            group.enter()
            Thread {
                for _ in 0..<10_000 { counter.withLock { $0 += 1 } }
                group.leave()
            }.start()
        }
        #expect(group.wait(timeout: .now() + 30) == .success)
        #expect(counter.withLock { $0 } == 40_000)
    }

    @Test func withLockReturnsTheBodyResult() {
        let names = Locked(["Rat"])
        let count = names.withLock { names in
            names.append("Ausschuss")
            return names.count
        }
        #expect(count == 2)
    }
}
