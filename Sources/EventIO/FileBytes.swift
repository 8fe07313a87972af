#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import AtomicFiles
import Foundation
import SpikeTensor

/// Whole-file reads and atomic writes shared by the EventIO readers and writers.
enum _FileBytes {
    /// The bytes of the file at `url`; throws `.unreadable` (never `.emptyFile`: callers decide).
    static func read(_ url: URL) throws -> [UInt8] {
        try readStart(of: url, whole: true) { $0 }
    }

    /// The first `count` bytes of the file at `url` (fewer when it is shorter).
    static func readHead(_ url: URL, count: Int) throws -> [UInt8] {
        try readStart(of: url, whole: false) { min($0, count) }
    }

    /// The first `length(size)` bytes of the regular file at `url`. `whole`: the file was meant
    /// to be read to its end, so ending early (it shrank while being read) is an error.
    private static func readStart(of url: URL, whole: Bool, length: (Int) -> Int) throws -> [UInt8] {
        let path = url.path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw EventIOError.unreadable(file: path, detail: _errnoText()) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw EventIOError.unreadable(file: path, detail: _errnoText()) }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw EventIOError.unreadable(file: path, detail: "not a regular file")
        }
        let size = length(Int(st.st_size))
        var failure: String?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialised in
            var done = 0
            while done < size {
                let n = Glibc.read(fd, buffer.baseAddress! + done, size - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = _errnoText(); break
                }
                if n == 0 {
                    if whole { failure = "file shrank while reading (\(done) of \(size) bytes)" }
                    break
                }
                done += n
            }
            initialised = done
        }
        if let failure { throw EventIOError.unreadable(file: path, detail: failure) }
        return bytes
    }

    /// Writes `bytes` to `url` atomically (`AtomicFile`).
    static func writeAtomically(_ bytes: [UInt8], to url: URL) throws {
        do { try AtomicFile.write(bytes, to: url) } catch {
            throw EventIOError.unwritable(file: url.path, detail: error.reason)
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
