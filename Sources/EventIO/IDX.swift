import Foundation
import SpikeTensor

/// A stack of 8-bit images from an IDX file: `pixels` is `[count, rows, cols]`, row-major,
/// 0 = background, 255 = ink (MNIST).
public struct IDXImages: Sendable, Equatable {
    public var count: Int
    public var rows: Int
    public var cols: Int
    /// `count · rows · cols` bytes.
    public var pixels: [UInt8]

    public init(count: Int, rows: Int, cols: Int, pixels: [UInt8]) {
        precondition(count * rows * cols == pixels.count, "IDXImages: \(count)×\(rows)×\(cols) ≠ \(pixels.count) pixels")
        self.count = count; self.rows = rows; self.cols = cols; self.pixels = pixels
    }

    /// Image `i` (0..<count) as `rows · cols` bytes, row-major.
    public func image(_ i: Int) -> [UInt8] {
        precondition(i >= 0 && i < count, "IDXImages.image(\(i)) out of 0..<\(count)")
        let size = rows * cols
        return Array(pixels[i * size ..< (i + 1) * size])
    }
}

/// The IDX format of MNIST: a big-endian header — magic (2051 images / 2049 labels, i.e.
/// type byte 0x08 = uint8 and the number of dimensions), one uint32 per dimension — then
/// the uint8 data. Files may be gzip-compressed (detected by the 1F 8B magic, not the name).
public enum IDX {
    public static let imagesMagic: UInt32 = 2051
    public static let labelsMagic: UInt32 = 2049

    /// Reads an image file (magic 2051: count, rows, cols, then count·rows·cols bytes).
    public static func readImages(_ url: URL) throws -> IDXImages {
        try decodeImages(try _FileBytes.read(url), source: url.path)
    }

    /// Reads a label file (magic 2049: count, then count bytes).
    public static func readLabels(_ url: URL) throws -> [UInt8] {
        try decodeLabels(try _FileBytes.read(url), source: url.path)
    }

    public static func decodeImages(_ bytes: [UInt8], source: String) throws -> IDXImages {
        let (dims, data) = try decode(bytes, source: source, magic: imagesMagic, dimensions: 3)
        return IDXImages(count: dims[0], rows: dims[1], cols: dims[2], pixels: data)
    }

    public static func decodeLabels(_ bytes: [UInt8], source: String) throws -> [UInt8] {
        try decode(bytes, source: source, magic: labelsMagic, dimensions: 1).data
    }

    /// Checks magic and size, returns the dimensions and the data bytes.
    static func decode(_ file: [UInt8], source: String, magic: UInt32,
                       dimensions: Int) throws -> (dims: [Int], data: [UInt8]) {
        guard !file.isEmpty else { throw EventIOError.emptyFile(file: source) }
        let bytes = _Inflate.isGzip(file) ? try _Inflate.inflate(file, source: source) : file
        let headerSize = 4 + 4 * dimensions
        guard bytes.count >= 4 else {
            throw EventIOError.truncated(file: source, offset: 0, detail: "\(bytes.count) bytes, too short for the IDX magic")
        }
        let found = bytes.withUnsafeBytes { $0._bigEndianUInt32(at: 0) }
        guard found == magic else {
            throw EventIOError.badHeader(file: source,
                detail: "IDX magic is \(found) (0x\(String(found, radix: 16))), expected \(magic) (0x\(String(magic, radix: 16)))")
        }
        guard bytes.count >= headerSize else {
            throw EventIOError.truncated(file: source, offset: bytes.count,
                detail: "IDX header needs \(headerSize) bytes, file (inflated) has \(bytes.count)")
        }
        var dims: [Int] = []
        var expected = 1
        for d in 0..<dimensions {
            let n = Int(bytes.withUnsafeBytes { $0._bigEndianUInt32(at: 4 + 4 * d) })
            dims.append(n)
            let (product, overflow) = expected.multipliedReportingOverflow(by: n)
            guard !overflow, product <= _Inflate.maximumOutput else {
                throw EventIOError.malformed(file: source, detail: "IDX dimensions \(dims) are implausibly large")
            }
            expected = product
        }
        let available = bytes.count - headerSize
        guard available >= expected else {
            throw EventIOError.truncated(file: source, offset: bytes.count,
                detail: "IDX dimensions \(dims) need \(expected) data bytes after the \(headerSize)-byte header, only \(available) present")
        }
        guard available == expected else {
            throw EventIOError.malformed(file: source,
                detail: "\(available - expected) unexpected bytes after the \(expected) data bytes of dimensions \(dims)")
        }
        return (dims, Array(bytes[headerSize...]))
    }
}
