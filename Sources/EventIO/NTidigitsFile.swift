import CHDF5
import Foundation
import SpikeTensor

/// An N-TIDIGITS HDF5 file (`n-tidigits.hdf5`), read and written through the HDF5 C library.
///
/// Layout (as made by the dataset's authors with h5py):
/// - root datasets `train_labels`, `test_labels`: 1-D arrays of byte strings, the sample
///   keys (fixed- or variable-length strings are both accepted);
/// - groups `train_timestamps`, `train_addresses`, `test_timestamps`, `test_addresses`,
///   each with one 1-D dataset per key;
/// - timestamps in float seconds (float32 or float64), converted here to Int64 µs by
///   rounding `t_µs = round(t_s · 10⁶)`;
/// - addresses are cochlea channels 0–63, of any integer type (or integral floats).
///
/// All HDF5 calls go through `HDF5Library.withLock` (the serial HDF5 build is not
/// thread-safe), so an `NTidigitsFile` may be shared between threads, but reads from
/// several threads are serialised.
///
/// ```swift
/// let file = try NTidigitsFile.open(URL(fileURLWithPath: "n-tidigits.hdf5"))
/// let events = try file.events(key: file.keys(.train)[0], split: .train)   // CochleaEvents
/// ```
public struct NTidigitsFile: Sendable {
    /// Number of cochlea channels of the CochleaAMS1b sensor.
    public static let channelCount = 64

    /// The file this was opened from.
    public let url: URL
    private let trainKeys: [String]
    private let testKeys: [String]
    /// Keys that appear more than once in a split's label list (each is used once).
    private let repeatedKeys: [Split: [String]]
    private let handle: HDF5Library.FileHandle

    /// Opens `url` read-only and reads its key lists.
    public static func open(_ url: URL) throws -> NTidigitsFile {
        let name = url.path
        try HDF5Library.checkInChildProcess(name, reader: "N-TIDIGITS", read: readEverything)
        return try HDF5Library.withLock {
            let id = H5Fopen(name, HDF5Library.readOnly, HDF5Library.defaultID)
            guard id >= 0 else { throw DatasetError.hdf5(file: name, path: "/", operation: "H5Fopen") }
            let handle = HDF5Library.FileHandle(id: id)
            let train = try readStrings(file: id, path: "train_labels", name: name)
            let test = try readStrings(file: id, path: "test_labels", name: name)
            for group in ["train_timestamps", "train_addresses", "test_timestamps", "test_addresses"] {
                guard H5Lexists(id, group, HDF5Library.defaultID) > 0 else {
                    throw DatasetError.missingObject(file: name, path: group)
                }
            }
            /// Each key once, in first-occurrence order; the repeats are reported, never used twice.
            func unique(_ keys: [String]) -> (keys: [String], repeated: [String]) {
                var seen = Set<String>(), out: [String] = [], repeated: [String] = []
                for k in keys { if seen.insert(k).inserted { out.append(k) } else if !repeated.contains(k) { repeated.append(k) } }
                return (out, repeated)
            }
            let (trainUnique, trainRepeated) = unique(train), (testUnique, testRepeated) = unique(test)
            return NTidigitsFile(url: url, trainKeys: trainUnique, testKeys: testUnique,
                                 repeatedKeys: [.train: trainRepeated, .test: testRepeated], handle: handle)
        }
    }

    /// The sample keys of a split, in the file's order (`{split}_labels`), each once.
    public func keys(_ split: Split) -> [String] {
        split == .train ? trainKeys : testKeys
    }

    /// Keys listed more than once in `{split}_labels` (`keys` holds each once).
    public func duplicateKeys(_ split: Split) -> [String] { repeatedKeys[split] ?? [] }

    /// The events of sample `key` in `split`, timestamps in µs, channels 0–63.
    ///
    /// Throws `DatasetError` when the sample's datasets are missing, have the wrong type or
    /// rank, differ in length, hold an address outside 0..<64 or decreasing timestamps.
    public func events(key: String, split: Split) throws -> CochleaEvents {
        let name = url.path
        guard !key.contains("/"), !key.isEmpty, keys(split).contains(key) else {
            throw DatasetError.keyNotFound(file: name, key: key, split: split)
        }
        let (seconds, addresses) = try HDF5Library.withLock {
            let s = try Self.readDoubles(file: handle.id, group: "\(split.rawValue)_timestamps",
                                         key: key, name: name)
            let a = try Self.readDoubles(file: handle.id, group: "\(split.rawValue)_addresses",
                                         key: key, name: name)
            return (s, a)
        }
        guard seconds.count == addresses.count else {
            throw DatasetError.lengthMismatch(file: name, key: key, timestamps: seconds.count,
                                              addresses: addresses.count)
        }
        var t = [Int64](); t.reserveCapacity(seconds.count)
        var channel = [UInt16](); channel.reserveCapacity(seconds.count)
        for i in 0..<seconds.count {
            let s = seconds[i]
            // 1e9 s bounds the value far inside Int64 µs.
            guard s.isFinite, s >= 0, s < 1e9 else {
                throw DatasetError.badTimestamp(file: name, key: key, index: i, value: s)
            }
            let us = Int64((s * 1e6).rounded())
            if let last = t.last, us < last {
                throw DatasetError.timestampsDecreasing(file: name, key: key, index: i)
            }
            let a = addresses[i]
            guard a >= 0, a < Double(Self.channelCount), a == a.rounded() else {
                throw DatasetError.addressOutOfRange(file: name, key: key, index: i, value: a)
            }
            t.append(us)
            channel.append(UInt16(a))
        }
        return CochleaEvents(channelCount: Self.channelCount, t: t, channel: channel)
    }

    // MARK: Reading an untrusted file in a child process

    /// Opens `name` and reads both key lists and every sample of both splits, ignoring
    /// clean errors (the child's work: only a crash matters there).
    private static func readEverything(_ name: String) {
        let id = H5Fopen(name, HDF5Library.readOnly, HDF5Library.defaultID)
        guard id >= 0 else { return }
        defer { H5Fclose(id) }
        for split in Split.allCases {
            let keys = (try? readStrings(file: id, path: "\(split.rawValue)_labels", name: name)) ?? []
            for key in keys where !key.isEmpty && !key.contains("/") {
                for group in ["\(split.rawValue)_timestamps", "\(split.rawValue)_addresses"] {
                    _ = try? readDoubles(file: id, group: group, key: key, name: name)
                }
            }
        }
    }

    // MARK: Reading (callers hold the HDF5 lock)

    /// A 1-D string dataset, fixed- or variable-length, as Swift strings (trailing NULs
    /// and spaces of fixed-length strings removed).
    private static func readStrings(file: hid_t, path: String, name: String) throws -> [String] {
        try withVector(file: file, path: path, name: name, classes: [H5T_STRING],
                       expected: "a string array") { dataset, type, space, n in
            try HDF5Library.readStrings(dataset: dataset, type: type, space: space, count: n, path: path, name: name)
        }
    }

    /// Opens the 1-D dataset `path`, checks that its type class is one of `classes`, and
    /// runs `body(dataset, type, space, elementCount)`; ids are closed afterwards.
    private static func withVector<T>(file: hid_t, path: String, name: String, classes: [H5T_class_t],
                                      expected: String,
                                      _ body: (hid_t, hid_t, hid_t, Int) throws -> T) throws -> T {
        guard H5Lexists(file, path, HDF5Library.defaultID) > 0 else {
            throw DatasetError.missingObject(file: name, path: path)
        }
        let dataset = H5Dopen2(file, path, HDF5Library.defaultID)
        guard dataset >= 0 else { throw DatasetError.hdf5(file: name, path: path, operation: "H5Dopen2") }
        defer { H5Dclose(dataset) }
        let type = H5Dget_type(dataset)
        defer { H5Tclose(type) }
        guard classes.contains(H5Tget_class(type)) else {
            throw DatasetError.unsupportedType(file: name, path: path, reason: "not \(expected)")
        }
        let space = H5Dget_space(dataset)
        defer { H5Sclose(space) }
        guard H5Sget_simple_extent_ndims(space) <= 1 else {
            throw DatasetError.unsupportedType(file: name, path: path, reason: "not 1-D")
        }
        let n = Int(H5Sget_simple_extent_npoints(space))
        guard n >= 0 else { throw DatasetError.hdf5(file: name, path: path, operation: "H5Sget_simple_extent_npoints") }
        // Every stored element takes file space; allow generous compression (64×) but refuse
        // sizes no file of this length can hold before allocating for them.
        var fileSize: hsize_t = 0
        guard H5Fget_filesize(file, &fileSize) >= 0, n <= 64 * max(Int(fileSize), 1) else {
            throw DatasetError.unsupportedType(file: name, path: path,
                                               reason: "\(n) elements cannot fit in a file of \(fileSize) bytes (corrupt?)")
        }
        return try body(dataset, type, space, n)
    }

    /// A 1-D numeric dataset `group/key`, converted by HDF5 to native doubles
    /// (exact for every integer up to 2⁵³ and for float32/float64 values).
    private static func readDoubles(file: hid_t, group: String, key: String, name: String) throws -> [Double] {
        let path = "\(group)/\(key)"
        guard H5Lexists(file, group, HDF5Library.defaultID) > 0 else {
            throw DatasetError.missingObject(file: name, path: group)
        }
        return try withVector(file: file, path: path, name: name, classes: [H5T_FLOAT, H5T_INTEGER],
                              expected: "an integer or float array") { dataset, _, _, n in
            var values = [Double](repeating: 0, count: n)
            if n > 0 {
                guard H5Dread(dataset, HDF5Library.types().nativeDouble, 0, 0, HDF5Library.defaultID, &values) >= 0 else {
                    throw DatasetError.hdf5(file: name, path: path, operation: "H5Dread")
                }
            }
            return values
        }
    }
}
