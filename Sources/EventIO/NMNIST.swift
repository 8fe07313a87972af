import Foundation
import SpikeTensor

/// N-MNIST (Orchard et al., 2015): MNIST digits recorded by an ATIS sensor making three
/// saccades, 34×34 pixels, about 300 ms per recording.
///
/// File format (`.bin`, no header): 5 bytes per event, big-endian bit fields
///
///     byte 0: x (0–33)   byte 1: y (0–33)
///     byte 2: bit 7 polarity (1 = ON, 0 = OFF), bits 6…0 timestamp bits 22…16
///     bytes 3–4: timestamp bits 15…0                       (µs, 23 bits: up to 8.39 s)
///
/// Layout: `{root}/Train/{d}/NNNNN.bin` and `{root}/Test/{d}/NNNNN.bin`, d = 0…9 the label.
public enum NMNIST {
    public static let sensor = SensorSize(width: 34, height: 34)
    /// The largest timestamp 23 bits hold (µs).
    public static let maxTimestamp: Int64 = (1 << 23) - 1

    public static func read(_ url: URL) throws -> DVSEvents {
        try decode(try _FileBytes.read(url), source: url.path)
    }

    /// Decodes N-MNIST bytes; `source` names them in errors. Refuses a length that is not a
    /// multiple of 5, coordinates outside `sensor` (34×34 for N-MNIST) and a timestamp
    /// earlier than the one before it (`.timestampJump`, naming the event's byte offset):
    /// the published recordings are written in time order, and everything downstream
    /// (duration, time windows, slices) relies on it. Origin top-left, ON = 1.
    public static func decode(_ bytes: [UInt8], source: String, sensor: SensorSize = sensor) throws -> DVSEvents {
        guard bytes.count % 5 == 0 else {
            throw EventIOError.truncated(file: source, offset: bytes.count - bytes.count % 5,
                                         detail: "\(bytes.count) bytes is not a whole number of 5-byte N-MNIST events")
        }
        let n = bytes.count / 5
        var events = DVSEvents(sensor: sensor)
        events.t.reserveCapacity(n); events.x.reserveCapacity(n); events.y.reserveCapacity(n); events.polarity.reserveCapacity(n)
        for i in 0..<n {
            let b = 5 * i
            let x = bytes[b], y = bytes[b + 1]
            guard Int(x) < sensor.width, Int(y) < sensor.height else {
                throw EventIOError.addressOutOfRange(file: source, offset: b,
                                                     detail: "event \(i) at (\(x), \(y)) is outside the \(sensor) sensor")
            }
            let t = Int64(bytes[b + 2] & 0x7F) << 16 | Int64(bytes[b + 3]) << 8 | Int64(bytes[b + 4])
            if let previous = events.t.last, t < previous {
                throw EventIOError.timestampJump(file: source, offset: b,
                                                 detail: "event \(i) at \(t) µs is earlier than the event before it (\(previous) µs); "
                                                 + "N-MNIST-format recordings are in time order")
            }
            events.x.append(UInt16(x)); events.y.append(UInt16(y))
            events.polarity.append(bytes[b + 2] >> 7)
            events.t.append(t)
        }
        return events
    }

    /// The bytes of `events` in the N-MNIST format; throws when an event does not fit
    /// (coordinates outside 34×34, timestamps outside 0…2²³ − 1 µs).
    public static func encode(_ events: DVSEvents, source: String = "N-MNIST", sensor: SensorSize = sensor) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(5 * events.count)
        for i in 0..<events.count {
            let x = events.x[i], y = events.y[i], t = events.t[i]
            guard Int(x) < sensor.width, Int(y) < sensor.height, (0...maxTimestamp).contains(t) else {
                throw EventIOError.unencodable(file: source, detail: "event \(i) (x \(x), y \(y), t \(t) µs) does not fit "
                                               + "\(sensor) pixels and 23-bit µs timestamps")
            }
            guard i == 0 || t >= events.t[i - 1] else {
                throw EventIOError.unencodable(file: source, detail: "event \(i) at \(t) µs is earlier than the event before it: "
                                               + "the format holds events in time order")
            }
            bytes += [UInt8(x), UInt8(y), (events.polarity[i] != 0 ? 0x80 : 0) | UInt8((t >> 16) & 0x7F),
                      UInt8((t >> 8) & 0xFF), UInt8(t & 0xFF)]
        }
        return bytes
    }

    /// Writes `events` to `url` atomically.
    public static func write(_ events: DVSEvents, to url: URL, sensor: SensorSize = sensor) throws {
        try _FileBytes.writeAtomically(try encode(events, source: url.path, sensor: sensor), to: url)
    }
}

/// One recording of an N-MNIST folder tree.
public struct NMNISTRecording: Sendable, Hashable {
    public var url: URL
    public var digit: Int
    /// `.train` for `Train/`, `.test` for `Test/`.
    public var split: Split
}

/// The unpacked N-MNIST dataset: `{root}/Train/{d}/*.bin`, `{root}/Test/{d}/*.bin`.
public struct NMNISTLayout: Sendable {
    public var root: URL
    public init(root: URL) { self.root = root }

    /// Whether `root` looks like N-MNIST (a `Train` or `Test` folder with digit folders).
    public static func looksLikeNMNIST(_ root: URL) -> Bool {
        ["Train", "Test"].contains { split in
            (0...9).contains { FileManager.default.fileExists(atPath: root.appendingPathComponent("\(split)/\($0)").path) }
        }
    }

    /// Every recording, ordered by split (train, test), digit, then file name.
    public func recordings() throws -> [NMNISTRecording] {
        var out: [NMNISTRecording] = []
        for (folder, split) in [("Train", Split.train), ("Test", Split.test)] {
            for digit in 0...9 {
                let dir = root.appendingPathComponent("\(folder)/\(digit)")
                guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { continue }
                for name in names.sorted() where name.hasSuffix(".bin") {
                    out.append(NMNISTRecording(url: dir.appendingPathComponent(name), digit: digit, split: split))
                }
            }
        }
        guard !out.isEmpty else {
            throw EventIOError.malformed(file: root.path, detail: "no N-MNIST recordings (expected Train/{0…9}/*.bin and Test/{0…9}/*.bin)")
        }
        return out
    }
}
