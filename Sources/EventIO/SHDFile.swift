@preconcurrency import CHDF5
import Foundation

/// A Spiking Heidelberg Digits file (Cramer et al., 2020: `shd_train.h5`, `shd_test.h5`):
/// spoken digits 0–9 in English (labels 0–9) and German (labels 10–19), through a model of
/// the inner ear and 700 auditory nerve fibres.
///
/// HDF5 layout: `spikes/times` (N,) variable-length arrays of spike times in seconds,
/// `spikes/units` (N,) variable-length arrays of fibre indices 0…699, `labels` (N,) integers.
/// Optional `extra/keys` (the class names) is ignored. The file stays open; each sample is
/// read on its own (one element of the variable-length datasets), so opening a file costs
/// only the labels.
public struct SHDFile: Sendable {
    public static let channelCount = 700
    public static let classCount = 20
    public let url: URL
    /// Label of each sample, 0…19.
    public let labels: [Int]
    public var count: Int { labels.count }
    private let handle: HDF5Library.FileHandle

    /// The digit a label stands for in either language (label mod 10), as the joint
    /// dataset's 10 classes use it.
    public static func digit(label: Int) -> Int { label % 10 }

    /// Opens `url` and reads its labels; errors name the file and what is wrong.
    public static func open(_ url: URL) throws -> SHDFile {
        let name = url.path
        // A file that crashes or hangs libhdf5 is an error here, not a dead run (HDF5ChildCheck).
        // The child must not take the HDF5 lock (its owner thread does not exist there): raw calls.
        try HDF5Library.checkInChildProcess(name, reader: "SHD") { name in
            let file = H5Fopen(name, HDF5Library.readOnly, 0)
            guard file >= 0 else { return }
            defer { H5Fclose(file) }
            let labels = H5Dopen2(file, "labels", 0)
            guard labels >= 0 else { return }
            defer { H5Dclose(labels) }
            guard let n = try? elementCount(labels, path: "labels", name: name) else { return }
            for i in 0..<n {
                _ = try? readElement(file, path: "spikes/times", index: i, name: name)
                _ = try? readElement(file, path: "spikes/units", index: i, name: name)
            }
        }
        return try readLabels(url)
    }

    private static func readLabels(_ url: URL) throws -> SHDFile {
        let name = url.path
        let (labels, handle): ([Int], HDF5Library.FileHandle) = try HDF5Library.withLock {
            let file = H5Fopen(name, HDF5Library.readOnly, HDF5Library.defaultID)
            guard file >= 0 else { throw DatasetError.io(file: name, reason: "not an HDF5 file (H5Fopen failed)") }
            let handle = HDF5Library.FileHandle(id: file)   // closes the file on any error below
            for path in ["spikes", "spikes/times", "spikes/units", "labels"] where H5Lexists(file, path, 0) <= 0 {
                throw DatasetError.missingObject(file: name, path: path)
            }
            let dataset = H5Dopen2(file, "labels", 0)
            guard dataset >= 0 else { throw DatasetError.hdf5(file: name, path: "labels", operation: "H5Dopen2") }
            defer { H5Dclose(dataset) }
            let n = try elementCount(dataset, path: "labels", name: name)
            var values = [Int64](repeating: 0, count: n)
            if n > 0, H5Dread(dataset, HDF5Library.types().nativeInt64, 0, 0, 0, &values) < 0 {
                throw DatasetError.unsupportedType(file: name, path: "labels", reason: "not integers")
            }
            for path in ["spikes/times", "spikes/units"] {
                let d = H5Dopen2(file, path, 0)
                guard d >= 0 else { throw DatasetError.hdf5(file: name, path: path, operation: "H5Dopen2") }
                defer { H5Dclose(d) }
                let m = try elementCount(d, path: path, name: name)
                guard m == n else {
                    throw DatasetError.unsupportedType(file: name, path: path, reason: "\(m) samples, but labels has \(n)")
                }
            }
            return (values.map { Int($0) }, handle)
        }
        for (i, label) in labels.enumerated() where !(0..<classCount).contains(label) {
            throw DatasetError.unsupportedType(file: name, path: "labels", reason: "sample \(i) has label \(label), outside 0…19")
        }
        return SHDFile(url: url, labels: labels, handle: handle)
    }

    /// The spikes of sample `index` as cochlea events (700 channels, t in µs = seconds × 10⁶
    /// rounded), in file order.
    public func events(_ index: Int) throws -> CochleaEvents {
        let name = url.path
        precondition(index >= 0 && index < count, "SHD sample \(index) out of 0..<\(count)")
        let (times, units): ([Double], [Double]) = try HDF5Library.withLock {
            (try Self.readElement(handle.id, path: "spikes/times", index: index, name: name),
             try Self.readElement(handle.id, path: "spikes/units", index: index, name: name))
        }
        guard times.count == units.count else {
            throw DatasetError.unsupportedType(file: name, path: "spikes", reason: "sample \(index) has \(times.count) times and \(units.count) units")
        }
        var events = CochleaEvents(channelCount: Self.channelCount)
        events.t.reserveCapacity(times.count); events.channel.reserveCapacity(times.count)
        for i in times.indices {
            let t = times[i], u = units[i]
            guard t.isFinite, t >= 0, t < 1e6 else {
                throw DatasetError.badTimestamp(file: name, key: "sample \(index)", index: i, value: t)
            }
            guard u >= 0, u < Double(Self.channelCount), u == u.rounded() else {
                throw DatasetError.addressOutOfRange(file: name, key: "sample \(index)", index: i, value: u)
            }
            events.t.append(Int64((t * 1e6).rounded()))
            events.channel.append(UInt16(u))
        }
        return events
    }

    /// Writes samples in the SHD layout (times as float32 seconds, units uint16, labels
    /// uint8), atomically. For test fixtures and converted data.
    public static func write(_ samples: [(label: Int, events: CochleaEvents)], to url: URL) throws {
        let name = url.path
        for (i, s) in samples.enumerated() {
            guard (0..<classCount).contains(s.label) else {
                throw DatasetError.io(file: name, reason: "sample \(i) has label \(s.label), outside 0…19")
            }
            if let bad = s.events.channel.firstIndex(where: { Int($0) >= channelCount }) {
                throw DatasetError.addressOutOfRange(file: name, key: "sample \(i)", index: bad, value: Double(s.events.channel[bad]))
            }
        }
        try HDF5Library.createAtomically(url) { file in
            let spikes = H5Gcreate2(file, "spikes", 0, 0, 0)
            guard spikes >= 0 else { throw DatasetError.hdf5(file: name, path: "spikes", operation: "H5Gcreate2") }
            H5Gclose(spikes)
            let types = HDF5Library.types()
            try writeVariableLength(file, path: "spikes/times", base: types.float32LE, memoryBase: types.nativeFloat,
                                    arrays: samples.map { $0.events.t.map { Float(Double($0) / 1e6) } }, name: name)
            try writeVariableLength(file, path: "spikes/units", base: H5T_STD_U16LE_g, memoryBase: H5T_NATIVE_UINT16_g,
                                    arrays: samples.map { $0.events.channel }, name: name)
            var labels = samples.map { UInt8($0.label) }
            var dims: [hsize_t] = [hsize_t(samples.count)]
            let space = H5Screate_simple(1, &dims, nil)
            defer { H5Sclose(space) }
            let dataset = H5Dcreate2(file, "labels", types.uint8LE, space, 0, 0, 0)
            guard dataset >= 0 else { throw DatasetError.hdf5(file: name, path: "labels", operation: "H5Dcreate2") }
            defer { H5Dclose(dataset) }
            if !labels.isEmpty, H5Dwrite(dataset, types.nativeUInt8, 0, 0, 0, &labels) < 0 {
                throw DatasetError.hdf5(file: name, path: "labels", operation: "H5Dwrite")
            }
        }
    }

    // MARK: HDF5 helpers (callers hold the lock)

    private static func elementCount(_ dataset: hid_t, path: String, name: String) throws -> Int {
        let space = H5Dget_space(dataset)
        defer { H5Sclose(space) }
        guard H5Sget_simple_extent_ndims(space) == 1 else {
            throw DatasetError.unsupportedType(file: name, path: path, reason: "not 1-D")
        }
        let n = Int(H5Sget_simple_extent_npoints(space))
        guard n >= 0, n < 1 << 24 else { throw DatasetError.unsupportedType(file: name, path: path, reason: "\(n) elements") }
        return n
    }

    /// Element `index` of a 1-D variable-length numeric dataset, converted to doubles.
    private static func readElement(_ file: hid_t, path: String, index: Int, name: String) throws -> [Double] {
        let dataset = H5Dopen2(file, path, 0)
        guard dataset >= 0 else { throw DatasetError.hdf5(file: name, path: path, operation: "H5Dopen2") }
        defer { H5Dclose(dataset) }
        let type = H5Dget_type(dataset)
        defer { H5Tclose(type) }
        guard H5Tget_class(type) == H5T_VLEN else {
            throw DatasetError.unsupportedType(file: name, path: path, reason: "not variable-length arrays")
        }
        let fileSpace = H5Dget_space(dataset)
        defer { H5Sclose(fileSpace) }
        var start: [hsize_t] = [hsize_t(index)], one: [hsize_t] = [1]
        guard H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &start, nil, &one, nil) >= 0 else {
            throw DatasetError.hdf5(file: name, path: path, operation: "H5Sselect_hyperslab")
        }
        let memorySpace = H5Screate_simple(1, &one, nil)
        defer { H5Sclose(memorySpace) }
        let memoryType = H5Tvlen_create(HDF5Library.types().nativeDouble)
        defer { H5Tclose(memoryType) }
        var element = hvl_t()
        guard H5Dread(dataset, memoryType, memorySpace, fileSpace, 0, &element) >= 0 else {
            throw DatasetError.unsupportedType(file: name, path: path, reason: "element \(index) does not convert to numbers")
        }
        defer { _ = H5Dvlen_reclaim(memoryType, memorySpace, 0, &element) }
        guard element.len < 1 << 26 else { throw DatasetError.unsupportedType(file: name, path: path, reason: "\(element.len) values") }
        guard element.len > 0, let p = element.p else { return [] }
        return Array(UnsafeBufferPointer(start: p.assumingMemoryBound(to: Double.self), count: element.len))
    }

    private static func writeVariableLength<T>(_ file: hid_t, path: String, base: hid_t, memoryBase: hid_t,
                                               arrays: [[T]], name: String) throws {
        let fileType = H5Tvlen_create(base), memoryType = H5Tvlen_create(memoryBase)
        defer { H5Tclose(fileType); H5Tclose(memoryType) }
        var dims: [hsize_t] = [hsize_t(arrays.count)]
        let space = H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        let dataset = H5Dcreate2(file, path, fileType, space, 0, 0, 0)
        guard dataset >= 0 else { throw DatasetError.hdf5(file: name, path: path, operation: "H5Dcreate2") }
        defer { H5Dclose(dataset) }
        guard !arrays.isEmpty else { return }
        let buffers = arrays.map { a -> UnsafeMutablePointer<T> in
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(a.count, 1))
            p.initialize(from: a, count: a.count)
            return p
        }
        defer { buffers.forEach { $0.deallocate() } }
        var elements = zip(arrays, buffers).map { hvl_t(len: $0.0.count, p: UnsafeMutableRawPointer($0.1)) }
        guard H5Dwrite(dataset, memoryType, 0, 0, 0, &elements) >= 0 else {
            throw DatasetError.hdf5(file: name, path: path, operation: "H5Dwrite")
        }
    }
}

/// An HDF5 file of cochlea-like events in either layout SpikeFuse reads, told apart by what
/// the file holds: SHD (`spikes/times`, `spikes/units`, `labels`) or N-TIDIGITS (the rest).
/// Errors other than "this is not the SHD layout" (a corrupt file, a missing file) are the
/// SHD reader's and are not hidden behind an N-TIDIGITS attempt.
public enum CochleaHDF5File {
    case shd(SHDFile)
    case ntidigits(NTidigitsFile)

    public static func open(_ url: URL) throws -> CochleaHDF5File {
        do {
            return .shd(try SHDFile.open(url))
        } catch DatasetError.missingObject {
            return .ntidigits(try NTidigitsFile.open(url))
        }
    }
}
