import Foundation
import SpikeTensor

/// How the AEDAT reader treats addresses that are not DVS128 pixel events.
public enum AEDATAddressPolicy: Sendable, Equatable {
    /// Drop the event and count it in `AEDATRecording`.
    case skip
    /// Stop with `EventIOError.addressOutOfRange`.
    case error
}

/// How the AEDAT reader treats a timestamp smaller than the previous one that is not a
/// 32-bit clock wrap (a wrap is a jump back by more than 2³¹ µs and is always unwrapped).
public enum AEDATBackwardTimePolicy: Sendable, Equatable {
    /// Stop with `EventIOError.timestampJump` (the default: such a file is suspicious).
    case error
    /// Give the event the previous event's timestamp and count it in `AEDATRecording`.
    case clamp
}

/// Options of `AEDAT.read` / `AEDAT.decode`. The defaults read MNIST-DVS files.
public struct AEDATReadOptions: Sendable, Equatable {
    /// Sensor size given to the result; a pixel with x ≥ width or y ≥ height is an invalid
    /// address. DVS128 addresses carry 7-bit x and y, so the sensor is at most 128×128.
    public var sensor: SensorSize
    /// Mirror x: `x = 127 − rawX` (the MNIST-DVS convention, digits upright and unmirrored).
    /// With `false`, `x = rawX` (jAER's raw DVS128 column).
    public var flipX: Bool
    /// Bit 15 set, bits 16–31 clear: jAER's external/special event marker. Default: skip.
    public var externalEvents: AEDATAddressPolicy
    /// Any of bits 16–31 set (not a DVS128 address at all), or a pixel outside `sensor`.
    /// Default: error, because such data usually means a file of another camera or garbage.
    public var invalidAddresses: AEDATAddressPolicy
    /// A backwards timestamp that is not a wrap. Default: error.
    public var backwardTimestamps: AEDATBackwardTimePolicy

    public init(sensor: SensorSize = .dvs128, flipX: Bool = true,
                externalEvents: AEDATAddressPolicy = .skip,
                invalidAddresses: AEDATAddressPolicy = .error,
                backwardTimestamps: AEDATBackwardTimePolicy = .error) {
        self.sensor = sensor; self.flipX = flipX; self.externalEvents = externalEvents
        self.invalidAddresses = invalidAddresses; self.backwardTimestamps = backwardTimestamps
    }
}

/// A decoded AEDAT file: the events plus what the reader did on the way.
public struct AEDATRecording: Sendable, Equatable {
    public var events: DVSEvents
    /// Header lines without the line ending, starting with `#!AER-DAT2.0`.
    public var headerLines: [String]
    /// Byte offset of the first event record (= total header length).
    public var bodyOffset: Int
    /// External/special events (bit 15) that were skipped.
    public var skippedExternalEvents: Int
    /// Invalid addresses skipped (only with `invalidAddresses: .skip`).
    public var skippedInvalidAddresses: Int
    /// 32-bit timestamp wraps unwrapped (each adds 2³² µs to the following events).
    public var timestampWraps: Int
    /// Backwards timestamps clamped (only with `backwardTimestamps: .clamp`).
    public var clampedTimestamps: Int
}

/// AEDAT 2.0, the jAER file format of MNIST-DVS.
///
/// Layout: ASCII header lines, each starting with `#` and ending in CR LF (any number; the
/// first is `#!AER-DAT2.0`), then 8-byte records: a big-endian uint32 address and a
/// big-endian uint32 timestamp in µs. DVS128 address bits:
///
///     bit 0      polarity, 0 = ON, 1 = OFF   (EventIO: polarity 1 = ON, 0 = OFF)
///     bits 1–7   raw x                        (EventIO: x = 127 − rawX with flipX)
///     bits 8–14  y, row from the top
///     bit 15     external/special event marker (skipped by default)
///
/// Timestamps are unwrapped to `Int64`: a jump back by more than 2³¹ µs is a 32-bit wrap and
/// adds 2³² µs; a smaller backwards jump is an error (or clamped, by option). Timestamps are
/// kept as written (not shifted to start at 0), so `write` → `read` gives identical events.
///
/// ```swift
/// let events = try AEDAT.read(URL(fileURLWithPath: "mnist_0_scale04_0001.aedat"))
/// events.count            // 15744
/// ```
public enum AEDAT {
    /// The version line every AEDAT 2.0 file starts with.
    public static let versionLine = "#!AER-DAT2.0"
    /// Header lines `write` puts after the version line when none are given.
    public static let defaultHeaderLines = [
        "# This is a raw AE data file - do not edit",
        "# Data format is int32 address, int32 timestamp (8 bytes total), repeated for each event",
        "# Timestamps tick is 1 us",
        "# created by SpikeFuse EventIO",
    ]

    /// Reads the AEDAT 2.0 file at `url`.
    public static func read(_ url: URL, options: AEDATReadOptions = .init()) throws -> DVSEvents {
        try readRecording(url, options: options).events
    }

    /// Reads the file at `url` and reports header lines and skipped/unwrapped counts.
    public static func readRecording(_ url: URL, options: AEDATReadOptions = .init()) throws -> AEDATRecording {
        let bytes = try _FileBytes.read(url)
        return try decodeRecording(bytes, source: url.path, options: options)
    }

    /// Decodes AEDAT 2.0 bytes; `source` names them in errors.
    public static func decode(_ bytes: [UInt8], source: String,
                              options: AEDATReadOptions = .init()) throws -> DVSEvents {
        try decodeRecording(bytes, source: source, options: options).events
    }

    /// Decodes AEDAT 2.0 bytes and reports header lines and skipped/unwrapped counts.
    public static func decodeRecording(_ bytes: [UInt8], source: String,
                                       options: AEDATReadOptions = .init()) throws -> AEDATRecording {
        guard !bytes.isEmpty else { throw EventIOError.emptyFile(file: source) }
        guard options.sensor.width >= 1, options.sensor.width <= 128,
              options.sensor.height >= 1, options.sensor.height <= 128 else {
            throw EventIOError.malformed(file: source,
                detail: "AEDATReadOptions.sensor \(options.sensor) is not within DVS128's 128×128")
        }
        let (headerLines, bodyOffset) = try parseHeader(bytes, source: source)
        let bodyLength = bytes.count - bodyOffset
        guard bodyLength % 8 == 0 else {
            let lastRecord = bodyOffset + (bodyLength / 8) * 8
            throw EventIOError.truncated(file: source, offset: lastRecord,
                detail: "event body is \(bodyLength) bytes, not a multiple of 8; the last record has only \(bodyLength % 8) bytes")
        }
        let recordCount = bodyLength / 8
        // Output columns sized for every record, written through pointers, trimmed at the end
        // (no per-event allocation or capacity checks).
        var ts = [Int64](repeating: 0, count: recordCount)
        var xs = [UInt16](repeating: 0, count: recordCount)
        var ys = [UInt16](repeating: 0, count: recordCount)
        var ps = [UInt8](repeating: 0, count: recordCount)
        var kept = 0
        var skippedExternal = 0, skippedInvalid = 0, wraps = 0, clamped = 0
        let width = UInt32(options.sensor.width), height = UInt32(options.sensor.height)
        let flip = options.flipX
        try bytes.withUnsafeBytes { raw in
        try ts.withUnsafeMutableBufferPointer { tOut in
        try xs.withUnsafeMutableBufferPointer { xOut in
        try ys.withUnsafeMutableBufferPointer { yOut in
        try ps.withUnsafeMutableBufferPointer { pOut in
            var previous: Int64 = -1        // last kept timestamp, unwrapped
            var wrapOffset: Int64 = 0       // k · 2³² after k wraps
            var offset = bodyOffset
            for _ in 0..<recordCount {
                defer { offset += 8 }
                let address = raw._bigEndianUInt32(at: offset)
                let stamp = raw._bigEndianUInt32(at: offset + 4)
                if address & 0xFFFF_0000 != 0 {
                    if options.invalidAddresses == .skip { skippedInvalid += 1; continue }
                    throw EventIOError.addressOutOfRange(file: source, offset: offset,
                        detail: "address 0x\(String(address, radix: 16)) has bits above 15 set; not a DVS128 pixel address")
                }
                if address & 0x8000 != 0 {
                    if options.externalEvents == .skip { skippedExternal += 1; continue }
                    throw EventIOError.addressOutOfRange(file: source, offset: offset,
                        detail: "address 0x\(String(address, radix: 16)) is an external/special event (bit 15)")
                }
                let rawX = (address >> 1) & 0x7F
                let y = (address >> 8) & 0x7F
                let x = flip ? 127 - rawX : rawX
                if x >= width || y >= height {
                    if options.invalidAddresses == .skip { skippedInvalid += 1; continue }
                    throw EventIOError.addressOutOfRange(file: source, offset: offset,
                        detail: "pixel (x \(x), y \(y)) is outside the \(options.sensor) sensor")
                }
                var t = Int64(stamp) + wrapOffset
                if t < previous {
                    if previous - t > (1 << 31) {
                        wrapOffset += 1 << 32; t += 1 << 32; wraps += 1
                    } else if options.backwardTimestamps == .clamp {
                        t = previous; clamped += 1
                    } else {
                        throw EventIOError.timestampJump(file: source, offset: offset,
                            detail: "timestamp \(t) µs after \(previous) µs (back by \(previous - t) µs, not a 32-bit wrap)")
                    }
                }
                previous = t
                tOut[kept] = t
                xOut[kept] = UInt16(truncatingIfNeeded: x)
                yOut[kept] = UInt16(truncatingIfNeeded: y)
                pOut[kept] = UInt8(truncatingIfNeeded: (address & 1) ^ 1)   // file 0 = ON → 1
                kept += 1
            }
        }}}}}
        if kept < recordCount {
            let dropped = recordCount - kept
            ts.removeLast(dropped); xs.removeLast(dropped); ys.removeLast(dropped); ps.removeLast(dropped)
        }
        let events = DVSEvents(sensor: options.sensor, t: ts, x: xs, y: ys, polarity: ps)
        return AEDATRecording(events: events, headerLines: headerLines, bodyOffset: bodyOffset,
                              skippedExternalEvents: skippedExternal,
                              skippedInvalidAddresses: skippedInvalid,
                              timestampWraps: wraps, clampedTimestamps: clamped)
    }

    /// Throws `badHeader` (showing the first bytes) unless `bytes` start with `line`, an AEDAT
    /// version line such as `#!AER-DAT2.0`.
    static func requireVersionLine(_ line: String, in bytes: [UInt8], source: String) throws {
        let version = Array(line.utf8)
        guard bytes.count >= version.count, Array(bytes[0..<version.count]) == version else {
            let shown = String(decoding: bytes.prefix(16), as: UTF8.self)
                .unicodeScalars.map { $0.isASCII && $0.value >= 32 ? String($0) : "?" }.joined()
            let expected = line.replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n")
            throw EventIOError.badHeader(file: source, detail: "does not start with '\(expected)' (starts with '\(shown)')")
        }
    }

    /// Splits off the `#` header lines; returns them (without line ends) and the body offset.
    static func parseHeader(_ bytes: [UInt8], source: String) throws -> ([String], Int) {
        try AEDAT.requireVersionLine(versionLine, in: bytes, source: source)
        var lines: [String] = []
        var position = 0
        while position < bytes.count, bytes[position] == UInt8(ascii: "#") {
            guard let newline = bytes[position...].firstIndex(of: UInt8(ascii: "\n")) else {
                throw EventIOError.truncated(file: source, offset: position,
                    detail: "header line starting here has no line end")
            }
            var end = newline
            if end > position, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            lines.append(String(decoding: bytes[position..<end], as: UTF8.self))
            position = newline + 1
        }
        return (lines, position)
    }

    /// Whether `events` can be written as DVS128 AEDAT (with x mirrored if `flipX`).
    /// Returns nil when they can, else what is wrong.
    public static func encodingProblem(_ events: DVSEvents) -> String? {
        var previous = Int64.min
        for i in 0..<events.count {
            if events.x[i] > 127 || events.y[i] > 127 {
                return "event \(i) at (x \(events.x[i]), y \(events.y[i])) does not fit DVS128's 7-bit coordinates"
            }
            if events.polarity[i] > 1 { return "event \(i) has polarity \(events.polarity[i]), not 0 or 1" }
            if events.t[i] < 0 { return "event \(i) has negative timestamp \(events.t[i]) µs" }
            if events.t[i] < previous { return "event \(i) timestamp \(events.t[i]) µs is before the previous one \(previous) µs" }
            if previous == .min, events.t[i] >= (1 << 32) {
                return "first timestamp \(events.t[i]) µs does not fit 32 bits"
            }
            if previous != .min {
                // Written modulo 2³²; the reader unwraps a backwards step of more than 2³¹ µs.
                // So a gap d must be < 2³², and < 2³¹ when it crosses a multiple of 2³².
                let gap = events.t[i] - previous
                let crosses = events.t[i] >> 32 != previous >> 32
                if gap >= (1 << 32) || (crosses && gap >= (1 << 31)) {
                    return "event \(i) comes \(gap) µs after the previous one; 32-bit timestamps cannot carry that gap unambiguously"
                }
            }
            previous = events.t[i]
        }
        return nil
    }

    /// Encodes events as AEDAT 2.0 bytes: the version line, `headerLines` (a `#` is prefixed
    /// where missing; a repeated version line is dropped), each ending CR LF, then the records.
    /// Timestamps are written modulo 2³² (the reader unwraps them again).
    ///
    /// Only events with `encodingProblem(events) == nil` round-trip exactly; otherwise x, y
    /// and polarity are masked to their bit fields and times taken modulo 2³² (no trap).
    /// `write` checks and throws `.unencodable` instead.
    public static func encode(_ events: DVSEvents, headerLines: [String] = defaultHeaderLines,
                              flipX: Bool = true) -> [UInt8] {
        var header = versionLine + "\r\n"
        for line in headerLines where line != versionLine {
            let clean = line.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
            header += (clean.hasPrefix("#") ? clean : "# " + clean) + "\r\n"
        }
        let headerBytes = Array(header.utf8)
        let n = events.count
        var out = [UInt8](repeating: 0, count: headerBytes.count + 8 * n)
        out.withUnsafeMutableBytes { raw in
            for (i, b) in headerBytes.enumerated() { raw[i] = b }
            var offset = headerBytes.count
            for i in 0..<n {
                let x = UInt32(events.x[i]) & 0x7F
                let rawX = flipX ? 127 - x : x
                let address = (UInt32(events.y[i]) & 0x7F) << 8 | rawX << 1 | (UInt32(events.polarity[i] & 1) ^ 1)
                raw.storeBytes(of: address.bigEndian, toByteOffset: offset, as: UInt32.self)
                raw.storeBytes(of: UInt32(truncatingIfNeeded: events.t[i]).bigEndian,
                               toByteOffset: offset + 4, as: UInt32.self)
                offset += 8
            }
        }
        return out
    }

    /// Writes events to `url` as AEDAT 2.0, atomically (temporary file, then rename).
    /// Throws `.unencodable` for events DVS128 AEDAT cannot hold (see `encodingProblem`).
    public static func write(_ events: DVSEvents, to url: URL,
                             headerLines: [String] = defaultHeaderLines, flipX: Bool = true) throws {
        if let problem = encodingProblem(events) {
            throw EventIOError.unencodable(file: url.path, detail: problem)
        }
        try _FileBytes.writeAtomically(encode(events, headerLines: headerLines, flipX: flipX), to: url)
    }
}
