import Dispatch
import AtomicFiles
import Foundation

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
/// `"SFCACHE1"`, u32 version (1), u32 key length, key bytes (UTF-8), u32 encoding,
/// u32 rank, rank × u32 dims, u64 count, then `count` records of
/// `encoding.recordBytes(shape.product)` bytes, then `count` validity bytes (1 = framed,
/// 0 = source file skipped). The full key (source files with size and mtime, and the
/// framing settings) is stored and compared exactly, so any change rebuilds the cache.
/// Files are written to a temporary name and renamed into place (atomic).
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
    private let data: Data
    private let recordsOffset: Int

    static let magic = Array("SFCACHE1".utf8)
    static let version: UInt32 = 1

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
        if let cache, let hit = try? open(cache, shape: shape, count: count) { return (hit, []) }
        var encoding = preferred
        while true {
            do {
                return try build(count: count, shape: shape, encoding: encoding, cache: cache,
                                 label: label, progress: progress, policy: policy, frame: frame)
            } catch let wider as NeedsWiderEncoding {
                encoding = wider.encoding
            }
        }
    }

    struct NeedsWiderEncoding: Error { let encoding: FrameEncoding }

    /// Opens a cache file; nil when absent or stale, throws when corrupt.
    static func open(_ cache: CacheSpec, shape: [Int], count: Int) throws -> FrameStore? {
        let url = cacheFile(directory: cache.directory, name: cache.name, key: cache.key)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let data = try Data(contentsOf: url, options: .alwaysMapped)
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
        guard data.count == recordsOffset + count * recordBytes + count else {
            throw DatasetError.corruptCache(file: url.path, reason: "size \(data.count) does not match \(count) records")
        }
        let valid = data[(recordsOffset + count * recordBytes)...].map { $0 != 0 }
        return FrameStore(shape: shape, encoding: encoding, count: count, valid: valid, origin: .cacheHit,
                          file: url, data: data, recordsOffset: recordsOffset)
    }

    /// Frames everything and writes the cache (or keeps it in memory).
    private static func build(count: Int, shape: [Int], encoding: FrameEncoding, cache: CacheSpec?,
                              label: String, progress: Bool, policy: BadFilePolicy,
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
        if let cache {
            try? FileManager.default.createDirectory(at: cache.directory, withIntermediateDirectories: true)
            let tmp = AtomicFile.temporaryURL(for: cacheFile(directory: cache.directory, name: cache.name, key: cache.key))
            guard FileManager.default.createFile(atPath: tmp.path, contents: Data(header)),
                  let h = try? FileHandle(forWritingTo: tmp) else {
                throw DatasetError.io(file: tmp.path, reason: "cannot create a cache file")
            }
            _ = try? h.seekToEnd()
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

        var valid = [Bool](repeating: false, count: count)
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
            if let handle { try handle.write(contentsOf: chunk) } else { memory.append(chunk) }
            done += n
            if progress, done == count || Date().timeIntervalSince(lastReport) >= 1 {
                lastReport = Date()
                let rate = Double(done) / max(Date().timeIntervalSince(start), 1e-6)
                FileHandle.standardError.write(Data("\(label): \(done)/\(count) samples (\(Int(rate)) samples/s)\n".utf8))
            }
        }
        let validity = Data(valid.map { $0 ? 1 : 0 })
        if let handle, let temporary, let cache {
            try handle.write(contentsOf: validity)
            try handle.close()
            let url = cacheFile(directory: cache.directory, name: cache.name, key: cache.key)
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
