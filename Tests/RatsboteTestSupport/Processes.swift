// Helpers shared by the test targets: locating the package and its built binaries, running
// them as subprocesses, temporary folders, and a relay process on loopback.

import Foundation

/// The package root, found from this file's path.
public func packageRoot(file: String = #filePath) -> URL {
    var url = URL(fileURLWithPath: file)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
    }
    fatalError("Package.swift not found above \(file)")
}

/// The folder with the built executables (the same build configuration as the tests).
public func binaryFolder() -> URL {
    // The test bundle lives in the same folder as the executables SwiftPM built with it.
    let candidates = [
        Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(),
        packageRoot().appendingPathComponent(".build/debug"),
    ]
    for folder in candidates where FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent("ratsbote").path) {
        return folder
    }
    return packageRoot().appendingPathComponent(".build/debug")
}

/// A new empty folder under the system's temporary folder.
public func makeTemporaryFolder(_ prefix: String = "ratsbote-test") -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// What a finished process printed and how it exited.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs a program to completion with optional standard input, bounded by `timeout` seconds.
@discardableResult
public func runProcess(
    _ executable: URL, _ arguments: [String], stdin: String? = nil, environment: [String: String]? = nil, timeout: TimeInterval = 120
) throws -> ProcessResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    let outPipe = Pipe()
    let errPipe = Pipe()
    let inPipe = Pipe()
    process.standardOutput = outPipe
    process.standardError = errPipe
    process.standardInput = inPipe
    try process.run()
    if let stdin { inPipe.fileHandleForWriting.write(Data(stdin.utf8)) }
    try? inPipe.fileHandleForWriting.close()

    // Read both pipes concurrently so a full pipe never blocks the child.
    final class Box: @unchecked Sendable { var data = Data() }
    let out = Box()
    let err = Box()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { out.data = outPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.enter()
    DispatchQueue.global().async { err.data = errPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }

    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        process.terminate()
        process.waitUntilExit()
    }
    group.wait()
    process.waitUntilExit()
    return ProcessResult(
        status: process.terminationStatus, stdout: String(decoding: out.data, as: UTF8.self),
        stderr: String(decoding: err.data, as: UTF8.self))
}

/// A free TCP port on 127.0.0.1, found by binding port 0 and closing the socket again.
public func freeLoopbackPort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = bind(fd, $0, length) }
    }
    withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
    }
    return UInt16(bigEndian: address.sin_port)
}

/// A `ratsbote-relay serve` process on loopback with its own data folder.
public final class RelayProcess: @unchecked Sendable {
    public let data: URL
    public let port: UInt16
    public let logFile: URL
    private var process: Process?

    /// Initialises a data folder and starts serving on a free loopback port.
    public init(folder: URL = makeTemporaryFolder("ratsbote-relay"), extraEnvironment: [String: String] = [:]) throws {
        data = folder.appendingPathComponent("relay")
        port = freeLoopbackPort()
        logFile = folder.appendingPathComponent("relay.log")
        let relay = binaryFolder().appendingPathComponent("ratsbote-relay")
        let result = try runProcess(relay, ["init", "--data", data.path, "--org", "Teststadt", "--address", "127.0.0.1:\(port)"])
        guard result.status == 0 else { throw RelayProcessError.initFailed(result.stderr + result.stdout) }
        try start(extraEnvironment: extraEnvironment)
    }

    /// Starts `serve` and waits until it reports listening.
    public func start(extraEnvironment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = binaryFolder().appendingPathComponent("ratsbote-relay")
        process.arguments = ["serve", "--data", data.path]
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in extraEnvironment { environment[key] = value }
        process.environment = environment
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        log.seekToEndOfFile()
        process.standardError = log
        process.standardOutput = log
        try process.run()
        self.process = process

        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let text = try? String(contentsOf: logFile, encoding: .utf8), text.contains("listening") { return }
            guard process.isRunning else { throw RelayProcessError.exited(log: (try? String(contentsOf: logFile, encoding: .utf8)) ?? "") }
            usleep(50_000)
        }
        throw RelayProcessError.notListening
    }

    /// Creates an invite and returns the code text.
    public func invite(name: String, role: String, unit: String) throws -> String {
        let relay = binaryFolder().appendingPathComponent("ratsbote-relay")
        let result = try runProcess(relay, ["invite", "--data", data.path, "--name", name, "--role", role, "--unit", unit])
        guard result.status == 0, let code = result.stdout.split(separator: "\n").last else {
            throw RelayProcessError.inviteFailed(result.stderr)
        }
        return String(code)
    }

    /// Creates an invite code for another device of the existing user `userId`.
    public func inviteDevice(userId: String) throws -> String {
        let relay = binaryFolder().appendingPathComponent("ratsbote-relay")
        let result = try runProcess(relay, ["invite", "--data", data.path, "--user", userId])
        guard result.status == 0, let code = result.stdout.split(separator: "\n").last else {
            throw RelayProcessError.inviteFailed(result.stderr)
        }
        return String(code)
    }

    /// Sends a signal and waits for the exit status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM) -> Int32 {
        guard let process, process.isRunning else { return process?.terminationStatus ?? 0 }
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    deinit {
        stop(signal: SIGKILL)
    }
}

public enum RelayProcessError: Error {
    case initFailed(String)
    case exited(log: String)
    case notListening
    case inviteFailed(String)
}
