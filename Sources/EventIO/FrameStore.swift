import Dispatch
import AtomicFiles
import Foundation
import SpikeTensor

/// What to do when one source file of a dataset cannot be read or framed.
public enum BadFilePolicy: String, Sendable, Codable, Hashable {
    /// Leave the sample out, print a warning to stderr and count it.
    case skip
    /// Stop loading and throw the error.
    case stop
}

/// How a `FrameStore` keeps its frames, from the most to the least compact.
public enum FrameEncoding: UInt32, Sendable, Codable, Comparable {
    /// 1 bit per value (values 0 or 1: binary framing).
    case bits = 0
    /// 1 byte per value (integers 0…255: event counts).
    case uint8 = 1
    /// 4 bytes per value (anything else).
    case float32 = 2

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// Bytes one record of `elements` values takes.
    public func recordBytes(elements: Int) -> Int {
        switch self {
        case .bits: return (elements + 7) / 8
        case .uint8: return elements
        case .float32: return elements * 4
        }
    }

    /// True when every value can be stored exactly in this encoding.
    func holds(_ values: [Float]) -> Bool {
        switch self {
        case .bits: return values.allSatisfy { $0 == 0 || $0 == 1 }
        case .uint8: return values.allSatisfy { $0 >= 0 && $0 <= 255 && $0 == $0.rounded() }
        case .float32: return true
        }
    }
}

/// Framed samples of one kind (all of the same shape), packed compactly and decoded to a
/// `Tensor` on demand; kept in memory or in a cache file that is memory-mapped on load.
///
/// Cache file (`{name}-{FNV-1a-64 of key, hex}.sfcache`), little-endian:
/// `"SFCACHE1"`, u32 version (2), u32 key length, key bytes (UTF-8), u32 encoding,
/// u32 rank, rank × u32 dims, u64 count, then `count` records of
/// `encoding.recordBytes(shape.product)` bytes, then `count` validity bytes (1 = framed,
/// 0 = source file skipped), then `count` u64 record checksums (`recordChecksum`: record
/// index, validity byte and record bytes). The full key (source files with path, size,
/// mtime, ctime and inode, and the framing settings) is stored and compared exactly, so any
/// change rebuilds the cache. Every checksum is verified when the file is opened: a zeroed,
/// swapped or bit-flipped record, or a changed validity byte, rebuilds the file with a
/// warning naming it. Files are written to a temporary name and renamed into place (atomic).
public struct FrameStore: Sendable {
    /// Where the frames came from.
    public enum Origin: Sendable, Equatable {
        /// Framed now, kept in memory (no cache directory).
        case memory
        /// Loaded from an up-to-date cache file.
        case cacheHit
        /// Framed now and written to a new cache file.
        case cacheBuilt
    }

    /// Shape of one sample, e.g. `[T, P, H, W]`.
    public let shape: [Int]
    public let encoding: FrameEncoding
    public let count: Int
    /// `valid[i]` is false when sample i's source could not be read (policy `.skip`).
    public let valid: [Bool]
    public let origin: Origin
    /// The cache file, when there is one.
    public let file: URL?
    /// Why an existing cache file was not used and was rebuilt (corrupt: names the file and
    /// what failed); nil when there was none or it was merely out of date.
    public internal(set) var rebuildReason: String? = nil
    private let data: Data
    private let recordsOffset: Int

    static let magic = Array("SFCACHE1".utf8)
    static let version: UInt32 = 2

    /// Elements per sample.
    public var elementCount: Int { shape.reduce(1, *) }

    /// Sample `index` as a tensor of `shape`. Precondition: `valid[index]`.
    public func tensor(_ index: Int) -> Tensor {
        precondition(index >= 0 && index < count && valid[index], "FrameStore: no sample \(index)")
        let n = elementCount
        let recordBytes = encoding.recordBytes(elements: n)
        var scalars = [Float](repeating: 0, count: n)
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let base = raw.baseAddress! + recordsOffset + index * recordBytes
            scalars.withUnsafeMutableBufferPointer { out in
                switch encoding {
                case .bits:
                    let bytes = base.assumingMemoryBound(to: UInt8.self)
                    for b in 0..<recordBytes where bytes[b] != 0 {
                        let byte = bytes[b]
                        for bit in 0..<8 where (byte >> bit) & 1 == 1 && b * 8 + bit < n {
                            out[b * 8 + bit] = 1
                        }
                    }
                case .uint8:
                    let bytes = base.assumingMemoryBound(to: UInt8.self)
                    for i in 0..<n { out[i] = Float(bytes[i]) }
                case .float32:
                    for i in 0..<n { out[i] = base.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
                }
            }
        }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// Sample `index` decoded straight into row `row` of a time-major batch of `batch` samples:
    /// frame t (`elementCount / T` values) goes to `out + (t·batch + row)·F`, so a batch is
    /// assembled without a per-sample tensor and a second copy (`tensor` then
    /// `stackTimeMajor`, which this is tested against). `out` must be zeroed where the sample
    /// goes: bit records write only their ones, 64 bits at a time.
    // record [T, F] → out [T, batch, F] at row `row`
    public func decode(_ index: Int, row: Int, of batch: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(index >= 0 && index < count && valid[index], "FrameStore: no sample \(index)")
        precondition(row >= 0 && row < batch, "FrameStore.decode: row \(row) outside a batch of \(batch)")
        let n = elementCount, steps = shape[0], frame = n / max(steps, 1)
        let recordBytes = encoding.recordBytes(elements: n)
        // element i of the record (frame i / F, position i mod F) → its place in the batch
        @inline(__always) func place(_ i: Int) -> Int { (i / frame * batch + row) * frame + i % frame }
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let base = raw.baseAddress! + recordsOffset + index * recordBytes
            switch encoding {
            case .bits:
                var byte = 0
                while byte < recordBytes {
                    var word: UInt64 = 0
                    let take = min(8, recordBytes - byte)
                    withUnsafeMutableBytes(of: &word) { $0.baseAddress!.copyMemory(from: base + byte, byteCount: take) }
                    word = UInt64(littleEndian: word)
                    while word != 0 {
                        let i = byte * 8 + word.trailingZeroBitCount
                        word &= word &- 1
                        if i < n { out[place(i)] = 1 }
                    }
                    byte += take
                }
            case .uint8:
                let bytes = base.assumingMemoryBound(to: UInt8.self)
                for t in 0..<steps {
                    let dst = out + (t * batch + row) * frame, src = bytes + t * frame
                    for f in 0..<frame { dst[f] = Float(src[f]) }
                }
            case .float32:
                for i in 0..<n { out[place(i)] = base.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
            }
        }
    }

    /// Packs one sample into `out` (`encoding.recordBytes` bytes, zeroed by the caller).
    static func encode(_ values: [Float], as encoding: FrameEncoding, into out: UnsafeMutableRawPointer) {
        switch encoding {
        case .bits:
            let bytes = out.assumingMemoryBound(to: UInt8.self)
            for i in 0..<values.count where values[i] == 1 { bytes[i >> 3] |= UInt8(1) << UInt8(i & 7) }
        case .uint8:
            let bytes = out.assumingMemoryBound(to: UInt8.self)
            for i in 0..<values.count { bytes[i] = UInt8(values[i]) }
        case .float32:
            for i in 0..<values.count { out.storeBytes(of: values[i], toByteOffset: 4 * i, as: Float.self) }
        }
    }

    /// FNV-1a 64-bit hash (names cache files; the full key is compared anyway).
    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }

    /// Checksum of record `index`: a 64-bit multiply–xor hash over its validity byte and its
    /// bytes, 8 at a time, seeded by the index. Each step is a bijection of the running value,
    /// so any change confined to one 8-byte word, or a record moved to another index, changes it.
    static func recordChecksum(index: Int, valid: Bool, bytes: UnsafeRawBufferPointer) -> UInt64 {
        let prime: UInt64 = 0x0000_0100_0000_01b3
        var h = (0xcbf2_9ce4_8422_2325 ^ UInt64(truncatingIfNeeded: index)) &* 0x9E37_79B9_7F4A_7C15
        h = (h ^ (valid ? 1 : 2)) &* prime
        let n = bytes.count
        var i = 0
        while i + 8 <= n {
            h = (h ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self).littleEndian) &* prime
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = UInt64(n - i) << 56
        for k in 0..<(n - i) { tail |= UInt64(bytes[i + k]) << (8 * UInt64(k)) }
        h = (h ^ tail) &* prime
        h ^= h >> 32
        return h
    }

    /// Where a store named `name` with `key` lives in `directory`.
    public static func cacheFile(directory: URL, name: String, key: String) -> URL {
        directory.appendingPathComponent("\(name)-\(String(fnv1a(key), radix: 16)).sfcache")
    }
}

extension FrameStore {
    /// A cache location: folder, store name and the key that must match.
    public struct CacheSpec: Sendable {
        public var directory: URL
        public var name: String
        public var key: String
        public init(directory: URL, name: String, key: String) {
            self.directory = directory; self.name = name; self.key = key
        }
    }

    /// Loads the store from `cache` when an up-to-date file exists, else frames all `count`
    /// samples with `frame` (in parallel on 2 threads, `frame` must be thread-safe) and
    /// writes the cache (or keeps the frames in memory when `cache` is nil).
    ///
    /// - Parameters:
    ///   - preferred: the most compact encoding to try; a sample it cannot hold exactly
    ///     (e.g. a count above 255 in `.uint8`) restarts the build with the next wider one.
    ///   - label: names the samples in progress lines and warnings.
    ///   - progress: print `label: done/total (samples/s)` lines to stderr while framing.
    ///   - policy: `.skip` marks failing samples invalid and warns; `.stop` throws.
    /// - Returns: the store and the messages of samples that failed now (empty on a hit).
    public static func load(count: Int, shape: [Int], preferred: FrameEncoding, cache: CacheSpec?,
                            label: String, progress: Bool, policy: BadFilePolicy,
                            frame: @escaping @Sendable (Int) throws -> Tensor) throws -> (FrameStore, [String]) {
        try load(count: count, shape: shape, preferred: preferred, cache: cache, label: label, progress: progress,
                 policy: policy, writeFailure: nil, frame: frame)
    }

    /// `load`; `writeFailure` (tests) is asked before each write to the cache file and fails
    /// that write with the reason it returns (a full disk, without filling one).
    static func load(count: Int, shape: [Int], preferred: FrameEncoding, cache: CacheSpec?,
                     label: String, progress: Bool, policy: BadFilePolicy,
                     writeFailure: (@Sendable (URL) -> String?)?,
                     frame: @escaping @Sendable (Int) throws -> Tensor) throws -> (FrameStore, [String]) {
        var rebuildReason: String?
        if let cache {
            do {
                if let hit = try open(cache, shape: shape, count: count) { return (hit, []) }
            } catch {
                rebuildReason = "\(error)"
                FileHandle.standardError.write(Data("warning: \(label): \(error); rebuilding it\n".utf8))
            }
        }
        var encoding = preferred
        while true {
            do {
                var (store, failures) = try build(count: count, shape: shape, encoding: encoding, cache: cache,
                                                  label: label, progress: progress, policy: policy,
                                                  writeFailure: writeFailure, frame: frame)
                store.rebuildReason = rebuildReason
                return (store, failures)
            } catch let wider as NeedsWiderEncoding {
                encoding = wider.encoding
            }
        }
    }

    struct NeedsWiderEncoding: Error { let encoding: FrameEncoding }

    /// Opens a cache file; nil when absent or stale, throws `DatasetError.corruptCache`
    /// naming the file when it is corrupt (any record failing its checksum included).
    static func open(_ cache: CacheSpec, shape: [Int], count: Int) throws -> FrameStore? {
        let url = cacheFile(directory: cache.directory, name: cache.name, key: cache.key)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw DatasetError.corruptCache(file: url.path, reason: "unreadable: \(error.localizedDescription)")
        }
        var offset = 0
        func bytes(_ n: Int) throws -> Data {
            guard n >= 0, offset + n <= data.count else {
                throw DatasetError.corruptCache(file: url.path, reason: "truncated at byte \(offset)")
            }
            defer { offset += n }
            return data.subdata(in: offset..<(offset + n))
        }
        func u32() throws -> UInt32 { try bytes(4).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self).littleEndian } }
        guard Array(try bytes(8)) == magic, try u32() == version else {
            throw DatasetError.corruptCache(file: url.path, reason: "not a SpikeFuse cache file of version \(version)")
        }
        let keyLength = Int(try u32())
        guard String(decoding: try bytes(keyLength), as: UTF8.self) == cache.key else { return nil }
        guard let encoding = FrameEncoding(rawValue: try u32()) else {
            throw DatasetError.corruptCache(file: url.path, reason: "unknown encoding")
        }
        let rank = Int(try u32())
        guard rank == shape.count else { return nil }
        let dims = try (0..<rank).map { _ in Int(try u32()) }
        let rawCount = try bytes(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian }
        guard let storedCount = Int(exactly: rawCount) else {   // found by FrameCacheFuzz: trapped here before
            throw DatasetError.corruptCache(file: url.path, reason: "sample count \(rawCount) is not a count")
        }
        guard dims == shape, storedCount == count else { return nil }
        let recordBytes = encoding.recordBytes(elements: shape.reduce(1, *))
        let recordsOffset = offset
        let (records, overflow) = count.multipliedReportingOverflow(by: recordBytes + 9)
        guard !overflow, data.count - recordsOffset == records else {
            throw DatasetError.corruptCache(file: url.path, reason: "size \(data.count) does not match \(count) records")
        }
        let validityOffset = recordsOffset + count * recordBytes
        let checksumOffset = validityOffset + count
        var valid = [Bool](repeating: false, count: count)
        let bad: (index: Int, what: String)? = data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            for i in 0..<count {
                let v = raw[validityOffset + i]
                guard v <= 1 else { return (i, "validity byte \(v) is not 0 or 1") }
                valid[i] = v == 1
                let record = UnsafeRawBufferPointer(rebasing: raw[(recordsOffset + i * recordBytes)..<(recordsOffset + (i + 1) * recordBytes)])
                let stored = raw.loadUnaligned(fromByteOffset: checksumOffset + 8 * i, as: UInt64.self).littleEndian
                if recordChecksum(index: i, valid: v == 1, bytes: record) != stored {
                    return (i, "record \(i) or its validity byte fails its checksum")
                }
            }
            return nil
        }
        if let bad {
            throw DatasetError.corruptCache(file: url.path, reason: bad.what + " (at byte \(recordsOffset + bad.index * recordBytes))")
        }
        return FrameStore(shape: shape, encoding: encoding, count: count, valid: valid, origin: .cacheHit,
                          file: url, data: data, recordsOffset: recordsOffset)
    }

    /// Frames everything and writes the cache (or keeps it in memory).
    private static func build(count: Int, shape: [Int], encoding: FrameEncoding, cache: CacheSpec?,
                              label: String, progress: Bool, policy: BadFilePolicy,
                              writeFailure: (@Sendable (URL) -> String?)?,
                              frame: @escaping @Sendable (Int) throws -> Tensor) throws -> (FrameStore, [String]) {
        let elements = shape.reduce(1, *)
        let recordBytes = encoding.recordBytes(elements: elements)
        var header = magic
        func append32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { header += $0 } }
        let keyBytes = Array((cache?.key ?? "").utf8)
        append32(version); append32(UInt32(keyBytes.count)); header += keyBytes
        append32(encoding.rawValue); append32(UInt32(shape.count)); shape.forEach { append32(UInt32($0)) }
        withUnsafeBytes(of: UInt64(count).littleEndian) { header += $0 }

        // Output: a temporary cache file, or memory.
        var memory = Data()
        var handle: FileHandle?
        var temporary: URL?
        let target = cache.map { cacheFile(directory: $0.directory, name: $0.name, key: $0.key) }
        /// Appends to the temporary cache file; a failure (e.g. a full disk) names the cache file.
        func write(_ bytes: Data) throws {
            guard let handle, let target, let temporary else { return }
            var failure = writeFailure?(target)
            if failure == nil {
                do { try handle.write(contentsOf: bytes) } catch { failure = error.localizedDescription }
            }
            if let failure {
                throw DatasetError.io(file: target.path,
                                      reason: "cannot write the frame cache file (via \(temporary.lastPathComponent)): \(failure)")
            }
        }
        if let cache, let target {
            do {
                try FileManager.default.createDirectory(at: cache.directory, withIntermediateDirectories: true)
            } catch {
                throw DatasetError.io(file: target.path, reason: "cannot create the cache folder \(cache.directory.path): \(error.localizedDescription)")
            }
            let tmp = AtomicFile.temporaryURL(for: target)
            guard FileManager.default.createFile(atPath: tmp.path, contents: nil),
                  let h = try? FileHandle(forWritingTo: tmp) else {
                throw DatasetError.io(file: target.path, reason: "cannot create the temporary cache file \(tmp.path)")
            }
            handle = h; temporary = tmp
        } else {
            memory.reserveCapacity(header.count + count * (recordBytes + 1))
            memory.append(contentsOf: header)
        }
        var succeeded = false
        defer {
            try? handle?.close()
            if !succeeded, let temporary { try? FileManager.default.removeItem(at: temporary) }
        }
        if handle != nil { try write(Data(header)) }

        var valid = [Bool](repeating: false, count: count)
        var checksums: [UInt64] = []
        checksums.reserveCapacity(count)
        var failures: [String] = []
        let start = Date()
        let block = 64
        var done = 0
        var lastReport = start
        while done < count {
            let n = min(block, count - done)
            let first = done
            let results = ParallelResults(count: n, recordBytes: recordBytes)
            DispatchQueue.concurrentPerform(iterations: 2) { worker in
                for j in stride(from: worker, to: n, by: 2) {
                    do {
                        let t = try frame(first + j)
                        guard t.shape == shape else {
                            results.setError(j, "frame of shape \(t.shape), expected \(shape)")
                            continue
                        }
                        guard encoding.holds(t.scalars) else { results.setWider(j); continue }
                        results.withRecord(j) { encode(t.scalars, as: encoding, into: $0) }
                        results.setOK(j)
                    } catch {
                        results.setError(j, "\(error)")
                    }
                }
            }
            if results.needsWider {
                throw NeedsWiderEncoding(encoding: FrameEncoding(rawValue: encoding.rawValue + 1) ?? .float32)
            }
            for j in 0..<n {
                if let message = results.error(j) {
                    if policy == .stop {
                        throw DatasetError.io(file: label, reason: "sample \(first + j): \(message)")
                    }
                    failures.append(message)
                    FileHandle.standardError.write(Data("warning: \(label): skipping sample \(first + j): \(message)\n".utf8))
                } else {
                    valid[first + j] = true
                }
            }
            let chunk = results.records()
            chunk.withUnsafeBytes { raw in
                for j in 0..<n {
                    let record = UnsafeRawBufferPointer(rebasing: raw[(j * recordBytes)..<((j + 1) * recordBytes)])
                    checksums.append(recordChecksum(index: first + j, valid: valid[first + j], bytes: record))
                }
            }
            if handle != nil { try write(chunk) } else { memory.append(chunk) }
            done += n
            if progress, done == count || Date().timeIntervalSince(lastReport) >= 1 {
                lastReport = Date()
                let rate = Double(done) / max(Date().timeIntervalSince(start), 1e-6)
                FileHandle.standardError.write(Data("\(label): \(done)/\(count) samples (\(Int(rate)) samples/s)\n".utf8))
            }
        }
        var validity = Data(valid.map { $0 ? 1 : 0 })
        for c in checksums { withUnsafeBytes(of: c.littleEndian) { validity.append(contentsOf: $0) } }
        if let handle, let temporary, let url = target {
            try write(validity)
            do { try handle.close() } catch {
                throw DatasetError.io(file: url.path, reason: "cannot write the frame cache file: \(error)")
            }
            do { try AtomicFile.commit(temporary, to: url) } catch {
                throw DatasetError.io(file: url.path, reason: "cannot put the cache file into place: \(error.reason)")
            }
            succeeded = true
            let data = try Data(contentsOf: url, options: .alwaysMapped)
            return (FrameStore(shape: shape, encoding: encoding, count: count, valid: valid, origin: .cacheBuilt,
                               file: url, data: data, recordsOffset: header.count), failures)
        }
        memory.append(validity)
        succeeded = true
        return (FrameStore(shape: shape, encoding: encoding, count: count, valid: valid, origin: .memory,
                           file: nil, data: memory, recordsOffset: header.count), failures)
    }
}

/// Per-block results written by the two framing threads.
/// `@unchecked Sendable`: each thread writes only the slots `j` it owns (disjoint records
/// and status entries); the flag `wider` is guarded by `lock`; the owner reads after
/// `concurrentPerform` has returned (which orders all writes before the reads).
private final class ParallelResults: @unchecked Sendable {
    /// Raw memory (not a Swift array) so the two threads can write disjoint records
    /// without a simultaneous-access conflict on one array property.
    private let buffer: UnsafeMutableRawBufferPointer
    private var errors: [String?]
    private let recordBytes: Int
    private let lock = NSLock()
    private var wider = false

    init(count: Int, recordBytes: Int) {
        self.recordBytes = recordBytes
        buffer = .allocate(byteCount: max(count * recordBytes, 1), alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        errors = [String?](repeating: nil, count: count)
    }
    deinit { buffer.deallocate() }

    func withRecord(_ j: Int, _ body: (UnsafeMutableRawPointer) -> Void) {
        body(buffer.baseAddress! + j * recordBytes)
    }
    func setOK(_ j: Int) { lock.lock(); errors[j] = nil; lock.unlock() }
    func setError(_ j: Int, _ message: String) { lock.lock(); errors[j] = message; lock.unlock() }
    func setWider(_ j: Int) { lock.lock(); wider = true; lock.unlock() }
    var needsWider: Bool { lock.lock(); defer { lock.unlock() }; return wider }
    func error(_ j: Int) -> String? { lock.lock(); defer { lock.unlock() }; return errors[j] }
    func records() -> Data { Data(bytes: buffer.baseAddress!, count: errors.count * recordBytes) }
}
