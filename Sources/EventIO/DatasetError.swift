import SpikeTensor

/// Errors of the dataset layer: N-TIDIGITS HDF5 files, the MNIST-DVS folder layout, the
/// joint audiovisual dataset and its preprocessing cache. Every case names the file
/// (and the sample key where there is one) and what is wrong.
public enum DatasetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An HDF5 library call failed (`operation` is the C function, `path` the object).
    case hdf5(file: String, path: String, operation: String)
    /// A group or dataset the N-TIDIGITS layout requires is missing.
    case missingObject(file: String, path: String)
    /// An HDF5 object has a type this reader does not accept.
    case unsupportedType(file: String, path: String, reason: String)
    /// An N-TIDIGITS key does not follow `{man|woman}-{speaker}-{a|b}-{digits}`.
    case malformedKey(file: String, key: String, reason: String)
    /// A key asked for is not listed in the file's `{split}_labels`.
    case keyNotFound(file: String, key: String, split: Split)
    /// A channel address outside 0..<64 (N-TIDIGITS) or 0..<700 (SHD/SSC), or not an integer.
    case addressOutOfRange(file: String, key: String, index: Int, value: Double)
    /// Timestamp `index` is earlier than timestamp `index − 1`.
    case timestampsDecreasing(file: String, key: String, index: Int)
    /// A timestamp is not a finite number of seconds ≥ 0.
    case badTimestamp(file: String, key: String, index: Int, value: Double)
    /// The timestamps and addresses datasets of one sample differ in length.
    case lengthMismatch(file: String, key: String, timestamps: Int, addresses: Int)
    /// A required folder (MNIST-DVS layout) does not exist.
    case missingFolder(path: String, hint: String)
    /// A class has visual samples in a split but no audio sample to pair them with.
    case noAudioForClass(label: Int, split: Split, file: String)
    /// The dataset configuration is invalid.
    case badConfiguration(String)
    /// A cache file is truncated or inconsistent.
    case corruptCache(file: String, reason: String)
    /// The file's structure is damaged where `path` is stored (for sample `sample`, if one):
    /// a heap reference outside the file, a heap object that is missing or of the wrong size.
    case corruptFile(file: String, path: String, sample: Int?, reason: String)
    /// Label `index` of `path` is not a class (not an integer, or outside 0..<classes).
    case badLabel(file: String, path: String, index: Int, value: Double, reason: String)
    /// Reading or writing a file failed.
    case io(file: String, reason: String)

    public var description: String {
        switch self {
        case let .hdf5(file, path, operation):
            return "\(file): HDF5 call \(operation) failed on '\(path)'"
        case let .missingObject(file, path):
            return "\(file): missing HDF5 object '\(path)' (is this an N-TIDIGITS file?)"
        case let .unsupportedType(file, path, reason):
            return "\(file): '\(path)' has an unsupported type: \(reason)"
        case let .malformedKey(file, key, reason):
            return "\(file): key '\(key)': \(reason) (expected {man|woman}-{speaker}-{a|b}-{digits z,o,1-9})"
        case let .keyNotFound(file, key, split):
            return "\(file): no sample '\(key)' in \(split.rawValue)_labels"
        case let .addressOutOfRange(file, key, index, value):
            return "\(file): key '\(key)': address \(value) at event \(index) is not a channel (0..<64 for N-TIDIGITS, 0..<700 for SHD/SSC)"
        case let .timestampsDecreasing(file, key, index):
            return "\(file): key '\(key)': timestamp \(index) is earlier than timestamp \(index - 1)"
        case let .badTimestamp(file, key, index, value):
            return "\(file): key '\(key)': timestamp \(index) = \(value) s is not a finite time ≥ 0"
        case let .lengthMismatch(file, key, timestamps, addresses):
            return "\(file): key '\(key)': \(timestamps) timestamps but \(addresses) addresses"
        case let .missingFolder(path, hint):
            return "\(path): folder not found (\(hint))"
        case let .noAudioForClass(label, split, file):
            return "\(file): class \(label) has visual samples in the \(split.rawValue) split but no single-digit audio sample to pair them with"
        case let .badConfiguration(reason):
            return "joint dataset configuration: \(reason)"
        case let .corruptCache(file, reason):
            return "\(file): corrupt cache file: \(reason) (delete it to rebuild)"
        case let .corruptFile(file, path, sample, reason):
            return "\(file): '\(path)'\(sample.map { " sample \($0)" } ?? ""): \(reason): the file is corrupt"
        case let .badLabel(file, path, index, value, reason):
            let shown = value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
            return "\(file): '\(path)' sample \(index): label \(shown) \(reason)"
        case let .io(file, reason):
            return "\(file): \(reason)"
        }
    }
}
