import Foundation
import SpikeTensor

/// Prophesee DAT files of CD events (the Gen1/1Mpx automotive datasets, Metavision's
/// `.dat` export).
///
/// Layout: a `% ` header (`PropheseeHeader`: `% Version 2`, `% Width 304`, `% Height 240`,
/// `% Date …`), then one byte event type (12 = EventCD, or 0 = Event2D, the same layout) and
/// one byte event size (8), then 8-byte little-endian records:
///
///     u32 t (µs)
///     u32 Version 2 (or no Version): x bits 0–13, y bits 14–27, polarity bit 28
///         Version 1 (older ATIS):    x bits 0–8,  y bits 9–16,  polarity bit 17
///
/// Events: `t` in µs as recorded (not shifted to start at 0); the 32-bit time is unsigned
/// (it may pass 2³¹) and unwrapped: a step back by more than 2³¹ µs adds 2³² µs (OpenEB's
/// Python reader keeps the raw 32-bit value, which differs only after 71.6 minutes).
/// `x` column from the left, `y` row from the top (origin top-left); polarity 1 = ON,
/// 0 = OFF; file order. External-trigger files (type 14) are refused as not CD events.
public enum PropheseeDAT: PropheseeFileReader {
    /// Decodes DAT bytes with the header and the reader's counts.
    public static func decodeRecording(_ bytes: [UInt8], source: String,
                                       options: PropheseeReadOptions = .init()) throws -> PropheseeRecording {
        guard !bytes.isEmpty else { throw EventIOError.emptyFile(file: source) }
        let header = PropheseeHeader(parsing: bytes)
        guard !header.lines.isEmpty else {
            throw EventIOError.badHeader(file: source, detail: "a DAT file starts with '% ' header lines; this one does not")
        }
        let version = header.fields["Version"] ?? "2"
        guard version == "1" || version == "2" else {
            throw EventIOError.unsupportedEncoding(file: source, detail: "DAT '% Version \(version)'; known: 1 and 2")
        }
        let v1 = version == "1"
        let limits = v1 ? (x: 1 << 9, y: 1 << 8) : (x: 1 << 14, y: 1 << 14)
        let width = try header.dimension(header.fields["Width"], named: "Width", limit: limits.x, source: source)
        let height = try header.dimension(header.fields["Height"], named: "Height", limit: limits.y, source: source)
        let sensor = width.flatMap { w in height.map { SensorSize(width: w, height: $0) } }

        let typeOffset = header.bodyOffset
        guard bytes.count >= typeOffset + 2 else {
            throw EventIOError.truncated(file: source, offset: typeOffset,
                detail: "the file ends before the event type and size bytes that follow the header")
        }
        let type = bytes[typeOffset], size = bytes[typeOffset + 1]
        guard type == 12 || type == 0 else {
            throw EventIOError.unsupportedEncoding(file: source,
                detail: "event type \(type) at byte offset \(typeOffset)" + (type == 14 ? " (external triggers)" : "")
                    + "; this reader decodes CD events (type 12, or 0 for Event2D)")
        }
        guard size == 8 else {
            throw EventIOError.malformed(file: source,
                detail: "event size \(size) at byte offset \(typeOffset + 1); CD records are 8 bytes")
        }
        let body = typeOffset + 2
        let bodyLength = bytes.count - body
        guard bodyLength % 8 == 0 else {
            throw EventIOError.truncated(file: source, offset: bytes.count - bodyLength % 8,
                detail: "the body is \(bodyLength) bytes, not a whole number of 8-byte records")
        }
        let known = sensor ?? options.sensor
        var recording = PropheseeRecording(events: DVSEvents(sensor: known ?? SensorSize(width: 1, height: 1)),
                                           encoding: .dat, legacyEndianness: false, header: header,
                                           sensorFromHeader: sensor != nil)
        let records = bodyLength / 8
        let result = try bytes.withUnsafeBytes { raw in
            try _CDEventOutput.collect(capacity: records, width: known?.width ?? limits.x, height: known?.height ?? limits.y,
                                       sensorKnown: known != nil, source: source, options: options) { output in
                var wrap: Int64 = 0
                var last: Int64 = -1                    // last unwrapped time
                var offset = body
                for _ in 0..<records {
                    defer { offset &+= 8 }
                    var t = Int64(raw._littleEndianUInt32(at: offset)) + wrap
                    if t < last, last - t > (1 << 31) {
                        wrap += 1 << 32; t += 1 << 32
                        recording.timestampWraps += 1
                    }
                    last = t
                    let word = raw._littleEndianUInt32(at: offset &+ 4)
                    if v1 {
                        try output.emit(t: t, x: Int(word & 0x1FF), y: Int((word >> 9) & 0xFF),
                                        polarity: UInt8(truncatingIfNeeded: (word >> 17) & 1), offset: offset)
                    } else {
                        try output.emit(t: t, x: Int(word & 0x3FFF), y: Int((word >> 14) & 0x3FFF),
                                        polarity: UInt8(truncatingIfNeeded: (word >> 28) & 1), offset: offset)
                    }
                }
            }
        }
        recording.skippedInvalidAddresses = result.skippedInvalid
        recording.clampedTimestamps = result.clamped
        recording.events = result.events
        return recording
    }
}
