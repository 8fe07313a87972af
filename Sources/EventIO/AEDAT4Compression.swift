import CLZ4
import CZstd
import SpikeTensor

/// One LZ4 or Zstd frame → its bytes, for AEDAT 4.0 packets. The output is capped at
/// `limit` bytes (a small frame can claim gigabytes); the input must hold exactly one
/// complete frame. Errors are `EventIOError` naming `source` and the packet's byte offset.
enum _AEDAT4Frame {
    /// Largest decompressed packet accepted (DV writes packets of a few MiB at most).
    static let limit = 256 << 20

    static func lz4(_ input: ArraySlice<UInt8>, source: String, offset: Int) throws -> [UInt8] {
        var context: OpaquePointer?
        guard LZ4F_isError(LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))) == 0, let context else {
            throw EventIOError.malformed(file: source, detail: "cannot create an LZ4 decompression context")
        }
        defer { LZ4F_freeDecompressionContext(context) }
        var output = [UInt8](repeating: 0, count: min(limit, max(4096, input.count * 4)))
        var produced = 0, consumed = 0, finished = false
        try input.withUnsafeBytes { src in
            while consumed < src.count {
                if produced == output.count {
                    guard output.count < limit else { throw tooLarge(source, offset) }
                    output += [UInt8](repeating: 0, count: min(limit, output.count * 2) - output.count)
                }
                var inSize = src.count - consumed, outSize = output.count - produced
                let hint = output.withUnsafeMutableBytes { dst in
                    LZ4F_decompress(context, dst.baseAddress! + produced, &outSize,
                                    src.baseAddress! + consumed, &inSize, nil)
                }
                if LZ4F_isError(hint) != 0 {
                    throw EventIOError.malformed(file: source,
                        detail: "packet at byte offset \(offset): LZ4 frame does not decode: \(String(cString: LZ4F_getErrorName(hint)))")
                }
                consumed += inSize; produced += outSize
                if hint == 0 { finished = true; break }
                if inSize == 0 && outSize == 0 && produced < output.count {
                    throw EventIOError.malformed(file: source, detail: "packet at byte offset \(offset): LZ4 frame makes no progress")
                }
            }
        }
        try checkEnd(finished: finished, trailing: input.count - consumed, codec: "LZ4", source: source, offset: offset)
        return Array(output[0..<produced])
    }

    static func zstd(_ input: ArraySlice<UInt8>, source: String, offset: Int) throws -> [UInt8] {
        guard let context = ZSTD_createDCtx() else {
            throw EventIOError.malformed(file: source, detail: "cannot create a Zstd decompression context")
        }
        defer { ZSTD_freeDCtx(context) }
        var output = [UInt8](repeating: 0, count: min(limit, max(4096, input.count * 4)))
        var produced = 0, consumed = 0, finished = false
        try input.withUnsafeBytes { src in
            while true {
                if produced == output.count {
                    guard output.count < limit else { throw tooLarge(source, offset) }
                    output += [UInt8](repeating: 0, count: min(limit, output.count * 2) - output.count)
                }
                var inBuffer = ZSTD_inBuffer(src: src.baseAddress, size: src.count, pos: consumed)
                let (hint, outPos): (Int, Int) = output.withUnsafeMutableBytes { dst in
                    var outBuffer = ZSTD_outBuffer(dst: dst.baseAddress, size: dst.count, pos: produced)
                    let h = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
                    return (h, outBuffer.pos)
                }
                if ZSTD_isError(hint) != 0 {
                    throw EventIOError.malformed(file: source,
                        detail: "packet at byte offset \(offset): Zstd frame does not decode: \(String(cString: ZSTD_getErrorName(hint)))")
                }
                let progress = inBuffer.pos != consumed || outPos != produced
                consumed = inBuffer.pos; produced = outPos
                if hint == 0 { finished = true; break }
                if !progress && produced < output.count { break }   // input used up mid-frame
            }
        }
        try checkEnd(finished: finished, trailing: input.count - consumed, codec: "Zstd", source: source, offset: offset)
        return Array(output[0..<produced])
    }

    static func tooLarge(_ source: String, _ offset: Int) -> EventIOError {
        .malformed(file: source, detail: "packet at byte offset \(offset) decompresses to more than \(limit >> 20) MiB")
    }

    static func checkEnd(finished: Bool, trailing: Int, codec: String, source: String, offset: Int) throws {
        guard finished else {
            throw EventIOError.truncated(file: source, offset: offset, detail: "the packet's \(codec) frame ends early")
        }
        guard trailing == 0 else {
            throw EventIOError.malformed(file: source,
                detail: "packet at byte offset \(offset): \(trailing) bytes follow its \(codec) frame")
        }
    }
}
