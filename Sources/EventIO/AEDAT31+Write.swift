import Foundation
import SpikeTensor

extension AEDAT31 {
    /// Whether `events` can be written as AEDAT 3.1 polarity packets exactly; nil when they
    /// can, else what is wrong. x and y must fit 15 bits, polarity be 0 or 1, times be
    /// non-negative, non-decreasing and below 2⁶² µs (a 31-bit overflow count).
    public static func encodingProblem(_ events: DVSEvents) -> String? {
        var previous = Int64.min
        for i in 0..<events.count {
            if events.x[i] > 0x7FFF || events.y[i] > 0x7FFF {
                return "event \(i) at (x \(events.x[i]), y \(events.y[i])) does not fit AEDAT 3.1's 15-bit coordinates"
            }
            if events.polarity[i] > 1 { return "event \(i) has polarity \(events.polarity[i]), not 0 or 1" }
            if events.t[i] < 0 || events.t[i] >= (1 << 62) {
                return "event \(i) timestamp \(events.t[i]) µs is outside 0 ..< 2⁶²"
            }
            if events.t[i] < previous { return "event \(i) timestamp \(events.t[i]) µs is before the previous one \(previous) µs" }
            previous = events.t[i]
        }
        return nil
    }

    /// Encodes events as an AEDAT 3.1 file: `#!AER-DAT3.1`, `#Format: RAW`,
    /// `#Source <sourceID>: <sourceName>`, `#!END-HEADER` (CR LF each), then polarity packets
    /// of at most `eventsPerPacket` events; a new packet starts where t >> 31 changes, so each
    /// packet's eventTSOverflow holds for all its events. All events are marked valid.
    /// Only events with `encodingProblem(events) == nil` round-trip exactly (others are masked
    /// to their bit fields, no trap); `write` checks and throws `.unencodable`.
    public static func encode(_ events: DVSEvents, sourceName: String = "DVS128", sourceID: Int16 = 1,
                              eventsPerPacket: Int = 4096) -> [UInt8] {
        var out = Array("\(versionLine)\r\n#Format: RAW\r\n#Source \(sourceID): \(sourceName)\r\n\(endOfHeaderLine)\r\n".utf8)
        let perPacket = max(1, eventsPerPacket)
        func put32(_ v: Int32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        var start = 0
        while start < events.count {
            let overflow = events.t[start] >> 31
            var end = start + 1
            while end < events.count, end - start < perPacket, events.t[end] >> 31 == overflow { end += 1 }
            let n = Int32(end - start)
            withUnsafeBytes(of: polarityType.littleEndian) { out.append(contentsOf: $0) }
            withUnsafeBytes(of: sourceID.littleEndian) { out.append(contentsOf: $0) }
            put32(8); put32(4); put32(Int32(truncatingIfNeeded: overflow)); put32(n); put32(n); put32(n)
            for i in start..<end {
                let data = (UInt32(events.x[i]) & 0x7FFF) << 17 | (UInt32(events.y[i]) & 0x7FFF) << 2
                    | UInt32(events.polarity[i] & 1) << 1 | 1
                put32(Int32(bitPattern: data))
                put32(Int32(truncatingIfNeeded: events.t[i] & 0x7FFF_FFFF))
            }
            start = end
        }
        return out
    }

    /// Writes events to `url` as AEDAT 3.1, atomically. Throws `.unencodable` for events the
    /// format cannot hold (see `encodingProblem`).
    public static func write(_ events: DVSEvents, to url: URL, sourceName: String = "DVS128",
                             eventsPerPacket: Int = 4096) throws {
        if let problem = encodingProblem(events) {
            throw EventIOError.unencodable(file: url.path, detail: problem)
        }
        try _FileBytes.writeAtomically(encode(events, sourceName: sourceName, eventsPerPacket: eventsPerPacket), to: url)
    }
}
