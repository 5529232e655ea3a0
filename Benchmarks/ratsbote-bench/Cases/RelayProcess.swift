// A real `ratsbote-relay serve` process for the relay benchmarks, the load generator and the
// crash check: its own data folder, invites through the CLI, its resident memory from /proc.

import Foundation
import Glibc
import RatsboteCrypto
import RatsboteWire
import Synchronization

/// A failure around the relay process; the message names the command or file and what to do.
struct RelayBenchError: Error, CustomStringConvertible {
    let description: String
}

/// A relay data folder and, while serving, its `ratsbote-relay serve` process.
///
/// The data folder outlives restarts, so the crash check can kill the process and start it again
/// on the same database.
final class RelayProcess: @unchecked Sendable {
    // @unchecked: used by one thread at a time (the benchmark's main thread or its event loop).
    let binary: URL
    let folder: URL
    let data: URL
    let relayKey: X25519PublicKey
    private(set) var process: Process?
    private(set) var port: UInt16 = 0
    private var inviteCount = 0

    /// Finds the `ratsbote-relay` binary: `RATSBOTE_RELAY_BINARY`, or the one beside this executable.
    static func locateBinary() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["RATSBOTE_RELAY_BINARY"] {
            return URL(fileURLWithPath: path)
        }
        let own = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let sibling = own.deletingLastPathComponent().appendingPathComponent("ratsbote-relay")
        guard FileManager.default.isExecutableFile(atPath: sibling.path) else {
            throw RelayBenchError(
                description: "ratsbote-relay not found at \(sibling.path); build it with "
                    + "`swift build -c release --product ratsbote-relay` or set RATSBOTE_RELAY_BINARY")
        }
        return sibling
    }

    /// Runs `ratsbote-relay init` in a new temporary folder and merges `limits` into relay.json.
    init(limits: [String: Any] = [:]) throws {
        binary = try Self.locateBinary()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ratsbote-bench-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        data = folder.appendingPathComponent("relay")
        let result = try Self.run(binary, ["init", "--data", data.path, "--org", "Benchstadt"])
        guard result.status == 0 else {
            throw RelayBenchError(description: "ratsbote-relay init failed (status \(result.status)): \(result.error)")
        }
        if !limits.isEmpty {
            let url = data.appendingPathComponent("relay.json")
            var json = (try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]) ?? [:]
            var merged = (json["limits"] as? [String: Any]) ?? [:]
            for (key, value) in limits { merged[key] = value }
            json["limits"] = merged
            try JSONSerialization.data(withJSONObject: json).write(to: url)
        }
        let secret = try Data(contentsOf: data.appendingPathComponent("relay.key"))
        relayKey = try X25519PrivateKey(secret: SecureBytes(copying: Array(secret))).publicKey
    }

    deinit {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: folder)
    }

    /// Creates a participant with `ratsbote-relay invite` and returns the invite's token.
    func invite() throws -> [UInt8] {
        inviteCount += 1
        return try Self.invite(binary: binary, data: data, name: "Bench \(inviteCount)")
    }

    /// Creates `count` participants, running four invite commands at a time, and returns their tokens.
    ///
    /// Each command is a process start plus one durable SQLite commit (about 0.1 s here), so 200
    /// invites one after another would take most of the set-up time.
    func invites(count: Int) throws -> [[UInt8]] {
        let first = inviteCount
        inviteCount += count
        let results = Mutex([Int: Result<[UInt8], any Error>]())
        let binary = self.binary
        let data = self.data
        DispatchQueue.concurrentPerform(iterations: 4) { lane in
            for index in stride(from: lane, to: count, by: 4) {
                let result = Result { try Self.invite(binary: binary, data: data, name: "Bench \(first + index + 1)") }
                results.withLock { $0[index] = result }
            }
        }
        return try results.withLock { results in try (0..<count).map { try results[$0]!.get() } }
    }

    private static func invite(binary: URL, data: URL, name: String) throws -> [UInt8] {
        let result = try run(binary, ["invite", "--data", data.path, "--name", name, "--role", "Last", "--unit", "Bench"])
        guard result.status == 0, let last = result.output.split(separator: "\n").last else {
            throw RelayBenchError(description: "ratsbote-relay invite failed (status \(result.status)): \(result.error)")
        }
        return try InviteCode(text: String(last)).token
    }

    /// Starts `serve` on 127.0.0.1 and a free port, and waits for its `listening address=` line.
    func start() throws {
        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve", "--data", data.path, "--listen", "127.0.0.1:0"]
        let output = Pipe()
        process.standardOutput = output
        let log = folder.appendingPathComponent("serve.log")
        if !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
        let logHandle = try FileHandle(forWritingTo: log)
        logHandle.seekToEndOfFile()
        process.standardError = logHandle
        try process.run()
        try? logHandle.close()

        // availableData returns empty once the process exits, so this loop ends either way.
        var text = ""
        var found: UInt16?
        while found == nil {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
            if let range = text.range(of: "listening address=127.0.0.1:"),
                let line = text[range.upperBound...].split(separator: "\n").first, let port = UInt16(line)
            {
                found = port
            }
        }
        guard let found else {
            process.waitUntilExit()
            throw RelayBenchError(description: "ratsbote-relay serve exited before listening; log: \(log.path)\n\(logTail())")
        }
        self.process = process
        self.port = found
    }

    /// Sends `signal` and waits for the exit (SIGKILL after 20 s); returns the exit status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) -> Int32 {
        guard let process else { return 0 }
        self.process = nil
        if process.isRunning { kill(process.processIdentifier, signal) }
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// The resident size now and its peak (VmRSS and VmHWM), in bytes; zero when not running.
    func memory() -> (resident: Int, peak: Int) {
        guard let process else { return (0, 0) }
        return ProcessMemory.read(pid: process.processIdentifier)
    }

    /// CPU per thread and I/O counters of the serve process; empty when not running.
    func sample() -> ProcessSample {
        guard let process else { return ProcessSample() }
        return ProcessSample.read(pid: process.processIdentifier)
    }

    /// The last lines of the serve log, for error messages.
    func logTail(lines: Int = 20) -> String {
        let text = (try? String(contentsOf: folder.appendingPathComponent("serve.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    private static func run(_ binary: URL, _ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }
}

/// Reads the resident memory of a process from /proc.
enum ProcessMemory {
    /// VmRSS and VmHWM of `pid` in bytes; zero for a field that is missing.
    static func read(pid: Int32) -> (resident: Int, peak: Int) {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return (0, 0) }
        var resident = 0
        var peak = 0
        for line in status.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kibibytes = Int(fields[1]) else { continue }
            if fields[0].hasPrefix("VmRSS:") { resident = kibibytes * 1024 }
            if fields[0].hasPrefix("VmHWM:") { peak = kibibytes * 1024 }
        }
        return (resident, peak)
    }

    /// Formats bytes as MiB with one decimal.
    static func mebibytes(_ bytes: Int) -> String {
        String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }
}

/// CPU time per thread and I/O counters of a process, read from /proc, to explain a figure:
/// which thread is busy, and how many system calls and bytes each envelope costs.
struct ProcessSample {
    /// CPU seconds (user plus system) by thread: `main`, or the name and thread id of another thread.
    var threadSeconds: [String: Double] = [:]
    /// Read and write system calls (`syscr`, `syscw` in /proc/PID/io) and bytes sent to storage.
    var readCalls = 0
    var writeCalls = 0
    var storageWriteBytes = 0

    /// Reads the sample of `pid`; fields that cannot be read stay zero.
    static func read(pid: Int32) -> ProcessSample {
        var sample = ProcessSample()
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        for task in tasks {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8),
                let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
            else { continue }
            // Thread names set through Foundation do not always reach the kernel, so the thread
            // id tells threads apart; the process's main thread has the process id.
            let name = task == String(pid) ? "main" : "\(stat[stat.index(after: open)..<close])/\(task)"
            // After the name: state is field 3, utime field 14 and stime field 15 of the whole line.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            sample.threadSeconds[name, default: 0] += (user + system) / ticks
        }
        if let io = try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8) {
            for line in io.split(separator: "\n") {
                let parts = line.split(separator: ":")
                guard parts.count == 2, let value = Int(parts[1].trimmingCharacters(in: .whitespaces)) else { continue }
                switch parts[0] {
                case "syscr": sample.readCalls = value
                case "syscw": sample.writeCalls = value
                case "write_bytes": sample.storageWriteBytes = value
                default: break
                }
            }
        }
        return sample
    }

    /// One line per thread and for the I/O counters, each per envelope, between `earlier` and this sample.
    func perEnvelope(since earlier: ProcessSample, envelopes: UInt64, seconds: Double) -> String {
        guard envelopes > 0 else { return "no envelopes in the interval" }
        let count = Double(envelopes)
        var parts: [String] = []
        for (name, total) in threadSeconds.sorted(by: { $0.key < $1.key }) {
            let used = total - (earlier.threadSeconds[name] ?? 0)
            guard used > 0.001 else { continue }
            parts.append(String(format: "%@ %.0f%% CPU %.1f µs/env", name, used / seconds * 100, used / count * 1e6))
        }
        parts.append(String(format: "%.2f write calls/env", Double(writeCalls - earlier.writeCalls) / count))
        parts.append(String(format: "%.2f read calls/env", Double(readCalls - earlier.readCalls) / count))
        parts.append(String(format: "%.0f bytes to disk/env", Double(storageWriteBytes - earlier.storageWriteBytes) / count))
        return parts.joined(separator: ", ")
    }
}
