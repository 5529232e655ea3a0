import CEpoll
import Foundation
import Glibc
import RatsboteSupport
import Synchronization

/// Readiness a handler requests or receives.
public struct IOEvents: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let readable = IOEvents(rawValue: EPOLLIN.rawValue)
    public static let writable = IOEvents(rawValue: EPOLLOUT.rawValue)
    /// The peer closed its sending side; reported only while `readable` is requested.
    public static let readHangup = IOEvents(rawValue: EPOLLRDHUP.rawValue)
    /// The connection is gone in both directions or has an error; epoll reports it even when
    /// nothing is requested, so a handler must close on it or the loop spins.
    public static let failed = IOEvents(rawValue: EPOLLHUP.rawValue | EPOLLERR.rawValue)
}

/// A single-threaded epoll loop: file descriptor handlers, tasks posted from other threads, and
/// repeating timers.
///
/// Everything registered with the loop runs on the loop's thread, so connection state needs no
/// locks. Only ``execute(_:)`` and ``stop()`` may be called from other threads.
public final class EventLoop: @unchecked Sendable {
    // @unchecked: `handlers` and `timers` are touched only on the loop thread. The cross-thread
    // task queue is behind a lock, the stop flag is atomic, and writing the eventfd is thread-safe.
    private let epoll: Int32
    private let wakeDescriptor: Int32
    private var handlers: [Int32: (IOEvents) -> Void] = [:]
    private let pendingTasks = Locked<[@Sendable () -> Void]>([])
    private let stopRequested = Atomic<Bool>(false)
    private var timers: [(interval: Double, due: Double, task: () -> Void)] = []

    /// Creates the epoll instance and its wake-up eventfd.
    ///
    /// - Throws: ``NetError/systemCall(_:errno:)`` when the kernel refuses (EMFILE, ENOMEM).
    public init() throws {
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw NetError.systemCall("epoll_create1", errno: errno) }
        let wake = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wake >= 0 else {
            let code = errno
            Glibc.close(epoll)
            throw NetError.systemCall("eventfd", errno: code)
        }
        self.epoll = epoll
        self.wakeDescriptor = wake
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wake
        _ = epoll_ctl(epoll, EPOLL_CTL_ADD, wake, &event)
    }

    deinit {
        Glibc.close(wakeDescriptor)
        Glibc.close(epoll)
    }

    /// Watches `descriptor` for `events` and calls `handler` on the loop thread when it is ready.
    ///
    /// - Throws: ``NetError/systemCall(_:errno:)`` from `epoll_ctl`.
    public func register(_ descriptor: Int32, for events: IOEvents, handler: @escaping (IOEvents) -> Void) throws {
        var event = epoll_event()
        event.events = Self.interest(events)
        event.data.fd = descriptor
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, descriptor, &event) == 0 else {
            throw NetError.systemCall("epoll_ctl(ADD)", errno: errno)
        }
        handlers[descriptor] = handler
    }

    /// Changes the readiness that `descriptor` is watched for.
    public func modify(_ descriptor: Int32, for events: IOEvents) {
        var event = epoll_event()
        event.events = Self.interest(events)
        event.data.fd = descriptor
        _ = epoll_ctl(epoll, EPOLL_CTL_MOD, descriptor, &event)
    }

    /// The epoll mask for `events`: a half-close is watched only together with reading,
    /// because a level-triggered EPOLLRDHUP would otherwise fire without end while reading is paused.
    private static func interest(_ events: IOEvents) -> UInt32 {
        events.contains(.readable) ? events.rawValue | EPOLLRDHUP.rawValue : events.rawValue
    }

    /// Stops watching `descriptor`; the caller still owns and closes it.
    public func unregister(_ descriptor: Int32) {
        _ = epoll_ctl(epoll, EPOLL_CTL_DEL, descriptor, nil)
        handlers[descriptor] = nil
    }

    /// Runs `task` on the loop thread soon; callable from any thread.
    ///
    /// Tasks run in the order they were posted.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        pendingTasks.withLock { $0.append(task) }
        var one: UInt64 = 1
        _ = Glibc.write(wakeDescriptor, &one, 8)
    }

    /// Calls `task` on the loop thread every `interval` seconds, first after one interval.
    public func scheduleRepeating(every interval: Double, _ task: @escaping () -> Void) {
        timers.append((interval, Self.now() + interval, task))
    }

    /// Asks ``run()`` to return after the current iteration; callable from any thread.
    public func stop() {
        stopRequested.store(true, ordering: .releasing)
        var one: UInt64 = 1
        _ = Glibc.write(wakeDescriptor, &one, 8)
    }

    /// Runs the loop on the calling thread until ``stop()``.
    public func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 512)
        while !stopRequested.load(ordering: .acquiring) {
            let timeout = millisecondsUntilNextTimer()
            let count = events.withUnsafeMutableBufferPointer { buffer in
                epoll_wait(epoll, buffer.baseAddress, Int32(buffer.count), timeout)
            }
            if count < 0 && errno != EINTR { break }

            for index in 0..<max(0, Int(count)) {
                let descriptor = events[index].data.fd
                if descriptor == wakeDescriptor {
                    var value: UInt64 = 0
                    _ = Glibc.read(wakeDescriptor, &value, 8)
                    continue
                }
                // A handler run earlier in this batch may have unregistered this descriptor.
                guard let handler = handlers[descriptor] else { continue }
                handler(IOEvents(rawValue: events[index].events))
            }

            runPendingTasks()
            runDueTimers()
        }
        runPendingTasks()
    }

    private func runPendingTasks() {
        // Tasks may post further tasks; those run in the next iteration, after I/O.
        let tasks = pendingTasks.withLock { tasks in
            let taken = tasks
            tasks.removeAll(keepingCapacity: true)
            return taken
        }
        for task in tasks { task() }
    }

    private func runDueTimers() {
        let now = Self.now()
        for index in timers.indices where timers[index].due <= now {
            timers[index].due = now + timers[index].interval
            timers[index].task()
        }
    }

    private func millisecondsUntilNextTimer() -> Int32 {
        guard let due = timers.map(\.due).min() else { return -1 }
        let milliseconds = (due - Self.now()) * 1000
        return Int32(max(0, min(milliseconds.rounded(.up), 60_000)))
    }

    /// Monotonic seconds, unaffected by wall-clock changes.
    public static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
