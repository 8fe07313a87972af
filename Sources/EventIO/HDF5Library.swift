import AtomicFiles
@preconcurrency import CHDF5
import Foundation
import SpikeTensor

/// The one gate to the HDF5 C library.
///
/// Debian's HDF5 1.10 is the *serial* build, which is not thread-safe: two threads inside
/// the library at once corrupt its global state. Every HDF5 call in SpikeFuse therefore
/// runs inside `HDF5Library.withLock { … }`, which also initialises the library once
/// (`H5open`, so the `H5T_NATIVE_*_g` globals are valid) and switches off HDF5's own
/// error-stack printing to stderr (`H5Eset_auto2(H5E_DEFAULT, nil, nil)`): failures are
/// reported as `DatasetError` values instead.
enum HDF5Library {
    /// A recursive lock guards the library (recursive because an object that closes an HDF5
    /// id in its `deinit` may be released while the lock is already held on this thread);
    /// `@unchecked Sendable` because the lock is itself thread-safe and `initialised` is
    /// only touched while it is held.
    private final class Gate: @unchecked Sendable {
        let lock = NSRecursiveLock()
        var initialised = false
    }
    private static let gate = Gate()

    /// `H5P_DEFAULT`, `H5S_ALL` and `H5E_DEFAULT` are all `(hid_t)0` macros.
    static let defaultID: hid_t = 0
    /// `H5F_ACC_RDONLY` / `H5F_ACC_TRUNC` (macros that Swift does not import).
    static let readOnly: UInt32 = 0x0000
    static let truncate: UInt32 = 0x0002

    /// The HDF5 predefined type ids used here. They are C globals that `H5open` sets once
    /// and never changes afterwards; read them only inside `withLock` (after `H5open`).
    struct Types {
        let cString: hid_t, nativeDouble: hid_t, nativeUInt8: hid_t, float64LE: hid_t, uint8LE: hid_t
        let nativeFloat: hid_t, float32LE: hid_t, nativeInt64: hid_t, int64LE: hid_t
    }

    /// The predefined types; call inside `withLock`.
    static func types() -> Types {
        let t = Types(cString: H5T_C_S1_g, nativeDouble: H5T_NATIVE_DOUBLE_g,
                                          nativeUInt8: H5T_NATIVE_UINT8_g, float64LE: H5T_IEEE_F64LE_g,
                                          uint8LE: H5T_STD_U8LE_g,
                      nativeFloat: H5T_NATIVE_FLOAT_g, float32LE: H5T_IEEE_F32LE_g,
                      nativeInt64: H5T_NATIVE_INT64_g, int64LE: H5T_STD_I64LE_g)
        return t
    }

    /// Property-list classes for file, group and dataset creation (`H5P_FILE_CREATE` …,
    /// C globals set by `H5open`); call inside `withLock`.
    static func creationClasses() -> (file: hid_t, group: hid_t, dataset: hid_t) {
        (H5P_CLS_FILE_CREATE_ID_g, H5P_CLS_GROUP_CREATE_ID_g, H5P_CLS_DATASET_CREATE_ID_g)
    }

    /// Creates the HDF5 file `url` atomically: `body` writes into a new file at a temporary
    /// path (inside the lock, object times off so the same content gives the same bytes),
    /// which then replaces `url` (`AtomicFile.commit`); on any error the temporary is removed.
    static func createAtomically(_ url: URL, _ body: (hid_t) throws -> Void) throws {
        let name = url.path
        let temporary = AtomicFile.temporaryURL(for: url)
        do {
            try withLock {
                let fileProperties = H5Pcreate(creationClasses().file)
                defer { H5Pclose(fileProperties) }
                _ = H5Pset_obj_track_times(fileProperties, false)
                let file = H5Fcreate(temporary.path, truncate, fileProperties, defaultID)
                guard file >= 0 else { throw DatasetError.hdf5(file: name, path: "/", operation: "H5Fcreate") }
                defer { H5Fclose(file) }
                try body(file)
            }
            do { try AtomicFile.commit(temporary, to: url) } catch {
                throw DatasetError.io(file: name, reason: "cannot put the file into place: \(error.reason)")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    /// Owns an open HDF5 file id and closes it when the last copy of its owner goes away.
    /// `@unchecked Sendable`: `id` is immutable and only used inside `withLock`.
    final class FileHandle: @unchecked Sendable {
        let id: hid_t
        init(id: hid_t) { self.id = id }
        deinit { HDF5Library.withLock { _ = H5Fclose(id) } }
    }

    /// Runs `body` with exclusive access to the HDF5 library.
    static func withLock<T>(_ body: () throws -> T) rethrows -> T {
        gate.lock.lock()
        defer { gate.lock.unlock() }
        if !gate.initialised {
            _ = H5open()
            _ = H5Eset_auto2(defaultID, nil, nil)
            gate.initialised = true
        }
        return try body()
    }

    /// The strings of an open string dataset of `count` elements, fixed- or variable-length
    /// (trailing NULs and spaces of fixed-length strings removed); callers hold the lock.
    static func readStrings(dataset: hid_t, type: hid_t, space: hid_t, count n: Int,
                                    path: String, name: String) throws -> [String] {
        if n == 0 { return [] }
        let memType = H5Tcopy(types().cString)
        defer { H5Tclose(memType) }
        // HDF5 does not convert between ASCII and UTF-8 strings: read in the file's cset.
        _ = H5Tset_cset(memType, H5Tget_cset(type))
        if H5Tis_variable_str(type) > 0 {
            _ = H5Tset_size(memType, variableSize)
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: n)
            guard H5Dread(dataset, memType, 0, 0, defaultID, &pointers) >= 0 else {
                throw DatasetError.hdf5(file: name, path: path, operation: "H5Dread")
            }
            let strings = pointers.map { $0.map { String(cString: $0) } ?? "" }
            _ = H5Dvlen_reclaim(memType, space, defaultID, &pointers)
            return strings
        }
        let size = H5Tget_size(type)
        guard size > 0, size < 1 << 16 else {
            throw DatasetError.unsupportedType(file: name, path: path, reason: "string size \(size)")
        }
        _ = H5Tset_size(memType, size)
        // NULLPAD keeps all `size` characters (NULTERM would spend the last on a NUL).
        _ = H5Tset_strpad(memType, H5T_STR_NULLPAD)
        var bytes = [UInt8](repeating: 0, count: n * size)
        guard H5Dread(dataset, memType, 0, 0, defaultID, &bytes) >= 0 else {
            throw DatasetError.hdf5(file: name, path: path, operation: "H5Dread")
        }
        return (0..<n).map { i in
            var field = bytes[(i * size)..<((i + 1) * size)]
            if let nul = field.firstIndex(of: 0) { field = field[..<nul] }
            while field.last == 0x20 { field = field.dropLast() }
            return String(decoding: field, as: UTF8.self)
        }
    }

    /// `H5T_VARIABLE` is `(size_t)(-1)`; Swift imports `size_t` as `Int`.
    static let variableSize = -1
}
