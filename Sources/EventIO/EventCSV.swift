#if canImport(Glibc)
import Glibc
#endif
import AtomicFiles
import Foundation
import SpikeTensor

/// DVS events as CSV text, the form `spikefuse convert` writes:
///
///     t,x,y,p
///     5000046,184,684,0
///
/// one event per line in the events' order; `t` µs as stored (Int64, not rebased), `x` column
/// from the left, `y` row from the top, `p` 1 = ON, 0 = OFF; lines end in `\n`.
public enum EventCSV {
    public static let headerLine = "t,x,y,p"

    /// The CSV bytes of `events` (header included).
    public static func encode(_ events: DVSEvents) -> [UInt8] {
        var out: [UInt8] = Array((headerLine + "\n").utf8)
        out.reserveCapacity(out.count + events.count * 24)
        for i in 0..<events.count { appendLine(events, i, to: &out) }
        return out
    }

    /// Writes `events` as CSV to `url` atomically (temporary file, then rename), in 1 MiB
    /// pieces so that memory stays small for large recordings.
    public static func write(_ events: DVSEvents, to url: URL) throws {
        do {
            try AtomicFile.replace(url) { temporary in
                let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
                guard fd >= 0 else { throw EventIOError.unwritable(file: url.path, detail: "cannot create \(temporary.path): \(_errnoText())") }
                defer { close(fd) }
                var buffer: [UInt8] = Array((headerLine + "\n").utf8)
                buffer.reserveCapacity(1 << 20 + 64)
                func flush() throws {
                    try buffer.withUnsafeBytes { raw in
                        var done = 0
                        while done < raw.count {
                            let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                            if n < 0 {
                                if errno == EINTR { continue }
                                throw EventIOError.unwritable(file: url.path, detail: _errnoText())
                            }
                            done += n
                        }
                    }
                    buffer.removeAll(keepingCapacity: true)
                }
                for i in 0..<events.count {
                    appendLine(events, i, to: &buffer)
                    if buffer.count >= 1 << 20 { try flush() }
                }
                try flush()
                guard fsync(fd) == 0 else { throw EventIOError.unwritable(file: url.path, detail: "fsync: \(_errnoText())") }
            }
        } catch let error as AtomicFileError {
            throw EventIOError.unwritable(file: url.path, detail: error.reason)
        }
    }

    @inline(__always) static func appendLine(_ events: DVSEvents, _ i: Int, to out: inout [UInt8]) {
        appendDecimal(events.t[i], to: &out); out.append(UInt8(ascii: ","))
        appendDecimal(Int64(events.x[i]), to: &out); out.append(UInt8(ascii: ","))
        appendDecimal(Int64(events.y[i]), to: &out); out.append(UInt8(ascii: ","))
        out.append(events.polarity[i] != 0 ? UInt8(ascii: "1") : UInt8(ascii: "0"))
        out.append(UInt8(ascii: "\n"))
    }

    /// Decimal digits of `value` (a leading '-' when negative; Int64.min included).
    @inline(__always) static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        var magnitude = value.magnitude
        if value < 0 { out.append(UInt8(ascii: "-")) }
        if magnitude < 10 { out.append(UInt8(ascii: "0") + UInt8(magnitude)); return }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)   // 24 bytes of scratch: ≤ 19 digits, written backwards
        withUnsafeMutableBytes(of: &digits) { scratch in
            var n = 0
            while magnitude > 0 {
                scratch[23 - n] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                n += 1
            }
            out.append(contentsOf: scratch[(24 - n)..<24])
        }
    }
}
