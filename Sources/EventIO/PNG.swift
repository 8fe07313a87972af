import AtomicFiles
import CZlib
import Foundation
import SpikeTensor

/// Minimal PNG encoder: 8-bit RGB, no interlace, every row with filter type 0 (None),
/// the whole image in one zlib-deflated IDAT chunk. Chunk CRCs are CRC-32 (zlib `crc32`)
/// over the chunk type and data, as the PNG specification requires.
public enum PNG {
    /// PNG file signature.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Encodes `rgb` (row-major, 3 bytes per pixel, `width·height·3` bytes) as PNG bytes.
    public static func encode(rgb: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        guard width > 0, height > 0, width <= 1 << 20, height <= 1 << 20,
              rgb.count == width * height * 3 else {
            throw DatasetError.badConfiguration("PNG: \(rgb.count) bytes do not make a \(width)×\(height) RGB image")
        }
        // Raw scanlines: a filter byte (0) before each row.
        let rowBytes = width * 3
        var raw = [UInt8](repeating: 0, count: height * (rowBytes + 1))
        for y in 0..<height {
            raw.replaceSubrange((y * (rowBytes + 1) + 1)..<((y + 1) * (rowBytes + 1)),
                                with: rgb[(y * rowBytes)..<((y + 1) * rowBytes)])
        }
        var compressedCount = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedCount))
        let status = compress2(&compressed, &compressedCount, raw, uLong(raw.count), 6)
        guard status == Z_OK else {
            throw DatasetError.io(file: "<png>", reason: "zlib compress2 failed (\(status))")
        }
        compressed.removeSubrange(Int(compressedCount)...)

        var ihdr = [UInt8]()
        ihdr += bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        ihdr += [8, 2, 0, 0, 0]   // bit depth 8, colour type 2 (RGB), deflate, filter 0, no interlace
        var png = signature
        png += chunk("IHDR", ihdr)
        png += chunk("IDAT", compressed)
        png += chunk("IEND", [])
        return png
    }

    /// Writes an 8-bit RGB PNG atomically (temporary file, then rename).
    public static func write(rgb: [UInt8], width: Int, height: Int, to url: URL) throws {
        let bytes = try encode(rgb: rgb, width: width, height: height)
        do { try AtomicFile.write(bytes, to: url) } catch {
            throw DatasetError.io(file: url.path, reason: "cannot write PNG: \(error.reason)")
        }
    }

    /// One chunk: length, type, data, CRC-32 of type + data.
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        let body = typeBytes + data
        let crc = body.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        return bigEndian(UInt32(data.count)) + body + bigEndian(UInt32(crc))
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }
}
