@preconcurrency import Glibc
import Foundation

/// A TCP client connection for live streams: connect and every read have a timeout, and
/// every failure is one line naming `host:port` (refused, unreachable, closed, silent).
final class TCPConnection {
    let host: String, port: Int
    private let fd: Int32
    /// "tcp HOST:PORT", the name errors and decoders use.
    var name: String { "tcp \(host):\(port)" }

    /// Parses "HOST:PORT" (a bracketed IPv6 host "[::1]:7777" too).
    static func address(_ text: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port), colon != text.startIndex else {
            throw UsageError("--tcp needs HOST:PORT (e.g. 127.0.0.1:7777), got '\(text)'")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    /// Connects within `timeout` seconds to the first address of `host` that answers.
    init(host: String, port: Int, timeout: Double) throws {
        self.host = host; self.port = port
        let name = "tcp \(host):\(port)"
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw StreamFailure("\(name): cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var failure = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let a = entry {
            entry = a.pointee.ai_next
            let s = socket(a.pointee.ai_family, a.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), a.pointee.ai_protocol)
            guard s >= 0 else { failure = String(cString: strerror(errno)); continue }
            // Non-blocking connect, then wait for it at most `timeout`.
            _ = fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK)
            if connect(s, a.pointee.ai_addr, a.pointee.ai_addrlen) != 0 && errno != EINPROGRESS {
                failure = String(cString: strerror(errno)); close(s); continue
            }
            var p = pollfd(fd: s, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&p, 1, Int32(timeout * 1000))
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(s, SOL_SOCKET, SO_ERROR, &error, &length)
            if ready == 1 && error == 0 {
                fd = s
                return
            }
            failure = ready == 0 ? "no answer within \(timeout) s" : String(cString: strerror(error))
            close(s)
        }
        throw StreamFailure("\(name): cannot connect: \(failure) (is the DV network output server running there?)")
    }

    deinit { close(fd) }

    /// The next bytes (up to 64 KiB); empty when the server closed the connection. Throws
    /// when nothing arrives for `timeout` seconds.
    func read(timeout: Double) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, Int32(timeout * 1000))
            if ready < 0 && errno == EINTR { continue }
            guard ready != 0 else { throw StreamFailure("\(name): no data for \(timeout) s (the stream stalled; --timeout sets the wait)") }
            guard ready > 0 else { throw StreamFailure("\(name): \(String(cString: strerror(errno)))") }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n >= 0 { return Array(buffer[0..<n]) }
            if errno == EINTR || errno == EAGAIN { continue }
            throw StreamFailure("\(name): connection lost: \(String(cString: strerror(errno)))")
        }
    }
}

/// A live stream that failed (connection, timeout, bad bytes): one line, exit status 1.
struct StreamFailure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
