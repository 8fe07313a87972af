@preconcurrency import CHDF5
import Foundation
#if canImport(Glibc)
import Glibc
import SpikeTensor
#endif

/// Reading an untrusted HDF5 file first in a child process, so that a crash or a hang of
/// libhdf5 on a corrupt file is one error naming the file, not a dead run.
extension HDF5Library {
    /// Files already read whole by a child process, by path, size and modification time.
    nonisolated(unsafe) private static var checked: Set<String> = []   // guarded by the HDF5 lock

    /// Runs `readEverything(name)` — reading every object of the file — once in a child
    /// process (`fork`) before this process touches the file (`NTidigitsFile`, `SHDFile`,
    /// `HDF5Tree`). libhdf5 does not validate everything it reads: a file with a few flipped
    /// bytes has crashed it (SIGSEGV in `memcpy ← H5HG_read ← H5Dread` while reading the
    /// variable-length key strings). In the child such a crash ends the
    /// child only, and here it becomes one error naming the file. Clean errors (a bad type, a
    /// missing dataset, a bad sample) are not the child's business: this process meets them
    /// itself, sample by sample, as typed errors. The fork happens inside the HDF5 lock, so
    /// no other thread is in the library at that moment. `readEverything` must make raw HDF5
    /// calls and not take the lock: in the child the lock's owner thread does not exist, so
    /// taking it would wait forever (and then be reported as a hang). A file that reads without
    /// a crash is remembered by reader, path, size and modification time and not checked again.
    ///
    /// The limit of this defence: the child reads with the memory layout of the moment of the
    /// fork, this process reads later; a corrupt file whose effect depends on the heap layout
    /// (an overlapping `memcpy` that only sometimes faults) could pass the child and still
    /// misbehave here. Reading every sample in the child and sending the events back would
    /// close that gap at the cost of holding the whole file's events in memory.
    ///
    /// Also the first check of the path: a missing file, a symlink loop or a folder is an
    /// error here naming the reason (errno), before any HDF5 call.
    static func checkInChildProcess(_ name: String, reader: String, read readEverything: (String) -> Void) throws {
        var info = stat()
        guard stat(name, &info) == 0 else { throw DatasetError.io(file: name, reason: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw DatasetError.io(file: name, reason: "not a regular file") }
        let size = Int(info.st_size), modified = info.st_mtim
        // Per reader: each reads different objects, so a pass by one says nothing for another.
        let signature = "\(reader)|\(name)|\(size)|\(modified.tv_sec).\(modified.tv_nsec)"
        let pid: pid_t? = withLock {
            if checked.contains(signature) { return nil }
            return fork()
        }
        guard let pid else { return }
        if pid == 0 {   // the child: read everything, exit without cleanup
            // A crash must end the child at once and silently: default signal actions (no
            // crash report from the Swift runtime) and no stderr (libhdf5 may print).
            for sig in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP] { signal(sig, SIG_DFL) }
            let null = Glibc.open("/dev/null", O_WRONLY)
            if null >= 0 { dup2(null, 2) }
            readEverything(name)
            _exit(0)
        }
        guard pid > 0 else { throw DatasetError.io(file: name, reason: "fork: \(String(cString: strerror(errno)))") }
        // A corrupt file can also make libhdf5 loop forever: give the child a time limit that
        // grows with the file (60 s, plus 1 s per 8 MB; SPIKEFUSE_HDF5_CHECK_SECONDS replaces
        // the 60, for tests and fuzzing), then kill it.
        let base = ProcessInfo.processInfo.environment["SPIKEFUSE_HDF5_CHECK_SECONDS"].flatMap(Double.init) ?? 60
        let limit = base + Double(size) / 8e6
        var status: Int32 = 0
        let start = Date()
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { throw DatasetError.io(file: name, reason: "waitpid: \(String(cString: strerror(errno)))") }
            if Date().timeIntervalSince(start) > limit {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                throw DatasetError.io(file: name, reason: "reading this file did not finish within \(Int(limit)) s "
                                      + "(the HDF5 library looping on a corrupt file): it is corrupt")
            }
            usleep(2_000)
        }
        let signal = status & 0x7f, code = (status >> 8) & 0xff
        if signal != 0 {
            throw DatasetError.io(file: name, reason: "the HDF5 library crashed (signal \(signal)) reading this file: it is corrupt")
        }
        guard code == 0 else {   // the child always exits 0 unless something aborted it (a sanitizer, a fatal error)
            throw DatasetError.io(file: name, reason: "reading this file aborted the checking process (exit \(code)): it is corrupt")
        }
        withLock { _ = checked.insert(signature) }
    }
}
