import Foundation

/// TFRecord framing, the container of TensorBoard event files. Each record is
///
///     uint64 length (little-endian) | uint32 masked CRC-32C of those 8 bytes
///     | length bytes of data        | uint32 masked CRC-32C of the data
///
/// (`CRC32C.masked`), records back to back with no file header.
public enum TFRecord {
    /// One record around `data`.
    public static func frame(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 16)
        let length = littleEndian(UInt64(data.count))
        out += length
        out += littleEndian(CRC32C.masked(length))
        out += data
        out += littleEndian(CRC32C.masked(data))
        return out
    }

    /// The data of every record in `bytes`, both CRCs checked. A damaged or cut record is an
    /// error naming `source` and the record's byte offset.
    public static func records(_ bytes: [UInt8], source: String) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        var i = 0
        while i < bytes.count {
            guard bytes.count - i >= 12 else { throw TFRecordError(source: source, offset: i, reason: "a record header is cut short") }
            let header = Array(bytes[i..<(i + 8)])
            guard readUInt32(bytes, at: i + 8) == CRC32C.masked(header) else {
                throw TFRecordError(source: source, offset: i, reason: "the length's CRC does not match")
            }
            let length = header.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard length <= UInt64(bytes.count - i - 12), bytes.count - i - 12 - Int(length) >= 4 else {
                throw TFRecordError(source: source, offset: i, reason: "a record of \(length) bytes runs past the end of the file")
            }
            let data = Array(bytes[(i + 12)..<(i + 12 + Int(length))])
            guard readUInt32(bytes, at: i + 12 + Int(length)) == CRC32C.masked(data) else {
                throw TFRecordError(source: source, offset: i, reason: "the data's CRC does not match")
            }
            out.append(data)
            i += 16 + Int(length)
        }
        return out
    }

    static func littleEndian<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
        (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }
    }

    static func readUInt32(_ bytes: [UInt8], at i: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[i + $1]) << (8 * $1) }
    }
}

/// A TFRecord file that does not read back.
public struct TFRecordError: Error, CustomStringConvertible, Equatable {
    public var source: String
    public var offset: Int
    public var reason: String
    public var description: String { "\(source): record at byte \(offset): \(reason)" }
}
