import Foundation
import RatsboteCrypto

/// Reading secrets and text from the terminal, files and standard input.
enum Terminal {
    /// Whether standard output is a terminal (colour and progress only then).
    static var isInteractiveOutput: Bool { isatty(STDOUT_FILENO) == 1 }

    /// Whether to colour output: only on a terminal, and never when `NO_COLOR` is set or
    /// `TERM` is `dumb`.
    static var usesColour: Bool {
        let environment = ProcessInfo.processInfo.environment
        return isInteractiveOutput && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
    }

    /// Wraps `text` in bold when colour is on.
    static func bold(_ text: String) -> String { usesColour ? "\u{1B}[1m\(text)\u{1B}[0m" : text }

    /// Wraps `text` in a dim grey when colour is on.
    static func dim(_ text: String) -> String { usesColour ? "\u{1B}[2m\(text)\u{1B}[0m" : text }

    /// Reads a passphrase without echo from /dev/tty.
    ///
    /// - Returns: `nil` when no terminal is available.
    static func promptSecret(_ prompt: String) -> SecureBytes? {
        let tty = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard tty >= 0 else { return nil }
        defer { close(tty) }

        _ = prompt.withCString { write(tty, $0, strlen($0)) }
        var original = termios()
        let hasTermios = tcgetattr(tty, &original) == 0
        if hasTermios {
            var silent = original
            silent.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(tty, TCSAFLUSH, &silent)
        }
        defer {
            if hasTermios { tcsetattr(tty, TCSAFLUSH, &original) }
            _ = write(tty, "\n", 1)
        }

        // Read byte by byte into a fixed buffer that is wiped afterwards, never into a String.
        var buffer = [UInt8](repeating: 0, count: 1024)
        defer { wipe(&buffer) }
        var count = 0
        var byte: UInt8 = 0
        while count < buffer.count {
            let n = read(tty, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { break }
            buffer[count] = byte
            count += 1
        }
        byte = 0
        return SecureBytes(copying: buffer[0..<count])
    }

    /// Reads a passphrase from a file: its first line, without the line ending.
    static func readSecretFile(_ path: String) throws -> SecureBytes {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PassphraseFileError(path: path, reason: String(cString: strerror(errno == 0 ? ENOENT : errno)))
        }
        var bytes = [UInt8](data)
        defer { wipe(&bytes) }
        var end = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
        if end > 0 && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return SecureBytes(copying: bytes[0..<end])
    }

    /// Reads all of standard input as UTF-8 text.
    static func readStandardInput() -> String {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self)
    }
}

struct PassphraseFileError: Error {
    var path: String
    var reason: String
}
