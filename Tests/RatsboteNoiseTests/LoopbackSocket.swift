#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking TCP socket on 127.0.0.1 for the interoperability tests.
///
/// Every read and write has a timeout (`SO_RCVTIMEO`, `SO_SNDTIMEO`) and `accept` waits with
/// `poll`, so a silent peer makes a test fail instead of hanging. The descriptor closes on deinit.
final class LoopbackSocket {
    /// A failed socket call, with the call's name and `errno`.
    struct SocketError: Error, CustomStringConvertible {
        let call: String
        let code: Int32
        var description: String { "\(call) failed: \(String(cString: strerror(code))) (errno \(code))" }
    }

    let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    /// Opens a listening socket on 127.0.0.1 with a port the kernel picks.
    static func listen() throws -> (socket: LoopbackSocket, port: UInt16) {
        let socket = try LoopbackSocket(descriptor: makeDescriptor())
        var address = loopbackAddress(port: 0)
        try check("bind", withSockaddr(&address) { bind(socket.descriptor, $0, $1) })
        try check("listen", Glibc.listen(socket.descriptor, 1))

        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try check("getsockname", withSockaddr(&address) { pointer, _ in getsockname(socket.descriptor, pointer, &length) })
        return (socket, UInt16(bigEndian: address.sin_port))
    }

    /// Connects to 127.0.0.1:`port`.
    static func connect(port: UInt16, timeoutSeconds: Int) throws -> LoopbackSocket {
        let socket = try LoopbackSocket(descriptor: makeDescriptor())
        var address = loopbackAddress(port: port)
        try check("connect", withSockaddr(&address) { Glibc.connect(socket.descriptor, $0, $1) })
        try socket.setTimeouts(seconds: timeoutSeconds)
        return socket
    }

    /// Waits up to `timeoutSeconds` for one connection on a listening socket.
    func accept(timeoutSeconds: Int) throws -> LoopbackSocket {
        var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&request, 1, Int32(timeoutSeconds * 1000))
        guard ready > 0 else { throw SocketError(call: "accept (timed out after \(timeoutSeconds) s)", code: ETIMEDOUT) }

        let accepted = Glibc.accept(descriptor, nil, nil)
        try Self.check("accept", accepted)
        let socket = LoopbackSocket(descriptor: accepted)
        try socket.setTimeouts(seconds: timeoutSeconds)
        return socket
    }

    /// Writes all of `bytes`.
    func writeAll(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress! + offset, bytes.count - offset)
            }
            guard written > 0 else { throw SocketError(call: "write", code: errno) }
            offset += written
        }
    }

    /// Reads what is available, up to 64 KiB. An empty result means the peer closed the connection.
    func readSome() throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
        guard count >= 0 else { throw SocketError(call: "read", code: errno) }
        return Array(buffer[0..<count])
    }

    private func setTimeouts(seconds: Int) throws {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        let size = socklen_t(MemoryLayout<timeval>.size)
        try Self.check("setsockopt SO_RCVTIMEO", setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, size))
        try Self.check("setsockopt SO_SNDTIMEO", setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, size))
    }

    private static func makeDescriptor() throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try check("socket", descriptor)
        return descriptor
    }

    private static func loopbackAddress(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
        return address
    }

    private static func withSockaddr(
        _ address: inout sockaddr_in, _ body: (UnsafeMutablePointer<sockaddr>, socklen_t) -> Int32
    ) -> Int32 {
        withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    private static func check(_ call: String, _ result: Int32) throws {
        guard result >= 0 else { throw SocketError(call: call, code: errno) }
    }
}
