import CHDF5
import Foundation
import SpikeTensor

extension NTidigitsFile {
    /// Writes samples in the N-TIDIGITS layout: `{split}_labels` as variable-length strings
    /// (as h5py writes them), timestamps as float64 seconds (`t_s = t_µs / 10⁶`, exact on
    /// reading back for t < 2⁵³ µs), addresses as uint8 channels.
    ///
    /// Atomic: writes `url` + a temporary suffix, then renames over `url`, so a reader never
    /// sees a half-written file. Keys must be unique within a split and must not contain '/'.
    public static func write(_ samples: [(key: String, split: Split, events: CochleaEvents)],
                             to url: URL) throws {
        let name = url.path
        for split in Split.allCases {
            var seen = Set<String>()
            for s in samples where s.split == split {
                guard !s.key.isEmpty, !s.key.contains("/") else {
                    throw DatasetError.malformedKey(file: name, key: s.key, reason: "empty or contains '/'")
                }
                guard seen.insert(s.key).inserted else {
                    throw DatasetError.malformedKey(file: name, key: s.key, reason: "appears twice in \(split.rawValue)")
                }
                for (i, c) in s.events.channel.enumerated() where Int(c) >= channelCount {
                    throw DatasetError.addressOutOfRange(file: name, key: s.key, index: i, value: Double(c))
                }
                for i in s.events.t.indices {
                    if s.events.t[i] < 0 {
                        throw DatasetError.badTimestamp(file: name, key: s.key, index: i, value: Double(s.events.t[i]) / 1e6)
                    }
                    if i > 0, s.events.t[i] < s.events.t[i - 1] {
                        throw DatasetError.timestampsDecreasing(file: name, key: s.key, index: i)
                    }
                }
            }
        }
        try HDF5Library.createAtomically(url) { file in
            let classes = HDF5Library.creationClasses()
            let groupProperties = H5Pcreate(classes.group)
            let datasetProperties = H5Pcreate(classes.dataset)
            defer { H5Pclose(groupProperties); H5Pclose(datasetProperties) }
            for p in [groupProperties, datasetProperties] { _ = H5Pset_obj_track_times(p, false) }
            for split in Split.allCases {
                let chosen = samples.filter { $0.split == split }
                try writeStrings(chosen.map(\.key), file: file, path: "\(split.rawValue)_labels", name: name,
                                 properties: datasetProperties)
                let times = H5Gcreate2(file, "\(split.rawValue)_timestamps", 0, groupProperties, 0)
                let addresses = H5Gcreate2(file, "\(split.rawValue)_addresses", 0, groupProperties, 0)
                defer { H5Gclose(times); H5Gclose(addresses) }
                guard times >= 0, addresses >= 0 else {
                    throw DatasetError.hdf5(file: name, path: "\(split.rawValue)_*", operation: "H5Gcreate2")
                }
                for s in chosen {
                    var seconds = s.events.t.map { Double($0) / 1e6 }
                    try writeArray(&seconds, fileType: HDF5Library.types().float64LE, memType: HDF5Library.types().nativeDouble,
                                   group: times, key: s.key, name: name, properties: datasetProperties)
                    var channels = s.events.channel.map { UInt8($0) }
                    try writeArray(&channels, fileType: HDF5Library.types().uint8LE, memType: HDF5Library.types().nativeUInt8,
                                   group: addresses, key: s.key, name: name, properties: datasetProperties)
                }
            }
        }
    }

    /// A 1-D variable-length string dataset (callers hold the HDF5 lock).
    private static func writeStrings(_ strings: [String], file: hid_t, path: String, name: String,
                                     properties: hid_t) throws {
        let type = H5Tcopy(HDF5Library.types().cString)
        defer { H5Tclose(type) }
        _ = H5Tset_size(type, -1)   // H5T_VARIABLE
        _ = H5Tset_cset(type, H5T_CSET_UTF8)
        var dims: [hsize_t] = [hsize_t(strings.count)]
        let space = H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        let dataset = H5Dcreate2(file, path, type, space, 0, properties, 0)
        guard dataset >= 0 else { throw DatasetError.hdf5(file: name, path: path, operation: "H5Dcreate2") }
        defer { H5Dclose(dataset) }
        guard !strings.isEmpty else { return }
        let cStrings = strings.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var pointers: [UnsafePointer<CChar>?] = cStrings.map { $0.map { UnsafePointer($0) } }
        guard H5Dwrite(dataset, type, 0, 0, 0, &pointers) >= 0 else {
            throw DatasetError.hdf5(file: name, path: path, operation: "H5Dwrite")
        }
    }

    /// A 1-D numeric dataset `group/key` (callers hold the HDF5 lock).
    private static func writeArray<T>(_ values: inout [T], fileType: hid_t, memType: hid_t,
                                      group: hid_t, key: String, name: String, properties: hid_t) throws {
        var dims: [hsize_t] = [hsize_t(values.count)]
        let space = H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        let dataset = H5Dcreate2(group, key, fileType, space, 0, properties, 0)
        guard dataset >= 0 else { throw DatasetError.hdf5(file: name, path: key, operation: "H5Dcreate2") }
        defer { H5Dclose(dataset) }
        guard !values.isEmpty else { return }
        let status = values.withUnsafeMutableBytes { H5Dwrite(dataset, memType, 0, 0, 0, $0.baseAddress) }
        guard status >= 0 else { throw DatasetError.hdf5(file: name, path: key, operation: "H5Dwrite") }
    }
}
