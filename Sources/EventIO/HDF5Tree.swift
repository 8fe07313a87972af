@preconcurrency import CHDF5
import Foundation
import SpikeTensor

/// One object of an HDF5 file as a value: a group of named children, or a dataset of strings,
/// floats or integers with its shape (`[]` for a scalar). Used for file formats that are a
/// tree of small datasets, such as NIR (`NIRGraph`), where reading and writing the whole tree
/// at once is simplest.
public indirect enum HDF5Node: Equatable, Sendable {
    case group([String: HDF5Node])
    /// UTF-8 strings (written variable-length, as h5py writes `str`).
    case strings([String], shape: [Int])
    /// Floating-point values; `bits` (32 or 64) is the element size in the file.
    case floats([Double], shape: [Int], bits: Int)
    /// Signed integers (written as 64-bit little-endian).
    case integers([Int64], shape: [Int])

    /// A scalar string dataset.
    public static func string(_ s: String) -> HDF5Node { .strings([s], shape: []) }

    /// The children of a group (nil for a dataset).
    public var children: [String: HDF5Node]? {
        if case .group(let c) = self { return c }
        return nil
    }
}

/// Reads and writes whole HDF5 files as `HDF5Node` trees (through `HDF5Library`'s lock).
public enum HDF5Tree {
    /// Writes the root group's `children` to `url` atomically (temporary file, then rename).
    public static func write(_ children: [String: HDF5Node], to url: URL) throws {
        try HDF5Library.createAtomically(url) { file in
            try writeChildren(children, into: file, path: "", name: url.path)
        }
    }

    /// The root group's children of the HDF5 file at `url`.
    public static func read(_ url: URL) throws -> [String: HDF5Node] {
        let name = url.path
        // Read once in a child process first: a file that crashes or hangs libhdf5 is an
        // error naming it (HDF5ChildCheck; the child makes raw calls, without the lock).
        try HDF5Library.checkInChildProcess(name, reader: "HDF5Tree") { name in
            let file = H5Fopen(name, HDF5Library.readOnly, HDF5Library.defaultID)
            guard file >= 0 else { return }
            _ = try? readGroup(file, path: "", name: name, depth: 0)
            H5Fclose(file)
        }
        return try HDF5Library.withLock {
            let file = H5Fopen(name, HDF5Library.readOnly, HDF5Library.defaultID)
            guard file >= 0 else {
                throw DatasetError.io(file: name, reason: "not an HDF5 file (H5Fopen failed)")
            }
            defer { H5Fclose(file) }
            return try readGroup(file, path: "", name: name, depth: 0)
        }
    }

    // MARK: writing (callers hold the HDF5 lock)

    private static func writeChildren(_ children: [String: HDF5Node], into group: hid_t, path: String, name: String) throws {
        for key in children.keys.sorted() {
            guard !key.isEmpty, !key.contains("/") else {
                throw DatasetError.io(file: name, reason: "object name '\(key)' under '\(path)/' is empty or contains '/'")
            }
            let childPath = path + "/" + key
            switch children[key]! {
            case .group(let grandchildren):
                let g = H5Gcreate2(group, key, 0, 0, 0)
                guard g >= 0 else { throw DatasetError.hdf5(file: name, path: childPath, operation: "H5Gcreate2") }
                defer { H5Gclose(g) }
                try writeChildren(grandchildren, into: g, path: childPath, name: name)
            case .strings(let strings, let shape):
                let type = H5Tcopy(HDF5Library.types().cString)
                defer { H5Tclose(type) }
                _ = H5Tset_size(type, HDF5Library.variableSize)
                _ = H5Tset_cset(type, H5T_CSET_UTF8)
                let cStrings = strings.map { strdup($0) }
                defer { cStrings.forEach { free($0) } }
                var pointers: [UnsafePointer<CChar>?] = cStrings.map { $0.map { UnsafePointer($0) } }
                try writeDataset(group, key, path: childPath, name: name, fileType: type, memType: type,
                                 shape: shape, count: strings.count) { dataset in
                    H5Dwrite(dataset, type, 0, 0, 0, &pointers)
                }
            case .floats(let values, let shape, let bits):
                let types = HDF5Library.types()
                if bits == 32 {
                    var floats = values.map { Float($0) }
                    try writeDataset(group, key, path: childPath, name: name, fileType: types.float32LE,
                                     memType: types.nativeFloat, shape: shape, count: values.count) { dataset in
                        H5Dwrite(dataset, types.nativeFloat, 0, 0, 0, &floats)
                    }
                } else {
                    var doubles = values
                    try writeDataset(group, key, path: childPath, name: name, fileType: types.float64LE,
                                     memType: types.nativeDouble, shape: shape, count: values.count) { dataset in
                        H5Dwrite(dataset, types.nativeDouble, 0, 0, 0, &doubles)
                    }
                }
            case .integers(let values, let shape):
                let types = HDF5Library.types()
                var integers = values
                try writeDataset(group, key, path: childPath, name: name, fileType: types.int64LE,
                                 memType: types.nativeInt64, shape: shape, count: values.count) { dataset in
                    H5Dwrite(dataset, types.nativeInt64, 0, 0, 0, &integers)
                }
            }
        }
    }

    private static func writeDataset(_ group: hid_t, _ key: String, path: String, name: String,
                                     fileType: hid_t, memType: hid_t, shape: [Int], count: Int,
                                     _ write: (hid_t) -> herr_t) throws {
        guard shape.reduce(1, *) == count, shape.allSatisfy({ $0 >= 0 }) else {
            throw DatasetError.io(file: name, reason: "dataset \(path): \(count) values do not fill shape \(shape)")
        }
        var dims = shape.map { hsize_t($0) }
        let space = shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(shape.count), &dims, nil)
        defer { H5Sclose(space) }
        let dataset = H5Dcreate2(group, key, fileType, space, 0, 0, 0)
        guard dataset >= 0 else { throw DatasetError.hdf5(file: name, path: path, operation: "H5Dcreate2") }
        defer { H5Dclose(dataset) }
        if count > 0, write(dataset) < 0 { throw DatasetError.hdf5(file: name, path: path, operation: "H5Dwrite") }
    }

    // MARK: reading (callers hold the HDF5 lock)

    private static func readGroup(_ group: hid_t, path: String, name: String, depth: Int) throws -> [String: HDF5Node] {
        guard depth < 32 else { throw DatasetError.io(file: name, reason: "groups nested deeper than 32 at '\(path)'") }
        var info = H5G_info_t()
        guard H5Gget_info(group, &info) >= 0 else { throw DatasetError.hdf5(file: name, path: path + "/", operation: "H5Gget_info") }
        var children: [String: HDF5Node] = [:]
        for i in 0..<info.nlinks {
            let length = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, 0)
            guard length >= 0, length < 4096 else { throw DatasetError.hdf5(file: name, path: path + "/", operation: "H5Lget_name_by_idx") }
            var buffer = [CChar](repeating: 0, count: length + 1)
            _ = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buffer, length + 1, 0)
            let key = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let childPath = path + "/" + key
            let object = H5Oopen(group, key, 0)
            guard object >= 0 else { throw DatasetError.hdf5(file: name, path: childPath, operation: "H5Oopen") }
            defer { H5Oclose(object) }
            switch H5Iget_type(object) {
            case H5I_GROUP: children[key] = .group(try readGroup(object, path: childPath, name: name, depth: depth + 1))
            case H5I_DATASET: children[key] = try readDataset(object, path: childPath, name: name)
            default: throw DatasetError.unsupportedType(file: name, path: childPath, reason: "neither a group nor a dataset")
            }
        }
        return children
    }

    private static func readDataset(_ dataset: hid_t, path: String, name: String) throws -> HDF5Node {
        let type = H5Dget_type(dataset)
        defer { H5Tclose(type) }
        let space = H5Dget_space(dataset)
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank >= 0, rank <= 8 else { throw DatasetError.unsupportedType(file: name, path: path, reason: "rank \(rank)") }
        var dims = [hsize_t](repeating: 0, count: rank)
        if rank > 0 { _ = H5Sget_simple_extent_dims(space, &dims, nil) }
        let shape = dims.map { Int($0) }
        let count = Int(H5Sget_simple_extent_npoints(space))
        guard count >= 0, count <= 1 << 27 else {   // 2²⁷ elements: far above any file this reads
            throw DatasetError.unsupportedType(file: name, path: path, reason: "\(count) elements (corrupt?)")
        }
        switch H5Tget_class(type) {
        case H5T_FLOAT:
            var values = [Double](repeating: 0, count: count)
            if count > 0, H5Dread(dataset, HDF5Library.types().nativeDouble, 0, 0, 0, &values) < 0 {
                throw DatasetError.hdf5(file: name, path: path, operation: "H5Dread")
            }
            return .floats(values, shape: shape, bits: H5Tget_size(type) <= 4 ? 32 : 64)
        case H5T_INTEGER:
            var values = [Int64](repeating: 0, count: count)
            if count > 0, H5Dread(dataset, HDF5Library.types().nativeInt64, 0, 0, 0, &values) < 0 {
                throw DatasetError.hdf5(file: name, path: path, operation: "H5Dread")
            }
            return .integers(values, shape: shape)
        case H5T_STRING:
            return .strings(try HDF5Library.readStrings(dataset: dataset, type: type, space: space, count: count,
                                                        path: path, name: name), shape: shape)
        default:
            throw DatasetError.unsupportedType(file: name, path: path, reason: "not a string, float or integer dataset")
        }
    }
}
