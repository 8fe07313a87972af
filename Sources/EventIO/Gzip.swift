import CZlib
import SpikeTensor

/// gzip/zlib inflation through zlib (`inflateInit2` with windowBits 15 + 32: detect gzip or
/// zlib headers automatically).
enum _Inflate {
    /// Largest output accepted (guards against decompression bombs): 1 GiB.
    static let maximumOutput = 1 << 30

    /// True when `bytes` start with the gzip magic 1F 8B.
    static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// Inflates a whole gzip (or zlib) stream; `source` names it in errors.
    static func inflate(_ input: [UInt8], source: String) throws -> [UInt8] {
        // gzip's trailer holds the uncompressed size mod 2³²: a good first capacity.
        var capacity = max(1 << 16, input.count * 4)
        if isGzip(input), input.count >= 18 {
            let n = input.count
            let hint = Int(input[n - 4]) | Int(input[n - 3]) << 8 | Int(input[n - 2]) << 16 | Int(input[n - 1]) << 24
            // Trust the hint only as far as deflate can expand (at most ~1032:1), so a forged
            // trailer cannot make us allocate a gigabyte up front.
            if hint > 0 { capacity = min(hint + 1, max(1 << 16, input.count * 1032), maximumOutput) }
        }
        var stream = z_stream()
        var status = inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            throw EventIOError.malformed(file: source, detail: "zlib inflateInit2 failed (\(status))")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: capacity)
        var produced = 0
        try input.withUnsafeBufferPointer { inBuffer in
            stream.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress)
            stream.avail_in = uInt(inBuffer.count)
            while true {
                if produced == output.count {
                    guard output.count < maximumOutput else {
                        throw EventIOError.malformed(file: source, detail: "inflates to more than \(maximumOutput) bytes")
                    }
                    output.append(contentsOf: repeatElement(0, count: min(output.count, maximumOutput - output.count)))
                }
                status = output.withUnsafeMutableBufferPointer { outBuffer in
                    stream.next_out = outBuffer.baseAddress! + produced
                    stream.avail_out = uInt(outBuffer.count - produced)
                    let s = CZlib.inflate(&stream, Z_NO_FLUSH)
                    produced = outBuffer.count - Int(stream.avail_out)
                    return s
                }
                if status == Z_STREAM_END { break }
                if status == Z_BUF_ERROR && stream.avail_in == 0 {
                    throw EventIOError.truncated(file: source, offset: Int(stream.total_in),
                        detail: "compressed stream ends before its end marker")
                }
                guard status == Z_OK || status == Z_BUF_ERROR else {
                    let message = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                    throw EventIOError.malformed(file: source,
                        detail: "gzip data do not inflate at compressed byte \(stream.total_in): \(message)")
                }
            }
        }
        output.removeSubrange(produced...)
        return output
    }
}
