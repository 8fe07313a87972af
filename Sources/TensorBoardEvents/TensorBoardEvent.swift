import Foundation

/// One TensorBoard `Event` protobuf (tensorflow/core/util/event.proto), reduced to what
/// scalar logs use:
///
///     message Event   { double wall_time = 1; int64 step = 2;
///                       oneof what { string file_version = 3; Summary summary = 5; … } }
///     message Summary { repeated Value value = 1; }
///     message Value   { string tag = 1; oneof value { float simple_value = 2; … } }
///
/// Encoded by hand, fields in number order and proto3 defaults (0, "") left out, as the
/// `protobuf` package writes them, so the bytes equal those `tensorboard` writes
/// (TensorBoardEventsTests checks a fixture of bench/make_tensorboard_fixture.py).
public struct TensorBoardEvent: Equatable, Sendable {
    /// Seconds since 1970-01-01 UTC.
    public var wallTime: Double
    /// The x axis of TensorBoard's step view (epoch, batch, …).
    public var step: Int64
    /// "brain.Event:2" in a file's first event; nil in the others.
    public var fileVersion: String?
    /// The summary's scalar values (none: no summary).
    public var scalars: [Scalar]

    public struct Scalar: Equatable, Sendable {
        public var tag: String
        public var value: Float
        public init(tag: String, value: Float) { self.tag = tag; self.value = value }
    }

    public init(wallTime: Double, step: Int64 = 0, fileVersion: String? = nil, scalars: [Scalar] = []) {
        self.wallTime = wallTime; self.step = step; self.fileVersion = fileVersion; self.scalars = scalars
    }

    /// The first event of every event file.
    public static func fileVersion(wallTime: Double) -> TensorBoardEvent {
        TensorBoardEvent(wallTime: wallTime, fileVersion: "brain.Event:2")
    }

    /// The protobuf bytes.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        if wallTime != 0 {
            out.append(0x09)                                   // field 1, 64-bit
            out += TFRecord.littleEndian(wallTime.bitPattern)
        }
        if step != 0 {
            out.append(0x10)                                   // field 2, varint
            Protobuf.appendVarint(UInt64(bitPattern: step), to: &out)
        }
        if let fileVersion { Protobuf.appendBytes(field: 3, Array(fileVersion.utf8), to: &out) }
        if !scalars.isEmpty {
            var summary: [UInt8] = []
            for s in scalars {
                var value: [UInt8] = []
                if !s.tag.isEmpty { Protobuf.appendBytes(field: 1, Array(s.tag.utf8), to: &value) }
                value.append(0x15)                             // field 2, 32-bit (a oneof: written even when 0)
                value += TFRecord.littleEndian(s.value.bitPattern)
                Protobuf.appendBytes(field: 1, value, to: &summary)
            }
            Protobuf.appendBytes(field: 5, summary, to: &out)
        }
        return out
    }

    /// Decodes an event's protobuf bytes; fields other than those above are skipped.
    public init(decoding bytes: [UInt8], source: String) throws {
        self.init(wallTime: 0)
        var reader = Protobuf.Reader(bytes: bytes[...], source: source)
        while let (field, wire) = try reader.nextKey() {
            switch (field, wire) {
            case (1, 1): wallTime = Double(bitPattern: try reader.fixed64())
            case (2, 0): step = Int64(bitPattern: try reader.varint())
            case (3, 2): fileVersion = String(decoding: try reader.lengthDelimited(), as: UTF8.self)
            case (5, 2):
                var summary = Protobuf.Reader(bytes: try reader.lengthDelimited(), source: source)
                while let (f, w) = try summary.nextKey() {
                    guard f == 1, w == 2 else { try summary.skip(wire: w); continue }
                    var value = Protobuf.Reader(bytes: try summary.lengthDelimited(), source: source)
                    var tag = "", number: Float?
                    while let (vf, vw) = try value.nextKey() {
                        switch (vf, vw) {
                        case (1, 2): tag = String(decoding: try value.lengthDelimited(), as: UTF8.self)
                        case (2, 5): number = Float(bitPattern: try value.fixed32())
                        default: try value.skip(wire: vw)
                        }
                    }
                    if let number { scalars.append(Scalar(tag: tag, value: number)) }
                }
            default: try reader.skip(wire: wire)
            }
        }
    }

    /// Every event of an event file, in file order.
    public static func read(_ url: URL) throws -> [TensorBoardEvent] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TFRecordError(source: url.path, offset: 0, reason: "cannot read the file")
        }
        return try TFRecord.records(Array(data), source: url.path).map { try TensorBoardEvent(decoding: $0, source: url.path) }
    }

    /// `events.out.tfevents.<whole seconds>.<host>`: the name TensorBoard looks for
    /// ("tfevents" in it); files of one folder are read in name order.
    public static func fileName(wallTime: Double, host: String) -> String {
        "events.out.tfevents.\(Int(wallTime)).\(host)"
    }
}

/// The few protobuf wire-format pieces events need.
enum Protobuf {
    static func appendVarint(_ v: UInt64, to out: inout [UInt8]) {
        var v = v
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        out.append(UInt8(v))
    }

    /// A length-delimited field (wire type 2).
    static func appendBytes(field: Int, _ bytes: [UInt8], to out: inout [UInt8]) {
        appendVarint(UInt64(field << 3 | 2), to: &out)
        appendVarint(UInt64(bytes.count), to: &out)
        out += bytes
    }

    struct Reader {
        var bytes: ArraySlice<UInt8>
        let source: String

        func failure(_ reason: String) -> TFRecordError {
            TFRecordError(source: source, offset: bytes.startIndex, reason: "event protobuf: \(reason)")
        }

        /// The next field number and wire type; nil at the end.
        mutating func nextKey() throws -> (Int, Int)? {
            guard !bytes.isEmpty else { return nil }
            let key = try varint()
            return (Int(key >> 3), Int(key & 7))
        }

        mutating func varint() throws -> UInt64 {
            var v: UInt64 = 0, shift: UInt64 = 0
            while let b = bytes.popFirst() {
                v |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return v }
                shift += 7
                guard shift < 64 else { throw failure("a varint longer than 10 bytes") }
            }
            throw failure("a varint runs past the end")
        }

        mutating func fixed(_ n: Int) throws -> UInt64 {
            guard bytes.count >= n else { throw failure("a \(8 * n)-bit field runs past the end") }
            let v = bytes.prefix(n).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            bytes = bytes.dropFirst(n)
            return v
        }
        mutating func fixed64() throws -> UInt64 { try fixed(8) }
        mutating func fixed32() throws -> UInt32 { UInt32(try fixed(4)) }

        mutating func lengthDelimited() throws -> ArraySlice<UInt8> {
            let n = try varint()
            guard n <= UInt64(bytes.count) else { throw failure("a field of \(n) bytes runs past the end") }
            let out = bytes.prefix(Int(n))
            bytes = bytes.dropFirst(Int(n))
            return out
        }

        mutating func skip(wire: Int) throws {
            switch wire {
            case 0: _ = try varint()
            case 1: _ = try fixed64()
            case 2: _ = try lengthDelimited()
            case 5: _ = try fixed32()
            default: throw failure("unsupported wire type \(wire)")
            }
        }
    }
}
