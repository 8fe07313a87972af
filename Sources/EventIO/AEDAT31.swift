import Foundation
import SpikeTensor

/// Options of `AEDAT31.read` / `AEDAT31.decode`. The defaults read DVS128 Gesture files.
public struct AEDAT31ReadOptions: Sendable, Equatable {
    /// Sensor size to use instead of the one named by the header's `#Source N: NAME` line
    /// (needed only when the name is not one `AEDAT31.sensorSize(named:)` knows).
    public var sensor: SensorSize?
    /// A pixel outside the sensor. Default: error (the file is of another camera, or garbage).
    public var invalidAddresses: AEDATAddressPolicy
    /// A polarity timestamp smaller than the previous one. Default: error.
    public var backwardTimestamps: AEDATBackwardTimePolicy

    public init(sensor: SensorSize? = nil, invalidAddresses: AEDATAddressPolicy = .error,
                backwardTimestamps: AEDATBackwardTimePolicy = .error) {
        self.sensor = sensor; self.invalidAddresses = invalidAddresses
        self.backwardTimestamps = backwardTimestamps
    }
}

/// A decoded AEDAT 3.1 file: the polarity events plus what the reader did on the way.
public struct AEDAT31Recording: Sendable, Equatable {
    public var events: DVSEvents
    /// Header lines without the line ending, from `#!AER-DAT3.1` to `#!END-HEADER`.
    public var headerLines: [String]
    /// Byte offset of the first packet header (= total header length).
    public var bodyOffset: Int
    /// Sensor names of the header's `#Source N: NAME` lines, by source id N.
    public var sources: [Int: String]
    /// Packets read, of every type.
    public var packets: Int
    /// Packets of other types than polarity (1), skipped by their size.
    public var skippedPackets: Int
    /// Polarity events whose valid bit (bit 0) is clear, skipped.
    public var invalidEvents: Int
    /// Pixels outside the sensor skipped (only with `invalidAddresses: .skip`).
    public var skippedInvalidAddresses: Int
    /// Backwards timestamps clamped (only with `backwardTimestamps: .clamp`).
    public var clampedTimestamps: Int
}

/// AEDAT 3.1, the cAER file format (DVS128 Gesture, DAVIS recordings of 2016–2019).
///
/// Layout (all integers little-endian):
///
///     "#!AER-DAT3.1\r\n", more "#…\r\n" lines (e.g. "#Source 1: DVS128"), "#!END-HEADER\r\n"
///     packets, each a 28-byte header then eventCapacity × eventSize bytes:
///         i16 eventType  i16 eventSource  i32 eventSize  i32 eventTSOffset
///         i32 eventTSOverflow  i32 eventCapacity  i32 eventNumber  i32 eventValid
///
/// Packets of type 1 are polarity events, 8 bytes each (eventSize 8, eventTSOffset 4):
///
///     u32 data:  bit 0 valid, bit 1 polarity (1 = ON), bits 2–16 y, bits 17–31 x
///     i32 timestamp, µs; the full time is (eventTSOverflow << 31) | timestamp
///
/// The first eventNumber events of a packet are read; those with the valid bit clear are
/// skipped and counted. Every other packet type (special, frame, IMU …) is skipped by
/// eventCapacity × eventSize. x counts columns from the left and y rows from the **top**
/// (AEDAT 3.1; 3.0 counted from the bottom and is not read). Polarity is EventIO's: 1 = ON,
/// 0 = OFF. Times are kept as written (µs, not shifted to 0). The header carries no sensor
/// size: it comes from the `#Source N: NAME` line of the packets' source (DVS128 → 128×128,
/// DAVIS346 → 346×260 …, see `sensorSize(named:)`) or from `AEDAT31ReadOptions.sensor`.
///
/// Every problem is an `EventIOError` naming the file and the byte offset of the packet or
/// event; the reader never traps and always advances by at least 28 bytes per packet.
///
/// ```swift
/// let events = try AEDAT31.read(URL(fileURLWithPath: "user01_fluorescent.aedat"))
/// events.sensor           // 128×128
/// ```
public enum AEDAT31 {
    /// The version line every AEDAT 3.1 file starts with.
    public static let versionLine = "#!AER-DAT3.1"
    /// The line that ends the header.
    public static let endOfHeaderLine = "#!END-HEADER"
    /// Size of a packet header in bytes.
    public static let packetHeaderSize = 28
    /// The polarity event type.
    public static let polarityType: Int16 = 1

    /// Sensor size of a camera named in a `#Source` line, or nil. The name is compared
    /// case-insensitively, ignoring spaces, `_` and `-`, by its longest known prefix:
    /// DVS128 128×128, DAVIS128 128×128, DAVIS240 (A/B/C) 240×180, DAVIS346 (B/Red/Color …)
    /// 346×260, DVXplorer 640×480, DVXplorer Lite 320×240.
    public static func sensorSize(named name: String) -> SensorSize? {
        let key = String(name.uppercased().filter { $0.isLetter || $0.isNumber })
        let known: [(String, SensorSize)] = [
            ("DVXPLORERLITE", SensorSize(width: 320, height: 240)),
            ("DVXPLORER", SensorSize(width: 640, height: 480)),
            ("DAVIS346", SensorSize(width: 346, height: 260)),
            ("DAVIS240", SensorSize(width: 240, height: 180)),
            ("DAVIS128", .dvs128),
            ("DVS128", .dvs128),
        ]
        return known.first { key.hasPrefix($0.0) }?.1
    }

    /// Reads the AEDAT 3.1 file at `url`.
    public static func read(_ url: URL, options: AEDAT31ReadOptions = .init()) throws -> DVSEvents {
        try readRecording(url, options: options).events
    }

    /// Reads the file at `url` and reports header lines, sources and skipped counts.
    public static func readRecording(_ url: URL, options: AEDAT31ReadOptions = .init()) throws -> AEDAT31Recording {
        try decodeRecording(try _FileBytes.read(url), source: url.path, options: options)
    }

    /// Decodes AEDAT 3.1 bytes; `source` names them in errors.
    public static func decode(_ bytes: [UInt8], source: String,
                              options: AEDAT31ReadOptions = .init()) throws -> DVSEvents {
        try decodeRecording(bytes, source: source, options: options).events
    }

    /// One polarity packet found by the header walk: where its events start and what they share.
    private struct PolarityPacket {
        var headerOffset: Int, eventCount: Int, overflow: Int64, sensor: SensorSize
    }

    /// Decodes AEDAT 3.1 bytes and reports header lines, sources and skipped counts.
    public static func decodeRecording(_ bytes: [UInt8], source: String,
                                       options: AEDAT31ReadOptions = .init()) throws -> AEDAT31Recording {
        guard !bytes.isEmpty else { throw EventIOError.emptyFile(file: source) }
        if let s = options.sensor, !(1...32768).contains(s.width) || !(1...32768).contains(s.height) {
            throw EventIOError.malformed(file: source,
                detail: "AEDAT31ReadOptions.sensor \(s) is not within AEDAT 3.1's 15-bit 32768×32768")
        }
        let (headerLines, bodyOffset) = try parseHeader(bytes, source: source)
        let sources = parseSources(headerLines)

        // Pass 1: walk the packet headers, check them, and list the polarity packets.
        var polarity: [PolarityPacket] = []
        var packets = 0, skipped = 0, total = 0
        var offset = bodyOffset
        try bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let remaining = raw.count - offset
                guard remaining >= packetHeaderSize else {
                    throw EventIOError.truncated(file: source, offset: offset,
                        detail: "packet header needs \(packetHeaderSize) bytes, only \(remaining) remain")
                }
                let type = Int16(bitPattern: raw._littleEndianUInt16(at: offset))
                let sourceID = Int(Int16(bitPattern: raw._littleEndianUInt16(at: offset + 2)))
                let field = { (k: Int) in Int(Int32(bitPattern: raw._littleEndianUInt32(at: offset + k))) }
                let size = field(4), tsOffset = field(8), overflow = field(12)
                let capacity = field(16), number = field(20), valid = field(24)
                let at = "packet header at byte offset \(offset) (type \(type), source \(sourceID))"
                guard size >= 0, capacity >= 0, number >= 0, valid >= 0, overflow >= 0 else {
                    throw EventIOError.malformed(file: source,
                        detail: "\(at): negative field (eventSize \(size), eventTSOverflow \(overflow), eventCapacity \(capacity), eventNumber \(number), eventValid \(valid))")
                }
                guard number <= capacity, valid <= number else {
                    throw EventIOError.malformed(file: source,
                        detail: "\(at): eventValid \(valid) ≤ eventNumber \(number) ≤ eventCapacity \(capacity) does not hold")
                }
                let body = capacity * size    // both < 2³¹, so no overflow in Int64
                guard body <= remaining - packetHeaderSize else {
                    throw EventIOError.truncated(file: source, offset: offset,
                        detail: "\(at) declares eventCapacity \(capacity) × eventSize \(size) = \(body) bytes, only \(remaining - packetHeaderSize) remain")
                }
                if type == polarityType {
                    guard size == 8, tsOffset == 4 else {
                        throw EventIOError.malformed(file: source,
                            detail: "\(at): a polarity packet needs eventSize 8 and eventTSOffset 4, has \(size) and \(tsOffset)")
                    }
                    let sensor: SensorSize
                    if let s = options.sensor {
                        sensor = s
                    } else if let name = sources[sourceID], let s = sensorSize(named: name) {
                        sensor = s
                    } else {
                        let named = sources[sourceID].map { "names an unknown sensor '\($0)'" } ?? "is not in the header"
                        throw EventIOError.badHeader(file: source,
                            detail: "\(at): source \(sourceID) \(named); pass AEDAT31ReadOptions(sensor:)")
                    }
                    if let first = polarity.first, first.sensor != sensor {
                        throw EventIOError.malformed(file: source,
                            detail: "\(at): polarity source of sensor \(sensor) after one of \(first.sensor); one sensor per file is read")
                    }
                    if number > 0 {
                        polarity.append(PolarityPacket(headerOffset: offset, eventCount: number,
                                                       overflow: Int64(overflow), sensor: sensor))
                        total += number
                    }
                } else {
                    skipped += 1
                }
                packets += 1
                offset += packetHeaderSize + body
            }
        }

        // Pass 2: decode the polarity events into columns sized for all of them.
        let sensor = polarity.first?.sensor ?? options.sensor
            ?? sources.keys.sorted().lazy.compactMap { sources[$0].flatMap(sensorSize(named:)) }.first
            ?? .dvs128
        var ts = [Int64](repeating: 0, count: total)
        var xs = [UInt16](repeating: 0, count: total)
        var ys = [UInt16](repeating: 0, count: total)
        var ps = [UInt8](repeating: 0, count: total)
        var kept = 0, invalid = 0, skippedAddresses = 0, clamped = 0
        let width = UInt32(sensor.width), height = UInt32(sensor.height)
        try bytes.withUnsafeBytes { raw in
        try ts.withUnsafeMutableBufferPointer { tOut in
        try xs.withUnsafeMutableBufferPointer { xOut in
        try ys.withUnsafeMutableBufferPointer { yOut in
        try ps.withUnsafeMutableBufferPointer { pOut in
            var previous = Int64.min
            for packet in polarity {
                let high = packet.overflow << 31
                var at = packet.headerOffset + packetHeaderSize
                for _ in 0..<packet.eventCount {
                    defer { at += 8 }
                    let data = raw._littleEndianUInt32(at: at)
                    let stamp = Int32(bitPattern: raw._littleEndianUInt32(at: at + 4))
                    if data & 1 == 0 { invalid += 1; continue }
                    let x = data >> 17, y = (data >> 2) & 0x7FFF
                    if x >= width || y >= height {
                        if options.invalidAddresses == .skip { skippedAddresses += 1; continue }
                        throw EventIOError.addressOutOfRange(file: source, offset: at,
                            detail: "pixel (x \(x), y \(y)) is outside the \(sensor) sensor")
                    }
                    guard stamp >= 0 else {
                        throw EventIOError.malformed(file: source,
                            detail: "polarity event at byte offset \(at) has a negative timestamp \(stamp)")
                    }
                    var t = high | Int64(stamp)
                    if t < previous {
                        guard options.backwardTimestamps == .clamp else {
                            throw EventIOError.timestampJump(file: source, offset: at,
                                detail: "timestamp \(t) µs after \(previous) µs (back by \(previous - t) µs)")
                        }
                        t = previous; clamped += 1
                    }
                    previous = t
                    tOut[kept] = t
                    xOut[kept] = UInt16(truncatingIfNeeded: x)
                    yOut[kept] = UInt16(truncatingIfNeeded: y)
                    pOut[kept] = UInt8(truncatingIfNeeded: (data >> 1) & 1)
                    kept += 1
                }
            }
        }}}}}
        if kept < total {
            let dropped = total - kept
            ts.removeLast(dropped); xs.removeLast(dropped); ys.removeLast(dropped); ps.removeLast(dropped)
        }
        return AEDAT31Recording(events: DVSEvents(sensor: sensor, t: ts, x: xs, y: ys, polarity: ps),
                                headerLines: headerLines, bodyOffset: bodyOffset, sources: sources,
                                packets: packets, skippedPackets: skipped, invalidEvents: invalid,
                                skippedInvalidAddresses: skippedAddresses, clampedTimestamps: clamped)
    }

    /// The header lines (without line ends) up to and including `#!END-HEADER`, and the
    /// offset of the first packet.
    static func parseHeader(_ bytes: [UInt8], source: String) throws -> ([String], Int) {
        try AEDAT.requireVersionLine(versionLine, in: bytes, source: source)
        var lines: [String] = []
        var position = 0
        while true {
            guard position < bytes.count else {
                throw EventIOError.truncated(file: source, offset: position,
                    detail: "the header ends without a '\(endOfHeaderLine)' line")
            }
            guard bytes[position] == UInt8(ascii: "#") else {
                throw EventIOError.badHeader(file: source,
                    detail: "header line at byte offset \(position) does not start with '#' and no '\(endOfHeaderLine)' came before it")
            }
            guard let newline = bytes[position...].firstIndex(of: UInt8(ascii: "\n")) else {
                throw EventIOError.truncated(file: source, offset: position,
                    detail: "header line starting here has no line end")
            }
            var end = newline
            if end > position, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            let line = String(decoding: bytes[position..<end], as: UTF8.self)
            lines.append(line)
            position = newline + 1
            if line == endOfHeaderLine { return (lines, position) }
        }
    }

    /// `#Source N: NAME` lines as [N: NAME].
    static func parseSources(_ lines: [String]) -> [Int: String] {
        var sources: [Int: String] = [:]
        for line in lines where line.hasPrefix("#Source ") {
            let rest = line.dropFirst("#Source ".count)
            guard let colon = rest.firstIndex(of: ":"), let id = Int(rest[..<colon].trimmingCharacters(in: .whitespaces))
            else { continue }
            sources[id] = rest[rest.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return sources
    }
}
