import AtomicFiles
@preconcurrency import CHDF5
import Foundation

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
}
