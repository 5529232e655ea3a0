// RatsboteNet: non-blocking TCP sockets and a single-threaded epoll event loop for the relay.
// It is split from RatsboteRelay so that the client and the benchmarks can reuse the socket
// helpers, and so that the only module touching epoll is small enough to read in one sitting.

import Glibc

/// A socket failure: the system call that failed and its errno, or an address that does not parse.
public enum NetError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `HOST:PORT` text that is not an IPv4 address (or `localhost`) and a port number.
    case invalidAddress(String, reason: String)
    /// A system call returned an error.
    case systemCall(String, errno: Int32)

    public var description: String {
        switch self {
        case .invalidAddress(let text, let reason):
            return "invalid address \"\(text)\": \(reason); expected HOST:PORT such as 127.0.0.1:7443"
        case .systemCall(let name, let code):
            return "\(name) failed: \(String(cString: strerror(code))) (errno \(code))"
        }
    }
}

/// A numeric socket address: `IPv4:PORT`, `[IPv6]:PORT` or `localhost:PORT`.
///
/// Host names other than `localhost` are not resolved, because a listener needs one address
/// and DNS at start-up would make the relay depend on a resolver.
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
    /// The numeric address: dotted-quad IPv4, or IPv6 without brackets.
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Whether ``host`` is an IPv6 address.
    public var isIPv6: Bool { host.contains(":") }

    /// Parses `HOST:PORT`; `localhost` means 127.0.0.1 and IPv6 addresses are written in brackets.
    ///
    /// - Throws: ``NetError/invalidAddress(_:reason:)`` naming the part that is wrong.
    public init(parsing text: String) throws {
        guard let colon = text.lastIndex(of: ":") else {
            throw NetError.invalidAddress(text, reason: "the port is missing")
        }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard let port = UInt16(portText) else {
            throw NetError.invalidAddress(text, reason: "the port \"\(portText)\" is not a number from 0 to 65535")
        }
        if host == "localhost" { host = "127.0.0.1" }

        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
            var probe = in6_addr()
            guard inet_pton(AF_INET6, host, &probe) == 1 else {
                throw NetError.invalidAddress(text, reason: "\"\(host)\" is not an IPv6 address")
            }
        } else {
            var probe = in_addr()
            guard inet_pton(AF_INET, host, &probe) == 1 else {
                let hint = host.contains(":") ? "; write IPv6 addresses in brackets, such as [::1]:7443" : ""
                throw NetError.invalidAddress(text, reason: "\"\(host)\" is not an IPv4 address\(hint)")
            }
        }
        self.host = host
        self.port = port
    }

    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The address family for `socket()`.
    var family: Int32 { isIPv6 ? AF_INET6 : AF_INET }

    func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        if isIPv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            _ = inet_pton(AF_INET6, host, &address.sin6_addr)
            return withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        _ = inet_pton(AF_INET, host, &address.sin_addr)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    /// Reads an IPv4 or IPv6 address that the kernel filled in; `nil` for other families.
    init?(_ storage: sockaddr_storage) {
        var copy = storage
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch Int32(storage.ss_family) {
        case AF_INET:
            let address = withUnsafePointer(to: &copy) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee } }
            var raw = address.sin_addr
            _ = inet_ntop(AF_INET, &raw, &buffer, socklen_t(buffer.count))
            port = UInt16(bigEndian: address.sin_port)
        case AF_INET6:
            let address = withUnsafePointer(to: &copy) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee } }
            var raw = address.sin6_addr
            _ = inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count))
            port = UInt16(bigEndian: address.sin6_port)
        default:
            return nil
        }
        let length = buffer.firstIndex(of: 0) ?? buffer.count
        host = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The outcome of one non-blocking read or write.
public enum SocketTransfer: Equatable, Sendable {
    /// This many bytes moved.
    case bytes(Int)
    /// The kernel buffer is empty (read) or full (write); wait for the next readiness event.
    case wouldBlock
    /// The peer closed the connection (read returned 0).
    case closed
    /// Any other error, with errno.
    case failed(Int32)
}

/// Thin wrappers over the POSIX calls, retrying on EINTR.
public enum Socket {
    /// Makes `descriptor` non-blocking and close-on-exec.
    public static func configureNonBlocking(_ descriptor: Int32) throws {
        let flags = fcntl(descriptor, F_GETFL)
        guard flags >= 0, fcntl(descriptor, F_SETFL, flags | O_NONBLOCK) == 0 else {
            throw NetError.systemCall("fcntl(O_NONBLOCK)", errno: errno)
        }
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
    }

    /// Turns off Nagle's algorithm, so small responses leave at once.
    public static func setNoDelay(_ descriptor: Int32) {
        var one: Int32 = 1
        _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Reads into `buffer`.
    public static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) -> SocketTransfer {
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if count > 0 { return .bytes(count) }
            if count == 0 { return .closed }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            case let code: return .failed(code)
            }
        }
    }

    /// Writes from `buffer`; a partial write returns the count written.
    public static func write(_ descriptor: Int32, from buffer: UnsafeRawBufferPointer) -> SocketTransfer {
        while true {
            let count = send(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
            if count >= 0 { return .bytes(count) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            case let code: return .failed(code)
            }
        }
    }

    /// Closes `descriptor`; EINTR is not retried because Linux has already released it.
    public static func close(_ descriptor: Int32) {
        _ = Glibc.close(descriptor)
    }

    /// Raises the soft limit on open files to the hard limit, so many idle connections fit.
    ///
    /// - Returns: the soft limit now in force.
    @discardableResult
    public static func raiseOpenFileLimit() -> UInt64 {
        var limits = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits) == 0 else { return 0 }
        if limits.rlim_cur < limits.rlim_max {
            limits.rlim_cur = limits.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits)
            _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits)
        }
        return UInt64(limits.rlim_cur)
    }
}

/// A listening TCP socket in non-blocking mode.
public final class TCPListener: @unchecked Sendable {
    // @unchecked: the descriptor is immutable after init, and accept/close are thread-safe calls.
    /// The listening descriptor.
    public let descriptor: Int32
    /// The address actually bound; the port is the kernel's choice when port 0 was requested.
    public let boundAddress: SocketAddress

    /// Binds and listens on `address`.
    ///
    /// - Throws: ``NetError/systemCall(_:errno:)`` for socket, bind or listen failures
    ///   (for example EADDRINUSE when another process has bound the port).
    public init(address: SocketAddress, backlog: Int32 = 1024) throws {
        let descriptor = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw NetError.systemCall("socket", errno: errno) }
        var one: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if address.isIPv6 {
            // An IPv6 listener serves IPv6 only, so [::] and 0.0.0.0 can be bound side by side.
            _ = setsockopt(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }

        let bound = address.withSockaddr { bind(descriptor, $0, $1) }
        guard bound == 0 else {
            let code = errno
            Glibc.close(descriptor)
            throw NetError.systemCall("bind \(address)", errno: code)
        }
        guard listen(descriptor, backlog) == 0 else {
            let code = errno
            Glibc.close(descriptor)
            throw NetError.systemCall("listen \(address)", errno: code)
        }
        do {
            try Socket.configureNonBlocking(descriptor)
        } catch {
            Glibc.close(descriptor)
            throw error
        }

        var actual = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &actual) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        self.boundAddress = SocketAddress(actual) ?? address
    }

    /// Accepts one pending connection, already non-blocking; `nil` when none waits.
    ///
    /// - Throws: ``NetError/systemCall(_:errno:)`` for errors other than EAGAIN, such as EMFILE.
    public func accept() throws -> (descriptor: Int32, peer: SocketAddress)? {
        var peer = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        while true {
            let client = withUnsafeMutablePointer(to: &peer) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(descriptor, $0, &length) }
            }
            if client >= 0 {
                try? Socket.configureNonBlocking(client)
                Socket.setNoDelay(client)
                return (client, SocketAddress(peer) ?? boundAddress)
            }
            switch errno {
            case EINTR, ECONNABORTED: continue
            case EAGAIN, EWOULDBLOCK: return nil
            case let code: throw NetError.systemCall("accept", errno: code)
            }
        }
    }

    /// Stops listening.
    public func close() {
        Socket.close(descriptor)
    }
}
