import SpikeTensor

/// Errors of EventIO's readers and writers.
///
/// Every case names the file (its path, or the `source` string given to a `decode` function)
/// and says what is wrong; cases about a place inside the file also give the byte `offset`
/// from the start of the file (or a key, for keyed formats). The readers never crash on bad
/// input: anything they cannot decode exactly is reported with one of these cases.
public enum EventIOError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be opened or read (missing, permissions, I/O error).
    case unreadable(file: String, detail: String)
    /// The file could not be written or renamed into place.
    case unwritable(file: String, detail: String)
    /// The file holds zero bytes.
    case emptyFile(file: String)
    /// The header (magic number, version line, RIFF/fmt fields …) is missing or wrong.
    case badHeader(file: String, detail: String)
    /// The data stop early: a record or chunk starting at `offset` is incomplete.
    case truncated(file: String, offset: Int, detail: String)
    /// An event address at `offset` does not name a pixel/channel of the sensor.
    case addressOutOfRange(file: String, offset: Int, detail: String)
    /// A timestamp at `offset` goes backwards (and is not a 32-bit clock wrap).
    case timestampJump(file: String, offset: Int, detail: String)
    /// The file uses an encoding this reader does not decode (e.g. μ-law or ADPCM WAV).
    case unsupportedEncoding(file: String, detail: String)
    /// The file is structurally wrong in another way (sizes that disagree, trailing bytes,
    /// a gzip stream that does not inflate …).
    case malformed(file: String, detail: String)
    /// A named entry (HDF5 dataset, group, sample key …) is missing or has the wrong type.
    case missingKey(file: String, key: String, detail: String)
    /// In-memory data cannot be written in the requested format (e.g. x ≥ 128 for AEDAT DVS128).
    case unencodable(file: String, detail: String)

    /// The file (path or source name) the error is about.
    public var file: String {
        switch self {
        case .unreadable(let f, _), .unwritable(let f, _), .emptyFile(let f), .badHeader(let f, _),
             .truncated(let f, _, _), .addressOutOfRange(let f, _, _), .timestampJump(let f, _, _),
             .unsupportedEncoding(let f, _), .malformed(let f, _), .missingKey(let f, _, _),
             .unencodable(let f, _):
            return f
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let f, let d): return "\(f): cannot read file: \(d)"
        case .unwritable(let f, let d): return "\(f): cannot write file: \(d)"
        case .emptyFile(let f): return "\(f): file is empty (0 bytes)"
        case .badHeader(let f, let d): return "\(f): bad header: \(d)"
        case .truncated(let f, let o, let d): return "\(f): truncated at byte offset \(o): \(d)"
        case .addressOutOfRange(let f, let o, let d):
            return "\(f): address out of range at byte offset \(o): \(d)"
        case .timestampJump(let f, let o, let d):
            return "\(f): timestamp jumps backwards at byte offset \(o): \(d)"
        case .unsupportedEncoding(let f, let d): return "\(f): unsupported encoding: \(d)"
        case .malformed(let f, let d): return "\(f): malformed: \(d)"
        case .missingKey(let f, let k, let d): return "\(f): key '\(k)': \(d)"
        case .unencodable(let f, let d): return "\(f): cannot encode: \(d)"
        }
    }
}
