import SpikeTensor

/// One entry of an AEDAT 4.0 file's FTAB (the packet index dv-processing writes at
/// dataTablePosition): where a packet's body lies and what it holds.
public struct AEDAT4IndexEntry: Sendable, Equatable {
    /// File offset of the packet's body (after its 8-byte {streamID, size} header).
    public var byteOffset: Int64
    public var streamID: Int
    /// The body's size in bytes (compressed, as stored).
    public var size: Int
    /// Elements (events, for the event stream) in the packet.
    public var elements: Int64
    /// First and last timestamp in the packet, µs.
    public var timestampStart: Int64
    public var timestampEnd: Int64
}

extension AEDAT4 {
    /// The FTAB at `position` (to the end of the file): compressed like the packets, then a
    /// size-prefixed FlatBuffer "FTAB" whose field 0 is a vector of tables {ByteOffset i64,
    /// PacketInfo {i32 streamID, i32 size}, NumElements i64, TimestampStart i64,
    /// TimestampEnd i64}. Entries are returned sorted by byteOffset.
    static func readIndex(_ bytes: [UInt8], at position: Int, compression: Int, source: String) throws -> [AEDAT4IndexEntry] {
        let body = bytes[position...]
        let plain: [UInt8]
        switch compression {
        case 1, 2: plain = try _AEDAT4Frame.lz4(body, source: source, offset: position)
        case 3, 4: plain = try _AEDAT4Frame.zstd(body, source: source, offset: position)
        default: plain = Array(body)
        }
        let what = "FTAB at byte offset \(position)"
        let fb0 = _FlatBuffer(plain, base: position, source: source, what: what)
        let prefixed = Int(try fb0.u32(0))
        guard prefixed <= plain.count - 4 else {
            throw fb0.fail(0, "size prefix \(prefixed) is larger than the \(plain.count - 4) bytes after it")
        }
        let fb = _FlatBuffer(plain, start: 4, end: 4 + prefixed, base: position + 4, source: source, what: what)
        let root = try fb.root(identifier: "FTAB")
        var entries: [AEDAT4IndexEntry] = []
        for table in try fb.tableVector(root, 0) {
            let info = try fb.field(table, 1)
            entries.append(AEDAT4IndexEntry(
                byteOffset: try fb.field(table, 0).map { try fb.i64($0) } ?? 0,
                streamID: try info.map { Int(try fb.i32($0)) } ?? 0,
                size: try info.map { Int(try fb.i32($0 + 4)) } ?? 0,
                elements: try fb.field(table, 2).map { try fb.i64($0) } ?? 0,
                timestampStart: try fb.field(table, 3).map { try fb.i64($0) } ?? 0,
                timestampEnd: try fb.field(table, 4).map { try fb.i64($0) } ?? 0))
        }
        return entries.sorted { $0.byteOffset < $1.byteOffset }
    }
}
