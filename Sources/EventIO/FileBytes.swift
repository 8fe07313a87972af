#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Whole-file reads and atomic writes shared by the EventIO readers and writers.
enum _FileBytes {
    /// The bytes of the file at `url`; throws `.unreadable` (never `.emptyFile`: callers decide).
    static func read(_ url: URL) throws -> [UInt8] {
        let path = url.path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw EventIOError.unreadable(file: path, detail: _errnoText()) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw EventIOError.unreadable(file: path, detail: _errnoText()) }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw EventIOError.unreadable(file: path, detail: "not a regular file")
        }
        let size = Int(st.st_size)
        var failure: String?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialised in
            var done = 0
            while done < size {
                let n = Glibc.read(fd, buffer.baseAddress! + done, size - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = _errnoText(); break
                }
                if n == 0 { failure = "file shrank while reading (\(done) of \(size) bytes)"; break }
                done += n
            }
            initialised = done
        }
        if let failure { throw EventIOError.unreadable(file: path, detail: failure) }
        return bytes
    }

    /// Writes `bytes` to `url` atomically: a temporary file in the same folder, then `rename(2)`,
    /// so readers never see a half-written file.
    static func writeAtomically(_ bytes: [UInt8], to url: URL) throws {
        let path = url.path
        let dir = url.deletingLastPathComponent().path
        // A unique name: pid + wall-clock nanoseconds (O_EXCL refuses a clash rather than clobbering).
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let tmp = (dir.isEmpty ? "." : dir) + "/.\(url.lastPathComponent).tmp-\(getpid())-\(now.tv_sec)\(now.tv_nsec)"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw EventIOError.unwritable(file: path, detail: "\(tmp): \(_errnoText())") }
        var failure: String?
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = _errnoText(); return
                }
                done += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = _errnoText() }
        close(fd)
        if failure == nil, rename(tmp, path) != 0 { failure = _errnoText() }
        if let failure {
            unlink(tmp)
            throw EventIOError.unwritable(file: path, detail: failure)
        }
    }
}

func _errnoText() -> String { String(cString: strerror(errno)) }

/// Unaligned integer loads from a byte buffer. Callers check bounds first.
extension UnsafeRawBufferPointer {
    @inline(__always) func _bigEndianUInt32(at offset: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    @inline(__always) func _littleEndianUInt32(at offset: Int) -> UInt32 {
        UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    @inline(__always) func _littleEndianUInt16(at offset: Int) -> UInt16 {
        UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
}
