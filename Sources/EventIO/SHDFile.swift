@preconcurrency import CHDF5
import Foundation
import SpikeTensor

/// A Spiking Heidelberg Digits file (Cramer et al., 2020: `shd_train.h5`, `shd_test.h5`):
/// spoken digits 0–9 in English (labels 0–9) and German (labels 10–19), through a model of
/// the inner ear and 700 auditory nerve fibres. The Spiking Speech Commands files
/// (`ssc_train.h5`, `ssc_valid.h5`, `ssc_test.h5`) have the same layout with 35 classes.
///
/// HDF5 layout: `spikes/times` (N,) variable-length arrays of spike times in seconds,
/// non-decreasing within a sample, `spikes/units` (N,) variable-length arrays of fibre
/// indices 0…699, `labels` (N,) integers (or floats holding integers), optional
/// `extra/keys` (the class names, label k named by key k: 20 for SHD, 35 for SSC). The file
/// stays open; each sample is read on its own (one element of the variable-length datasets),
/// so opening a file costs the labels, the class names and a bounded check of the
/// variable-length heap references (`HDF5VariableLengthCheck`).
public struct SHDFile: Sendable {
    public static let channelCount = 700
    /// SHD's classes (without `extra/keys`, a file is taken to have these).
    public static let classCount = 20
    /// The Spiking Speech Commands' classes.
    public static let sscClassCount = 35
    public let url: URL
    /// Label of each sample, 0..<classes.
    public let labels: [Int]
    /// The class names from `extra/keys` (empty when the file has none).
    public let classNames: [String]
    /// The number of classes: the count of `extra/keys`, or SHD's 20 without them.
    public var classes: Int { classNames.isEmpty ? Self.classCount : classNames.count }
    public var count: Int { labels.count }
    private let handle: HDF5Library.FileHandle

    /// The digit a label stands for in either language (label mod 10), as the joint
    /// dataset's 10 classes use it (SHD only: SSC's labels are words, not digits).
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
            // Damaged heap references make libhdf5 read out of bounds or loop: leave them to
            // the bounded check this process makes (fast, and naming the sample).
            for path in ["spikes/times", "spikes/units", "extra/keys"] where H5Lexists(file, path, 0) > 0 {
                let d = H5Dopen2(file, path, 0)
                guard d >= 0 else { return }
                defer { H5Dclose(d) }
                if (try? HDF5VariableLengthCheck.check(file: file, dataset: d, path: path, name: name)) == nil { return }
            }
            if H5Lexists(file, "extra", 0) > 0, H5Lexists(file, "extra/keys", 0) > 0 {
                _ = try? readClassNames(file, name: name)
            }
            for i in 0..<n {
                _ = try? readElement(file, path: "spikes/times", index: i, name: name)
                _ = try? readElement(file, path: "spikes/units", index: i, name: name)
            }
        }
        return try readLabels(url)
    }

    private static func readLabels(_ url: URL) throws -> SHDFile {
        let name = url.path
        let (values, names, handle): ([Double], [String], HDF5Library.FileHandle) = try HDF5Library.withLock {
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
            let values = try readLabelValues(dataset, count: n, name: name)
            for path in ["spikes/times", "spikes/units"] {
                let d = H5Dopen2(file, path, 0)
                guard d >= 0 else { throw DatasetError.hdf5(file: name, path: path, operation: "H5Dopen2") }
                defer { H5Dclose(d) }
                let m = try elementCount(d, path: path, name: name)
                guard m == n else {
                    throw DatasetError.unsupportedType(file: name, path: path, reason: "\(m) samples, but labels has \(n)")
                }
                try HDF5VariableLengthCheck.check(file: file, dataset: d, path: path, name: name)
            }
            let names = H5Lexists(file, "extra", 0) > 0 && H5Lexists(file, "extra/keys", 0) > 0
                ? try readClassNames(file, name: name) : []
            return (values, names, handle)
        }
        let classes = names.isEmpty ? classCount : names.count
        var labels: [Int] = []
        labels.reserveCapacity(values.count)
        for (i, value) in values.enumerated() {
            guard value.isFinite, value == value.rounded() else {
                throw DatasetError.badLabel(file: name, path: "labels", index: i, value: value, reason: "is not an integer")
            }
            guard value >= 0, value < Double(classes) else {
                throw DatasetError.badLabel(file: name, path: "labels", index: i, value: value,
                                            reason: "is outside 0…\(classes - 1)" + (names.isEmpty ? " (no extra/keys: SHD's 20 classes)" : " (\(classes) names in extra/keys)"))
            }
            labels.append(Int(value))
        }
        return SHDFile(url: url, labels: labels, classNames: names, handle: handle)
    }

    /// The spikes of sample `index` as cochlea events (700 channels, t in µs = seconds × 10⁶
    /// rounded), in file order. Times must not decrease (the published files are sorted):
    /// a sample whose times do is an error naming it and the first event out of order.
    public func events(_ index: Int) throws -> CochleaEvents {
        let name = url.path
        guard index >= 0, index < count else {
            throw DatasetError.badConfiguration("\(name): sample \(index) out of 0..<\(count)")
        }
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
            let microseconds = Int64((t * 1e6).rounded())
            if let previous = events.t.last, microseconds < previous {
                throw DatasetError.timestampsDecreasing(file: name, key: "sample \(index)", index: i)
            }
            events.t.append(microseconds)
            events.channel.append(UInt16(u))
        }
        return events
    }

    /// Writes samples in the SHD layout (times as float32 seconds, units uint16, labels
    /// uint8, `classNames` as `extra/keys` when given), atomically. Labels must be in
    /// 0..<classNames.count (0…19 without names). For test fixtures and converted data.
    public static func write(_ samples: [(label: Int, events: CochleaEvents)], classNames: [String] = [],
                             to url: URL) throws {
        let name = url.path
        let classes = classNames.isEmpty ? classCount : classNames.count
        guard classes <= 256 else { throw DatasetError.io(file: name, reason: "\(classes) classes do not fit uint8 labels") }
        for (i, s) in samples.enumerated() {
            guard (0..<classes).contains(s.label) else {
                throw DatasetError.io(file: name, reason: "sample \(i) has label \(s.label), outside 0…\(classes - 1)")
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
            if !classNames.isEmpty { try writeClassNames(classNames, file: file, name: name) }
        }
    }

    /// `extra/keys`: variable-length UTF-8 strings, as h5py writes `str`.
    private static func writeClassNames(_ names: [String], file: hid_t, name: String) throws {
        let extra = H5Gcreate2(file, "extra", 0, 0, 0)
        guard extra >= 0 else { throw DatasetError.hdf5(file: name, path: "extra", operation: "H5Gcreate2") }
        H5Gclose(extra)
        let type = H5Tcopy(HDF5Library.types().cString)
        defer { H5Tclose(type) }
        _ = H5Tset_size(type, HDF5Library.variableSize)
        _ = H5Tset_cset(type, H5T_CSET_UTF8)
        var dims: [hsize_t] = [hsize_t(names.count)]
        let space = H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        let dataset = H5Dcreate2(file, "extra/keys", type, space, 0, 0, 0)
        guard dataset >= 0 else { throw DatasetError.hdf5(file: name, path: "extra/keys", operation: "H5Dcreate2") }
        defer { H5Dclose(dataset) }
        let cStrings = names.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var pointers: [UnsafePointer<CChar>?] = cStrings.map { $0.map { UnsafePointer($0) } }
        guard H5Dwrite(dataset, type, 0, 0, 0, &pointers) >= 0 else {
            throw DatasetError.hdf5(file: name, path: "extra/keys", operation: "H5Dwrite")
        }
    }

    // MARK: HDF5 helpers (callers hold the lock)

    /// The labels as numbers: integers as stored, floats as stored (the caller requires
    /// whole numbers: HDF5 would truncate 1.5 to 1 if asked for integers).
    private static func readLabelValues(_ dataset: hid_t, count n: Int, name: String) throws -> [Double] {
        let type = H5Dget_type(dataset)
        defer { H5Tclose(type) }
        let types = HDF5Library.types()
        switch H5Tget_class(type) {
        case H5T_INTEGER:
            var values = [Int64](repeating: 0, count: n)
            if n > 0, H5Dread(dataset, types.nativeInt64, 0, 0, 0, &values) < 0 {
                throw DatasetError.hdf5(file: name, path: "labels", operation: "H5Dread")
            }
            return values.map { Double($0) }
        case H5T_FLOAT:
            var values = [Double](repeating: 0, count: n)
            if n > 0, H5Dread(dataset, types.nativeDouble, 0, 0, 0, &values) < 0 {
                throw DatasetError.hdf5(file: name, path: "labels", operation: "H5Dread")
            }
            return values
        default:
            throw DatasetError.unsupportedType(file: name, path: "labels", reason: "not integers")
        }
    }

    /// The strings of `extra/keys` (the class names), checked like the spike heaps first.
    private static func readClassNames(_ file: hid_t, name: String) throws -> [String] {
        let path = "extra/keys"
        let dataset = H5Dopen2(file, path, 0)
        guard dataset >= 0 else { throw DatasetError.hdf5(file: name, path: path, operation: "H5Dopen2") }
        defer { H5Dclose(dataset) }
        let type = H5Dget_type(dataset)
        defer { H5Tclose(type) }
        guard H5Tget_class(type) == H5T_STRING else {
            throw DatasetError.unsupportedType(file: name, path: path, reason: "not strings")
        }
        let n = try elementCount(dataset, path: path, name: name)
        guard n <= 10_000 else { throw DatasetError.unsupportedType(file: name, path: path, reason: "\(n) class names") }
        try HDF5VariableLengthCheck.check(file: file, dataset: dataset, path: path, name: name)
        let space = H5Dget_space(dataset)
        defer { H5Sclose(space) }
        return try HDF5Library.readStrings(dataset: dataset, type: type, space: space, count: n, path: path, name: name)
    }

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
