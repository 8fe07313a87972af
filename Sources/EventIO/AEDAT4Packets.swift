import SpikeTensor

/// What an AEDAT 4.0 IOHeader says, with the event stream chosen from its infoNode XML.
/// The file (`AEDAT4`) and the network stream (`AEDAT4StreamDecoder`) both read it here.
struct _AEDAT4Header {
    /// 0 none, 1 LZ4, 2 LZ4 high, 3 Zstd, 4 Zstd high.
    var compression: Int
    /// The FTAB's offset in a file (−1: none; always −1 on the network).
    var dataTablePosition: Int64
    var infoNode: String
    /// Every stream's typeIdentifier (EVTS, FRME, IMUS, TRIG …) by stream id.
    var streams: [Int: String]
    /// The event stream read: the lowest id whose typeIdentifier is EVTS.
    var eventStream: Int
    var sensor: SensorSize

    /// Parses the IOHeader FlatBuffer `bytes[start ..< start + length]` (identifier "IOHE";
    /// `base`: its offset in the file or stream, for messages): compression i32 (field 0),
    /// dataTablePosition i64 (field 1), infoNode string (field 2).
    init(_ bytes: [UInt8], start: Int, length: Int, base: Int, source: String, options: AEDAT31ReadOptions) throws {
        let header = _FlatBuffer(bytes, start: start, end: start + length, base: base, source: source, what: "IOHeader")
        let root = try header.root(identifier: "IOHE")
        compression = try header.field(root, 0).map { Int(try header.i32($0)) } ?? 0
        dataTablePosition = try header.field(root, 1).map { try header.i64($0) } ?? -1
        infoNode = String(decoding: try header.string(root, 2) ?? [], as: UTF8.self)
        guard (0...4).contains(compression) else {
            throw EventIOError.unsupportedEncoding(file: source, detail: "IOHeader compression \(compression) is not 0–4 (none, LZ4, LZ4 high, Zstd, Zstd high)")
        }
        streams = AEDAT4.streamTypes(infoNode)
        guard let events = streams.filter({ $0.value == "EVTS" }).keys.min() else {
            throw EventIOError.missingKey(file: source, key: "infoNode",
                detail: "no stream with typeIdentifier EVTS among \(streams.isEmpty ? "none" : streams.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))")
        }
        eventStream = events
        if let s = options.sensor {
            sensor = s
        } else if let s = AEDAT4.streamSize(infoNode, id: events), s.width >= 1, s.height >= 1, s.width <= 32768, s.height <= 32768 {
            sensor = s
        } else {
            throw EventIOError.missingKey(file: source, key: "/outInfo/\(events)/info/sizeX,sizeY",
                detail: "the event stream's sensor size (1–32768) is not in the infoNode; pass AEDAT31ReadOptions(sensor:)")
        }
    }
}

/// Decodes AEDAT 4.0 event packets into growing event columns: the one packet decoder the
/// file reader and the network stream reader share. Timestamps must not go backwards across
/// packets (or are clamped, per `options`); pixels outside the sensor are errors or skipped.
struct _AEDAT4EventDecoder {
    let header: _AEDAT4Header
    let options: AEDAT31ReadOptions
    let source: String
    private var ts: [Int64] = [], xs: [UInt16] = [], ys: [UInt16] = [], ps: [UInt8] = []
    private var kept = 0
    private var previous = Int64.min
    private(set) var skippedAddresses = 0, clamped = 0

    init(header: _AEDAT4Header, options: AEDAT31ReadOptions, source: String) {
        self.header = header; self.options = options; self.source = source
    }

    /// Decodes the event packet whose 8-byte header {i32 streamID, i32 size} is at `position`
    /// in `bytes` (its body follows it; `offset` is that position in the file or stream, for
    /// messages). The body is one LZ4 or Zstd frame when compressed; decompressed, a
    /// size-prefixed FlatBuffer "EVTS" whose field 0 is a vector of 16-byte structs
    /// { i64 timestamp µs, i16 x, i16 y, bool polarity }. Returns the packet's element count.
    mutating func decodePacket(_ bytes: [UInt8], at position: Int, size: Int, offset: Int) throws -> Int {
        let body = bytes[(position + 8)..<(position + 8 + size)]
        // The packet's FlatBuffer: decompressed, or in place in `bytes`.
        let plain: [UInt8], first: Int, last: Int
        switch header.compression {
        case 1, 2: plain = try _AEDAT4Frame.lz4(body, source: source, offset: offset); first = 0; last = plain.count
        case 3, 4: plain = try _AEDAT4Frame.zstd(body, source: source, offset: offset); first = 0; last = plain.count
        default: plain = bytes; first = position + 8; last = position + 8 + size
        }
        // Size-prefixed FlatBuffer: u32 size, then the buffer. Error offsets are the file's
        // (for a compressed packet: the packet's, plus the position in its frame).
        let what = "event packet at byte offset \(offset)"
        let fb0 = _FlatBuffer(plain, start: first, end: last, base: offset + 8, source: source, what: what)
        let prefixed = Int(try fb0.u32(first))
        guard prefixed <= last - first - 4 else {
            throw fb0.fail(first, "size prefix \(prefixed) is larger than the \(last - first - 4) bytes after it")
        }
        let fb = _FlatBuffer(plain, start: first + 4, end: first + 4 + prefixed, base: offset + 12, source: source, what: what)
        let table = try fb.root(identifier: "EVTS")
        let (start, count) = try fb.structVector(table, 0, stride: 16)
        // Columns grow geometrically; each packet's events are written through pointers.
        if ts.count < kept + count {
            let grown = max(kept + count, 2 * ts.count) - ts.count
            ts += repeatElement(0, count: grown); xs += repeatElement(0, count: grown)
            ys += repeatElement(0, count: grown); ps += repeatElement(0, count: grown)
        }
        let width = Int16(clamping: header.sensor.width), height = Int16(clamping: header.sensor.height)
        let sensor = header.sensor, options = options, source = source
        var kept = kept, previous = previous, skippedAddresses = skippedAddresses, clamped = clamped
        defer {
            self.kept = kept; self.previous = previous
            self.skippedAddresses = skippedAddresses; self.clamped = clamped
        }
        try plain.withUnsafeBytes { raw in
        try ts.withUnsafeMutableBufferPointer { tOut in
        try xs.withUnsafeMutableBufferPointer { xOut in
        try ys.withUnsafeMutableBufferPointer { yOut in
        try ps.withUnsafeMutableBufferPointer { pOut in
            for i in 0..<count {
                let at = start + 16 * i
                var t = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int64.self))
                let x = Int16(bitPattern: raw._littleEndianUInt16(at: at + 8))
                let y = Int16(bitPattern: raw._littleEndianUInt16(at: at + 10))
                if x < 0 || y < 0 || x >= width || y >= height {
                    if options.invalidAddresses == .skip { skippedAddresses += 1; continue }
                    throw EventIOError.addressOutOfRange(file: source, offset: offset,
                        detail: "event \(i) of the packet: pixel (x \(x), y \(y)) is outside the \(sensor) sensor")
                }
                if t < previous {
                    guard options.backwardTimestamps == .clamp else {
                        throw EventIOError.timestampJump(file: source, offset: offset,
                            detail: "event \(i) of the packet: timestamp \(t) µs after \(previous) µs")
                    }
                    t = previous; clamped += 1
                }
                previous = t
                tOut[kept] = t
                xOut[kept] = UInt16(truncatingIfNeeded: x)
                yOut[kept] = UInt16(truncatingIfNeeded: y)
                pOut[kept] = raw[at + 12] != 0 ? 1 : 0
                kept += 1
            }
        }}}}}
        return count
    }

    /// The events decoded since the last `take`, in stream order; the columns start empty again.
    mutating func take() -> DVSEvents {
        let extra = ts.count - kept
        ts.removeLast(extra); xs.removeLast(extra); ys.removeLast(extra); ps.removeLast(extra)
        let events = DVSEvents(sensor: header.sensor, t: ts, x: xs, y: ys, polarity: ps)
        ts = []; xs = []; ys = []; ps = []; kept = 0
        return events
    }
}

/// The 8-byte packet header {i32 streamID, i32 size} at `position` (8 bytes must be there).
func _aedat4PacketHeader(_ bytes: [UInt8], at position: Int) -> (stream: Int, size: Int) {
    bytes.withUnsafeBytes {
        (Int(Int32(bitPattern: $0._littleEndianUInt32(at: position))), Int(Int32(bitPattern: $0._littleEndianUInt32(at: position + 4))))
    }
}
