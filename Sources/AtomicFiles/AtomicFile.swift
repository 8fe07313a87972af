#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Atomic file replacement, the one implementation every writer in SpikeFuse uses
/// (checkpoints, weights, metrics, config.json, frame caches, AEDAT/HDF5/WAV/PNG writers).
///
/// The new contents go to a temporary file beside the target, `.<name>.tmp-<pid>-<uuid>`,
/// which is flushed to disk (`fsync`) and then renamed over the target (`rename(2)` is atomic
/// within a folder). A crash, a kill or a full disk leaves either the old file or the new
/// one, never a torn one; a failed write removes its temporary file and names the target.
public enum AtomicFile {
    /// The prefix of the temporary files written beside `url`.
    public static func temporaryPrefix(for url: URL) -> String { ".\(url.lastPathComponent).tmp-" }

    /// A fresh temporary path beside `url`.
    public static func temporaryURL(for url: URL) -> URL {
        url.deletingLastPathComponent()
            .appendingPathComponent(temporaryPrefix(for: url) + "\(getpid())-\(UUID().uuidString)")
    }

    /// Test hook: when set, `commit` asks it about every target and fails with the reason it
    /// returns (a full disk, without filling one). Never set outside tests.
    nonisolated(unsafe) static var injectedFailure: ((URL) -> String?)?

    /// Flushes the finished temporary file `temporary` and renames it over `url`; on failure
    /// removes `temporary` and throws.
    public static func commit(_ temporary: URL, to url: URL) throws(AtomicFileError) {
        try commit(temporary, to: url, flushed: false)
    }

    /// `commit`; `flushed`: the caller already `fsync`ed the temporary file.
    static func commit(_ temporary: URL, to url: URL, flushed: Bool) throws(AtomicFileError) {
        var failure: String? = injectedFailure?(url)
        if failure == nil && !flushed {
            let fd = open(temporary.path, O_RDONLY)
            if fd < 0 { failure = "cannot reopen \(temporary.path): \(errnoText())" } else {
                if fsync(fd) != 0 { failure = "fsync: \(errnoText())" }
                close(fd)
            }
        }
        if failure == nil, rename(temporary.path, url.path) != 0 { failure = "rename from \(temporary.path): \(errnoText())" }
        if let failure {
            unlink(temporary.path)
            throw AtomicFileError(path: url.path, reason: failure)
        }
        let folder = open(url.deletingLastPathComponent().path, O_RDONLY)   // make the rename itself durable
        if folder >= 0 { _ = fsync(folder); close(folder) }
    }

    /// Replaces `url` with what `body` writes to the temporary path it is given.
    public static func replace(_ url: URL, writing body: (URL) throws -> Void) throws {
        let temporary = temporaryURL(for: url)
        do { try body(temporary) } catch {
            unlink(temporary.path)
            throw error
        }
        try commit(temporary, to: url)
    }

    /// Replaces `url` with `bytes`.
    public static func write(_ bytes: some Collection<UInt8>, to url: URL) throws(AtomicFileError) {
        let temporary = temporaryURL(for: url)
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw AtomicFileError(path: url.path, reason: "cannot create \(temporary.path): \(errnoText())") }
        var failure: String?
        let contiguous = Array(bytes)
        contiguous.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errnoText(); return
                }
                done += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = "fsync: \(errnoText())" }
        close(fd)
        if let failure {
            unlink(temporary.path)
            throw AtomicFileError(path: url.path, reason: "writing \(temporary.path): \(failure)")
        }
        try commit(temporary, to: url, flushed: true)
    }

    /// Removes the temporary files a killed writer left beside the files in `folder`
    /// (`.<name>.tmp-*`); returns what it removed. Call it only where no other writer runs.
    @discardableResult
    public static func removeStaleTemporaries(in folder: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasPrefix(".") && $0.contains(".tmp-") }.compactMap { name in
            let url = folder.appendingPathComponent(name)
            return unlink(url.path) == 0 ? url : nil
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// A file that could not be replaced: the target's path and why.
public struct AtomicFileError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var reason: String
    public var description: String { "\(path): cannot write: \(reason)" }
}
