import SpikeTensor

/// An AEDAT 4.0 **network stream** decoded as its bytes arrive: what the DV software's network
/// output server (and dv-processing's `dv.io.NetworkWriter`) sends each client.
///
/// Layout, integers little-endian — the file format without its version line and FTAB:
///
///     u32 n, an n-byte IOHeader FlatBuffer (identifier "IOHE": compression, dataTablePosition
///         −1, infoNode XML naming the streams), as in the file after "#!AER-DAT4.0\r\n"
///     packets, for as long as the connection lasts: i32 streamID, i32 size, size bytes
///         (compressed like a file's; decoded by the file reader's packet decoder)
///
/// Checked against dv-processing 2.0.4's `NetworkWriter` on loopback
/// (bench/dv_live_check.py). `feed` takes any split of the bytes — one at a time or all at
/// once gives the same events — and returns the events of the packets it completed.
/// Packets of other streams (frames, IMU, triggers) are skipped by their size. Every problem
/// is an `EventIOError` naming `source` (e.g. "tcp 127.0.0.1:7777") and the byte offset in
/// the stream; sizes are bounded, so garbage cannot make it buffer without limit.
///
/// ```swift
/// var decoder = AEDAT4StreamDecoder(source: "tcp 127.0.0.1:7777")
/// let events = try decoder.feed(chunk)        // DVSEvents, maybe empty
/// try decoder.finish()                        // at end of stream: not inside a packet
/// ```
public struct AEDAT4StreamDecoder {
    /// Largest IOHeader accepted (its XML describes a few streams: kilobytes).
    public static let headerLimit = 1 << 20
    /// Largest packet accepted, as stored (DV sends packets of a few MiB at most).
    public static let packetLimit = _AEDAT4Frame.limit

    public let source: String
    public let options: AEDAT31ReadOptions
    private var buffer: [UInt8] = []
    /// Position in `buffer` of the next unread byte; `buffer[0]` is stream byte `dropped`.
    private var position = 0
    private var dropped = 0
    private var decoder: _AEDAT4EventDecoder?
    /// Packets read, of every stream, and those of other streams skipped.
    public private(set) var packets = 0
    public private(set) var skippedPackets = 0

    public init(source: String, options: AEDAT31ReadOptions = .init()) {
        self.source = source; self.options = options
    }

    /// Bytes of the stream decoded so far (the offset of the next packet or the header).
    public var offset: Int { dropped + position }
    /// Whether the IOHeader has been read.
    public var hasHeader: Bool { decoder != nil }
    /// The event sensor, once the header is read.
    public var sensor: SensorSize? { decoder?.header.sensor }
    /// Every stream's typeIdentifier by id, once the header is read.
    public var streams: [Int: String] { decoder?.header.streams ?? [:] }
    public var eventStreamID: Int? { decoder?.header.eventStream }
    /// 0 none, 1 LZ4, 2 LZ4 high, 3 Zstd, 4 Zstd high, once the header is read.
    public var compression: Int? { decoder?.header.compression }

    /// Appends `chunk` and decodes every complete header and packet now in the buffer;
    /// returns the events of the event packets completed (in stream order).
    public mutating func feed<C: Collection>(_ chunk: C) throws -> DVSEvents where C.Element == UInt8 {
        buffer.append(contentsOf: chunk)
        defer { compact() }
        if decoder == nil {
            guard buffer.count - position >= 4 else { return DVSEvents(sensor: SensorSize(width: 0, height: 0)) }
            let length = Int(buffer.withUnsafeBytes { $0._littleEndianUInt32(at: position) })
            guard length >= 8, length <= Self.headerLimit else {
                throw EventIOError.badHeader(file: source,
                    detail: "at byte offset \(offset): IOHeader length \(length) is not 8 … \(Self.headerLimit) bytes (is this an AEDAT 4.0 stream? a file starts with #!AER-DAT4.0)")
            }
            guard buffer.count - position - 4 >= length else { return DVSEvents(sensor: SensorSize(width: 0, height: 0)) }
            let header = try _AEDAT4Header(buffer, start: position + 4, length: length, base: offset + 4,
                                           source: source, options: options)
            decoder = _AEDAT4EventDecoder(header: header, options: options, source: source)
            position += 4 + length
        }
        while buffer.count - position >= 8 {
            let (stream, size) = _aedat4PacketHeader(buffer, at: position)
            guard size >= 0, size <= Self.packetLimit else {
                throw EventIOError.malformed(file: source,
                    detail: "packet at byte offset \(offset) of stream \(stream) declares \(size) bytes (0 … \(Self.packetLimit >> 20) MiB)")
            }
            guard buffer.count - position - 8 >= size else { break }
            packets += 1
            if stream == decoder!.header.eventStream {
                _ = try decoder!.decodePacket(buffer, at: position, size: size, offset: offset)
            } else {
                skippedPackets += 1
            }
            position += 8 + size
        }
        return decoder!.take()
    }

    /// At the end of the stream: throws when it stopped inside the header or a packet.
    public func finish() throws {
        let left = buffer.count - position
        if decoder == nil {
            throw EventIOError.truncated(file: source, offset: offset,
                detail: left == 0 ? "the stream ended before its IOHeader" : "the stream ended inside its IOHeader (\(left) bytes of it)")
        }
        guard left == 0 else {
            throw EventIOError.truncated(file: source, offset: offset,
                detail: "the stream ended inside a packet (\(left) bytes of it)")
        }
    }

    /// Drops consumed bytes once they are the larger part of the buffer (amortised O(1) a byte).
    private mutating func compact() {
        guard position > 65536, position * 2 > buffer.count else { return }
        buffer.removeFirst(position)
        dropped += position
        position = 0
    }
}
