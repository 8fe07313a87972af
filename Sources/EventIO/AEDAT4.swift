import Foundation
import SpikeTensor

/// A decoded AEDAT 4.0 file: the events of its event stream plus what the reader found.
public struct AEDAT4Recording: Sendable, Equatable {
    public var events: DVSEvents
    /// 0 none, 1 LZ4, 2 LZ4 high, 3 Zstd, 4 Zstd high.
    public var compression: Int
    /// The IOHeader's infoNode (XML describing the streams).
    public var infoNode: String
    /// The event stream read (typeIdentifier EVTS), and all streams' type identifiers by id.
    public var eventStreamID: Int
    public var streams: [Int: String]
    /// Packets read (of every stream), and those of other streams that were skipped.
    public var packets: Int
    public var skippedPackets: Int
    /// Packets of each stream id (streams the infoNode lists and that sent none are absent).
    public var packetsPerStream: [Int: Int]
    /// Where the packets end: the FTAB's offset, or the file's size when there is none.
    public var packetsEnd: Int
    public var skippedInvalidAddresses: Int
    public var clampedTimestamps: Int
    /// The FTAB's entries, sorted by offset (empty when the file has none).
    public var index: [AEDAT4IndexEntry]
    /// Why the FTAB could not be used, or where it disagrees with the packets read (offset,
    /// stream, size or element count of a packet); nil when it agrees or is absent. The
    /// events never depend on the FTAB, so this is reported, not thrown.
    public var indexProblem: String?
}

/// AEDAT 4.0, the iniVation DV file format (DVXplorer, DAVIS346 with DV / dv-processing).
///
/// Layout, integers little-endian:
///
///     "#!AER-DAT4.0\r\n", u32 n, an n-byte IOHeader FlatBuffer (identifier "IOHE"):
///         compression i32 (0 none, 1 LZ4, 2 LZ4 high, 3 Zstd, 4 Zstd high)
///         dataTablePosition i64 (−1: no FTAB)   infoNode string (XML: each stream's
///         typeIdentifier EVTS/FRME/IMUS/TRIG … and sizeX/sizeY under /outInfo/<id>/info/)
///     packets until dataTablePosition (or the end): i32 streamID, i32 size, size bytes; the
///         body is one LZ4 or Zstd frame when compressed; decompressed, a size-prefixed
///         FlatBuffer; for the event stream (identifier "EVTS") a table whose field 0 is a
///         vector of 16-byte structs { i64 timestamp µs (Unix time), i16 x, i16 y, bool polarity }
///     the FTAB (packet index) at dataTablePosition, not needed to read the events.
///
/// Events: x column from the left, y row from the **top**, polarity 1 = ON (true), 0 = OFF;
/// timestamps kept as written (Unix µs, not shifted to 0). The sensor is the event stream's
/// sizeX × sizeY (or `AEDAT31ReadOptions.sensor`, whose address and time policies apply the same
/// way). With several event streams the one with the lowest id is read. Every problem is an
/// `EventIOError` naming the file and the byte offset; no trap on any input.
public enum AEDAT4 {
    public static let versionLine = "#!AER-DAT4.0"

    public static func read(_ url: URL, options: AEDAT31ReadOptions = .init()) throws -> DVSEvents {
        try readRecording(url, options: options).events
    }

    public static func readRecording(_ url: URL, options: AEDAT31ReadOptions = .init()) throws -> AEDAT4Recording {
        try decodeRecording(try _FileBytes.read(url), source: url.path, options: options)
    }

    public static func decode(_ bytes: [UInt8], source: String, options: AEDAT31ReadOptions = .init()) throws -> DVSEvents {
        try decodeRecording(bytes, source: source, options: options).events
    }

    public static func decodeRecording(_ bytes: [UInt8], source: String,
                                       options: AEDAT31ReadOptions = .init()) throws -> AEDAT4Recording {
        guard !bytes.isEmpty else { throw EventIOError.emptyFile(file: source) }
        try AEDAT.requireVersionLine(versionLine + "\r\n", in: bytes, source: source)
        // IOHeader
        let lengthAt = versionLine.utf8.count + 2
        guard bytes.count >= lengthAt + 4 else {
            throw EventIOError.truncated(file: source, offset: lengthAt, detail: "no IOHeader length")
        }
        let headerLength = Int(bytes.withUnsafeBytes { $0._littleEndianUInt32(at: lengthAt) })
        let headerStart = lengthAt + 4
        guard headerLength <= bytes.count - headerStart else {
            throw EventIOError.truncated(file: source, offset: lengthAt,
                detail: "IOHeader of \(headerLength) bytes, only \(bytes.count - headerStart) remain")
        }
        let header = try _AEDAT4Header(bytes, start: headerStart, length: headerLength, base: headerStart,
                                       source: source, options: options)
        let bodyStart = headerStart + headerLength
        let packetsEnd: Int
        let dataTable = header.dataTablePosition
        if dataTable < 0 {
            packetsEnd = bytes.count
        } else {
            guard dataTable <= Int64(bytes.count) else {
                throw EventIOError.truncated(file: source, offset: bytes.count,
                    detail: "the IOHeader's dataTablePosition is \(dataTable), beyond the file's \(bytes.count) bytes: the file is cut short")
            }
            guard dataTable >= Int64(bodyStart) else {
                throw EventIOError.malformed(file: source,
                    detail: "IOHeader at byte offset \(headerStart): dataTablePosition \(dataTable) lies inside the header (packets start at \(bodyStart))")
            }
            packetsEnd = Int(dataTable)
        }

        // Packets
        var decoder = _AEDAT4EventDecoder(header: header, options: options, source: source)
        var seen: [(offset: Int, stream: Int, size: Int, elements: Int)] = []   // every packet, in file order
        var packets = 0, skipped = 0
        var offset = bodyStart
        while offset < packetsEnd {
            guard packetsEnd - offset >= 8 else {
                throw EventIOError.truncated(file: source, offset: offset, detail: "packet header needs 8 bytes, only \(packetsEnd - offset) remain")
            }
            let (stream, size) = _aedat4PacketHeader(bytes, at: offset)
            guard size >= 0, size <= packetsEnd - offset - 8 else {
                throw EventIOError.truncated(file: source, offset: offset,
                    detail: "packet of stream \(stream) declares \(size) bytes, only \(packetsEnd - offset - 8) remain")
            }
            packets += 1
            defer { offset += 8 + size }
            seen.append((offset, stream, size, 0))
            guard stream == header.eventStream else { skipped += 1; continue }
            seen[seen.count - 1].elements = try decoder.decodePacket(bytes, at: offset, size: size, offset: offset)
        }
        let events = decoder.take()
        let compression = header.compression, eventStream = header.eventStream
        var index: [AEDAT4IndexEntry] = []
        var indexProblem: String?
        if packetsEnd < bytes.count {
            do {
                index = try readIndex(bytes, at: packetsEnd, compression: compression, source: source)
                let listed = index.map { "\($0.byteOffset):\($0.streamID):\($0.size)" }
                let read = seen.map { "\($0.offset + 8):\($0.stream):\($0.size)" }
                if listed != read {
                    indexProblem = "the FTAB lists \(index.count) packets (offset:stream:size) \(listed.prefix(4)) …, the file has \(seen.count): \(read.prefix(4)) …"
                } else if let bad = zip(index, seen).first(where: { $0.1.stream == eventStream && $0.0.elements != Int64($0.1.elements) }) {
                    indexProblem = "the FTAB gives the packet at byte offset \(bad.1.offset) \(bad.0.elements) elements, it holds \(bad.1.elements)"
                }
            } catch {
                indexProblem = "\(error)"
            }
        }
        return AEDAT4Recording(events: events, compression: compression, infoNode: header.infoNode, eventStreamID: eventStream,
                               streams: header.streams, packets: packets, skippedPackets: skipped,
                               packetsPerStream: Dictionary(seen.map { ($0.stream, 1) }, uniquingKeysWith: +), packetsEnd: packetsEnd,
                               skippedInvalidAddresses: decoder.skippedAddresses, clampedTimestamps: decoder.clamped,
                               index: index, indexProblem: indexProblem)
    }

    /// typeIdentifier of each stream `<node name="N" path="/outInfo/N/">` of the infoNode XML.
    static func streamTypes(_ xml: String) -> [Int: String] {
        var out: [Int: String] = [:]
        for (id, section) in streamSections(xml) {
            if let type = attribute(section, key: "typeIdentifier") { out[id] = type }
        }
        return out
    }

    /// sizeX × sizeY of stream `id`, if both are there.
    static func streamSize(_ xml: String, id: Int) -> SensorSize? {
        guard let section = streamSections(xml).first(where: { $0.0 == id })?.1,
              let w = attribute(section, key: "sizeX").flatMap({ Int($0) }),
              let h = attribute(section, key: "sizeY").flatMap({ Int($0) }) else { return nil }
        return SensorSize(width: w, height: h)
    }

    /// Each `path="/outInfo/<id>/"` with the text up to the next such path.
    static func streamSections(_ xml: String) -> [(Int, Substring)] {
        let marker = "path=\"/outInfo/"
        var starts: [(Int, String.Index)] = []
        var search = xml.startIndex
        while let r = xml.range(of: marker, range: search..<xml.endIndex) {
            search = r.upperBound
            let digits = xml[r.upperBound...].prefix { $0.isNumber }
            let after = xml.index(r.upperBound, offsetBy: digits.count)
            if !digits.isEmpty, digits.count < 10, xml[after...].hasPrefix("/\""), let id = Int(digits) {
                starts.append((id, r.lowerBound))
            }
        }
        return starts.enumerated().map { i, s in
            (s.0, xml[s.1..<(i + 1 < starts.count ? starts[i + 1].1 : xml.endIndex)])
        }
    }

    /// The text of `<attr key="KEY" …>TEXT</attr>` in `section`.
    static func attribute(_ section: Substring, key: String) -> String? {
        guard let k = section.range(of: "key=\"\(key)\""),
              let close = section[k.upperBound...].firstIndex(of: ">"),
              let end = section[close...].range(of: "</attr>") else { return nil }
        return String(section[section.index(after: close)..<end.lowerBound]).trimmingCharacters(in: .whitespaces)
    }
}
